"""The talking side of the window: the hold-to-talk button, the mode switch, the state line
(with a hint under it), the mic and speaker meters and the latency/token numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from talkapp.ui.level_meter import LevelMeter, fraction
from talkapp.ui.main.mode_switch import ModeSwitch
from talkapp.ui.main.talk_button import TalkButton


class TalkPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = TalkButton()
        self.modes = ModeSwitch()
        self.mute_button = QPushButton("Mute m&ic")
        self.mute_button.setCheckable(True)
        self.mute_button.setToolTip("Stop sending the microphone; the session stays open (Ctrl+M)")
        self.mute_button.setAccessibleName("Mute the microphone")
        self.mute_button.hide()  # hands-free only: push-to-talk sends only while held
        self.state_line = _label("State", scale=1.1)
        self.hint = _label("Hint", muted=True)
        self.hint.hide()
        self.last_reply = _label("Last reply", muted=True)
        self.session = _label("Session totals", muted=True)
        layout.addStretch(1)
        layout.addWidget(self.button, 4, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.modes, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.mute_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(6)
        layout.addWidget(self.state_line)
        layout.addWidget(self.hint)
        layout.addSpacing(6)
        layout.addLayout(self._meters())
        layout.addSpacing(6)
        layout.addWidget(self.last_reply)
        layout.addWidget(self.session)
        layout.addStretch(1)

    def _meters(self) -> QGridLayout:
        grid = QGridLayout()
        self.mic = LevelMeter("Microphone level")
        self.speaker = LevelMeter("Speaker level")
        for row, (name, meter) in enumerate((("Mic", self.mic), ("Speaker", self.speaker))):
            grid.addWidget(QLabel(name), row, 0)
            grid.addWidget(meter, row, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.setColumnStretch(1, 1)
        return grid

    def show_levels(self, mic_dbfs: float, speaker_dbfs: float) -> bool:
        """Draw the levels; whether anything still shows one (a meter falls slowly)."""
        self.mic.set_level(mic_dbfs)
        self.speaker.set_level(speaker_dbfs)
        self.button.set_ring(self.mic.value)
        return (
            self.mic.value > 0
            or self.speaker.value > 0
            or fraction(mic_dbfs) > 0
            or fraction(speaker_dbfs) > 0
        )

    def show_mute(self, hands_free: bool, muted: bool) -> None:
        self.mute_button.setVisible(hands_free)
        self.mute_button.setChecked(muted)
        self.mute_button.setText("Unmute m&ic" if muted else "Mute m&ic")

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def show_stats(self, lines: tuple[str, str]) -> None:
        self.last_reply.setText(lines[0])
        self.session.setText(lines[1])


def _label(name: str, scale: float = 1.0, muted: bool = False) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # a state line may quote the service
    label.setAccessibleName(name)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if scale != 1.0:
        font = QFont(label.font())
        font.setPointSizeF(font.pointSizeF() * scale)
        label.setFont(font)
    if muted:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label
