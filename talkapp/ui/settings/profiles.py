"""The Profiles tab: the list on the left (add, duplicate, remove, use), the selected profile's
fields, API key and connection test on the right.

The page keeps its own working copy of the profiles; nothing reaches the app until the dialog
saves. Which profile is in use is remembered by position, so renaming it keeps it in use.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile, simulator_profile
from talkapp.settings.secrets import SessionKeys
from talkapp.ui.narrow import form_label, present
from talkapp.ui.settings.key import ApiKeyBox
from talkapp.ui.settings.profile_form import ProfileForm
from talkapp.ui.settings.rules import is_builtin, key_entry, new_key_name, unique_name
from talkapp.ui.tasks import Tasks


class ProfilesPage(QWidget):
    edited = Signal()

    def __init__(
        self,
        settings: Settings,
        controller,
        tasks: Tasks,
        session_keys: SessionKeys,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._profiles: list[ProviderProfile] = list(settings.profiles) or [simulator_profile()]
        names = [p.name for p in self._profiles]
        self._active = names.index(settings.active) if settings.active in names else 0

        self.list = QListWidget()
        self.list.setAccessibleName("Profiles")
        self.list.setToolTip("Your profiles; Ins adds one, Del removes the selected one.")
        self.list.setMinimumWidth(190)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Add and Remove are the list's Ins and Del keys (their letters belong to fields).
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add a profile (Ins in the list).")
        self.duplicate_button = QPushButton("Dupli&cate")
        self.duplicate_button.setToolTip("Copy the selected profile, to change a setting or two.")
        self.remove_button = QPushButton("Remove")
        self.use_button = QPushButton("Use for tal&king")
        self.use_button.setToolTip("The profile the main window connects with.")
        self.add_button.clicked.connect(self._add)
        self.duplicate_button.clicked.connect(self._duplicate)
        self.remove_button.clicked.connect(self._remove)
        self.use_button.clicked.connect(self._use)
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.Delete),
            self.list,
            self._remove,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        QShortcut(
            QKeySequence("Ins"), self.list, self._add, context=Qt.ShortcutContext.WidgetShortcut
        )

        self.form = ProfileForm()
        self.key = ApiKeyBox(tasks, controller, self.form.profile, session_keys)
        self.form.layout_.addRow("API key:", self.key)
        form_label(self.form.layout_, self.key).setBuddy(self.key.field)
        self.form.steady_labels()
        self.form.edited.connect(self._form_edited)

        buttons = QHBoxLayout()
        for b in (self.add_button, self.duplicate_button, self.remove_button):
            buttons.addWidget(b)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(buttons)
        left.addWidget(self.use_button)
        holder = QWidget()  # the form at its natural height; spare room stays below it
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.form)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # The vertical bar's room is always kept, and the form never narrower than its fields:
        # a bar that came and went with a provider's or dialect's extra rows narrowed the form,
        # cutting the fields' right edge and re-wrapping (moving) every note.
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        # Not a Tab stop of its own (a nameless one); it scrolls to whichever field has focus.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        bar = present(scroll.verticalScrollBar(), "scroll bar")
        scroll.setMinimumWidth(holder.minimumSizeHint().width() + bar.sizeHint().width())
        self.form_scroll = scroll
        layout = QHBoxLayout(self)
        layout.addLayout(left, 0)
        layout.addWidget(scroll, 1)

        for _ in self._profiles:
            self.list.addItem(QListWidgetItem())
        self._label_all()
        self.list.currentRowChanged.connect(self._selected)
        self.list.setCurrentRow(self._active)

    # ---- what the dialog reads ----

    def profiles(self) -> list[ProviderProfile]:
        return list(self._profiles)

    def active_name(self) -> str:
        return self._profiles[self._active].name

    def current_row(self) -> int:
        return self.list.currentRow()

    def open_for_key(self, name: str | None = None) -> str:
        """ "Add a key…": the profile `name`, else the first OpenAI profile (made when there is
        none), shown with its key field focused; returns its name."""
        row = next(
            (
                i
                for i, p in enumerate(self._profiles)
                if p.name == name or (name is None and p.provider == "openai" and p.needs_key)
            ),
            None,
        )
        if row is None:
            self._insert(
                ProviderProfile(
                    name=unique_name("OpenAI", {p.name for p in self._profiles}),
                    key_name=new_key_name({p.key_name for p in self._profiles}),
                )
            )
            row = len(self._profiles) - 1
        self.list.setCurrentRow(row)
        self.key.field.setFocus()
        return self._profiles[row].name

    def use(self, name: str) -> None:
        """Make the profile `name` the one the main window talks with."""
        self.list.setCurrentRow([p.name for p in self._profiles].index(name))
        self._use()

    def select(self, row: int, field: str = "name") -> None:
        self.list.setCurrentRow(row)
        self.form.focus_field(field)

    # ---- list ----

    def _selected(self, row: int) -> None:
        if row < 0:
            return
        profile = self._profiles[row]
        self.form.show_profile(profile)
        self.key.show_for(profile, self._sharing(row))
        self.remove_button.setEnabled(not is_builtin(profile))
        self.remove_button.setToolTip(
            "The built-in offline profile cannot be removed."
            if is_builtin(profile)
            else "Remove this profile (Del in the list)."
        )
        self._show_use(row)

    def _form_edited(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        profile = self.form.profile()
        entry = key_entry(profile, self._profiles[row], {p.key_name for p in self._profiles})
        if entry != profile.key_name:  # was offline, or changed provider: a key entry of its own
            profile = dataclasses.replace(profile, key_name=entry)
            self.form.rebase(profile)
        self._profiles[row] = profile
        self.key.retarget(profile, self._sharing(row))
        self._label(row)
        self.edited.emit()

    def _add(self) -> None:
        taken = {p.name for p in self._profiles}
        profile = ProviderProfile(
            name=unique_name("New profile", taken),
            key_name=new_key_name({p.key_name for p in self._profiles}),
        )
        self._insert(profile)

    def _duplicate(self) -> None:
        row = self.list.currentRow()
        original = self._profiles[row]
        copy = dataclasses.replace(
            original, name=unique_name(f"{original.name} (copy)", {p.name for p in self._profiles})
        )
        self._insert(copy)  # same key entry: same account, another model or voice

    def _insert(self, profile: ProviderProfile) -> None:
        self._profiles.append(profile)
        self.list.addItem(QListWidgetItem())
        self._label(len(self._profiles) - 1)
        self.list.setCurrentRow(len(self._profiles) - 1)
        self.form.focus_field("name")
        self.edited.emit()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if row < 0 or is_builtin(self._profiles[row]):
            return
        del self._profiles[row]
        if self._active == row:  # the offline profile takes over: it always works
            self._active = next((i for i, p in enumerate(self._profiles) if is_builtin(p)), 0)
        elif self._active > row:
            self._active -= 1
        self.list.blockSignals(True)
        self.list.takeItem(row)
        self.list.blockSignals(False)
        self._label_all()
        self.list.setCurrentRow(min(row, len(self._profiles) - 1))
        self._selected(self.list.currentRow())
        self.edited.emit()

    def _use(self) -> None:
        self._active = self.list.currentRow()
        self._label_all()
        self._show_use(self._active)
        self.edited.emit()

    def _show_use(self, row: int) -> None:
        in_use = row == self._active
        self.use_button.setEnabled(not in_use)
        self.use_button.setText("In use for talking" if in_use else "Use for tal&king")

    def _sharing(self, row: int) -> list[str]:
        key_name = self._profiles[row].key_name
        return [
            p.name
            for i, p in enumerate(self._profiles)
            if i != row and p.needs_key and p.key_name == key_name
        ]

    def _label_all(self) -> None:
        for row in range(len(self._profiles)):
            self._label(row)

    def _label(self, row: int) -> None:
        profile, item = self._profiles[row], self.list.item(row)
        text = f"{profile.name or '(no name)'} · {profile.model}"
        font = QFont(self.list.font())
        font.setBold(row == self._active)
        item.setText(("✓ " if row == self._active else "") + text)
        item.setData(
            Qt.ItemDataRole.AccessibleTextRole, text + (", in use" if row == self._active else "")
        )
        item.setFont(font)
        item.setToolTip(profile.describe() if profile.model.strip() else profile.name)
