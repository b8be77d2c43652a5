"""The header: the app's name, the profile picker, the model and dialect in use, the connection
state, and the Connect/Disconnect, Compare and Settings buttons."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from talkapp.ui.chip import Chip


class Header(QWidget):
    profile_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
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
        for chip in (self.model, self.state):
            chip.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            layout.addWidget(chip)
        layout.addStretch(1)
        self.connect_button = QPushButton("&Connect")
        self.compare_button = QPushButton("Compa&re…")
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

    def set_connected(self, connected: bool) -> None:
        """The button offers the other action."""
        self.connect_button.setText("&Disconnect" if connected else "&Connect")

    def _chosen(self, index: int) -> None:
        self.profile_chosen.emit(self.profiles.itemText(index))
