"""The header: the app's name, the profile picker, the model and dialect in use, the connection
state, and the Connect/Disconnect, Compare and Settings buttons.

On one line when the window is wide enough; narrower (640 px), the two chips move to a second
line, so that nothing is cut."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from talkapp.ui.chip import Chip


class Header(QWidget):
    profile_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(4)
        layout = self._top = QHBoxLayout()
        self._second = QHBoxLayout()
        rows.addLayout(layout)
        rows.addLayout(self._second)
        title = QLabel("TalkApp")
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        title.setFont(font)
        layout.addWidget(title)
        layout.addSpacing(8)
        label = QLabel("&Profile:")
        self.profiles = QComboBox()
        self.profiles.setAccessibleName("Profile")
        self.profiles.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        label.setBuddy(self.profiles)
        layout.addWidget(label)
        layout.addWidget(self.profiles)
        self.model = Chip("Model and dialect")
        self.model.setToolTip("The model, and the protocol dialect TalkApp speaks to it")
        self.state = Chip("Connection", dot=True)
        self.chips = QWidget()  # the model and the state: on the first line, or the second
        chips = QHBoxLayout(self.chips)
        chips.setContentsMargins(0, 0, 0, 0)
        for chip in (self.model, self.state):
            chip.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            chips.addWidget(chip)
        layout.addWidget(self.chips)
        self._chips_at = layout.indexOf(self.chips)
        self.two_lines = False
        layout.addStretch(1)
        self.connect_button = QPushButton("&Connect")
        # no Alt key: its letters are the Reconnect, Copy and Profile ones; Tab reaches it
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip(
            "Run one utterance through several models and dialects, side by side"
        )
        self.settings_button = QPushButton("&Settings…")
        layout.addWidget(self.connect_button)
        layout.addWidget(self.compare_button)
        layout.addWidget(self.settings_button)
        self.profiles.activated.connect(self._chosen)

    def set_profiles(self, names: list[str], active: str) -> None:
        self.profiles.blockSignals(True)
        self.profiles.clear()
        self.profiles.addItems(names)
        self.profiles.setCurrentIndex(max(0, names.index(active) if active in names else 0))
        self.profiles.blockSignals(False)

    def minimumSizeHint(self) -> QSize:
        """As narrow as two lines allow, whichever is shown now: the window may shrink to it
        and the chips then move down (`_reflow`)."""
        hint = super().minimumSizeHint()
        chips = self.chips.minimumSizeHint().width()
        top = self._top.minimumSize().width()
        if not self.two_lines:
            top -= chips + self._top.spacing()
        return QSize(max(top, chips), hint.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def _reflow(self) -> None:
        """Chips on the second line when the first would not hold them whole."""
        others = self._top.sizeHint().width() - (
            0 if self.two_lines else self.chips.sizeHint().width()
        )
        one_line = others + self.chips.sizeHint().width() + self._top.spacing() <= self.width()
        if one_line == (not self.two_lines):
            return
        self.two_lines = not one_line
        if self.two_lines:
            self._top.removeWidget(self.chips)
            self._second.addWidget(self.chips)
            self._second.addStretch(1)
        else:
            self._second.removeWidget(self.chips)
            while self._second.count():
                self._second.takeAt(0)
            self._top.insertWidget(self._chips_at, self.chips)

    def set_connected(self, connected: bool) -> None:
        """The button offers the other action."""
        self.connect_button.setText("&Disconnect" if connected else "&Connect")

    def _chosen(self, index: int) -> None:
        self.profile_chosen.emit(self.profiles.itemText(index))
