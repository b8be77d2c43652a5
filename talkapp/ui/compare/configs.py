"""The Compare view's configurations: an editable list of specs, each checked as it is typed.

A spec is what `talkapp compare --config` takes: a saved profile's name or
`MODEL[:DIALECT][,KEY=VALUE...]`. `parse_config` decides; its message is shown as it is, under
the field while typing, and as the tooltip of a list entry that no longer parses (edited in
place, or a profile since renamed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from talkapp.compare.configs import CompareConfig, ConfigError, parse_config
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.providers import GA_MODELS, GEMINI_MODELS, PREVIEW_MODELS
from talkapp.ui import colors

HINT = (
    "Type a model id and press Enter, or pick a suggestion or a saved profile. Options follow a "
    "comma: voice=marin, reasoning=low, turn=server_vad; :beta or :ga forces a dialect."
)
EXAMPLE = "e.g. gpt-realtime-2,voice=marin or gpt-4o-realtime-preview:beta"
# Ready-made comparisons: (what the menu says, the spec it adds).
SUGGESTIONS = (
    *((f"{model}", model) for model in GA_MODELS[:3]),
    ("gpt-realtime-2 with low reasoning", "gpt-realtime-2,reasoning=low"),
    ("gpt-realtime with server VAD (the service ends the turn)", "gpt-realtime,turn=server_vad"),
    *((f"{model} (beta dialect)", f"{model}:beta") for model in PREVIEW_MODELS[:1]),
    *((f"{model} (Google, Gemini Live)", model) for model in GEMINI_MODELS[:1]),
)


class _SpecField(QLineEdit):
    """Enter adds the configuration here and goes no further: in a dialog it would also press
    the default button (Run) and lose what was typed."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


class ConfigList(QWidget):
    changed = Signal()  # entries added, removed or edited

    def __init__(
        self, saved: Sequence[ProviderProfile], base: ProviderProfile, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._saved = tuple(saved)
        self._base = base
        self.spec = _SpecField()
        self.spec.setPlaceholderText(EXAMPLE)
        self.spec.setAccessibleName("Configuration to add")
        self.spec.setClearButtonEnabled(True)
        self.add_button = QPushButton("&Add")
        self.add_button.setEnabled(False)
        self.profile_button = QToolButton()
        self.profile_button.setText("Saved &profile")
        self.profile_button.setToolTip("Add one of your saved profiles as it is")
        self.profile_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.profile_button)
        for profile in self._saved:
            menu.addAction(f"{profile.name}  ({profile.describe()})", self._adding(profile.name))
        self.profile_button.setMenu(menu)
        self.profile_button.setEnabled(bool(self._saved))
        self.suggest_button = QToolButton()
        self.suggest_button.setText("&Suggestions")
        self.suggest_button.setToolTip("Add a ready-made configuration")
        self.suggest_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        suggestions = QMenu(self.suggest_button)
        for text, spec in SUGGESTIONS:
            suggestions.addAction(text, self._adding(spec))
        self.suggest_button.setMenu(suggestions)
        self.message = QLabel(HINT)
        self.message.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Configurations")
        self.list.setToolTip("Double-click an entry to edit it")
        self.remove_button = QPushButton("Remo&ve")
        self.remove_button.setEnabled(False)

        entry = QHBoxLayout()
        entry.addWidget(self.spec, 1)
        entry.addWidget(self.add_button)
        entry.addWidget(self.suggest_button)
        entry.addWidget(self.profile_button)
        below = QHBoxLayout()
        below.addWidget(self.message, 1)
        below.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(entry)
        layout.addLayout(below)
        layout.addWidget(self.list, 1)

        self.spec.textChanged.connect(self._typed)
        self.spec.returnPressed.connect(self._add_typed)
        self.add_button.clicked.connect(self._add_typed)
        self.remove_button.clicked.connect(self.remove_selected)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemChanged.connect(self._edited)

    # ---- what the view reads ----

    def specs(self) -> list[str]:
        return [self.list.item(i).text().strip() for i in range(self.list.count())]

    def configs(self) -> list[CompareConfig]:
        """The valid entries, parsed (an invalid one is marked and skipped)."""
        found = []
        for spec in self.specs():
            try:
                found.append(parse_config(spec, self._saved, self._base))
            except ConfigError:
                pass
        return found

    def problems(self) -> list[str]:
        return [why for spec in self.specs() if (why := self.check(spec))]

    def check(self, spec: str) -> str | None:
        """None when `spec` parses, else `parse_config`'s message."""
        try:
            parse_config(spec, self._saved, self._base)
        except ConfigError as exc:
            return str(exc)
        return None

    def describe(self, spec: str) -> str:
        config = parse_config(spec, self._saved, self._base)
        return config.profile.describe()

    # ---- what the user does ----

    def _adding(self, spec: str) -> Callable[[], object]:
        """A menu entry's action: add `spec`."""
        return lambda: self.add(spec)

    def add(self, spec: str) -> bool:
        spec = spec.strip()
        if not spec or spec in self.specs():
            return False
        item = QListWidgetItem(spec)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.list.addItem(item)
        self._mark(item)
        self.changed.emit()
        return True

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def _typed(self, text: str) -> None:
        if not text.strip():
            self.add_button.setEnabled(False)
            self._say(HINT)
            return
        why = self.check(text)
        duplicate = text.strip() in self.specs()
        self.add_button.setEnabled(why is None and not duplicate)
        if why is not None:
            self._say(why, error=True)
        elif duplicate:
            self._say("Already in the list.")
        else:
            self._say(f"→ {self.describe(text)}")

    def _add_typed(self) -> None:
        if self.add_button.isEnabled() and self.add(self.spec.text()):
            self.spec.clear()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        palette = self.message.palette()
        role = QPalette.ColorRole.WindowText
        palette.setColor(
            role,
            colors.accent_text(self.palette(), colors.ERROR)
            if error
            else self.palette().color(role),
        )
        self.message.setPalette(palette)

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))

    def _edited(self, item: QListWidgetItem) -> None:
        self._mark(item)
        self.changed.emit()

    def _mark(self, item: QListWidgetItem) -> None:
        why = self.check(item.text())
        blocked = self.list.blockSignals(True)  # the marks below are changes too
        if why is None:
            item.setToolTip(self.describe(item.text()))
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
        else:
            item.setToolTip(why)
            item.setForeground(colors.accent_text(self.palette(), colors.ERROR))
        self.list.blockSignals(blocked)
