"""Push-to-talk or hands-free, and for hands-free who decides that you finished speaking; the
chosen mode explained in one line under the switch."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from talkapp.session.turns import Mode

PUSH_TO_TALK_MEANS = "Hold the button or its key while you talk; nothing is sent otherwise."
VAD_KINDS = (  # (shown, mode, what it means)
    ("Server VAD", Mode.SERVER_VAD, "The service ends your turn after a short silence."),
    (
        "Semantic VAD",
        Mode.SEMANTIC_VAD,
        "The service ends your turn when what you said sounds finished.",
    ),
    (
        "Local VAD",
        Mode.LOCAL_VAD,
        "TalkApp ends your turn after a short silence, before sending any audio.",
    ),
)


class ModeSwitch(QWidget):
    mode_changed = Signal(str)  # a Mode value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout()
        column.addLayout(layout)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.explanation.setAccessibleName("What this mode does")
        self.explanation.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        column.addWidget(self.explanation)
        self.push_to_talk = QPushButton("P&ush-to-talk")
        self.push_to_talk.setToolTip("Talk while you hold the button or its key.")
        self.hands_free = QPushButton("Hands-&free")  # Alt+H is the History button
        self.hands_free.setToolTip(
            "Just talk; the microphone stays open and your turn ends when you stop."
        )
        # No QButtonGroup (`_clicked` keeps one checked): in a group Qt lets only the checked
        # button take Tab (the radio buttons' arrow-key way), and Tab must reach both.
        for button in (self.push_to_talk, self.hands_free):
            button.setCheckable(True)
            button.clicked.connect(lambda _checked, b=button: self._clicked(b))
            layout.addWidget(button)
        self.vad = QComboBox()
        self.vad.setAccessibleName("Turn detection")
        self.vad.setToolTip("Who ends your turn in hands-free; kept in the profile")
        for index, (shown, mode, meaning) in enumerate(VAD_KINDS):
            self.vad.addItem(shown, mode.value)
            self.vad.setItemData(index, meaning, Qt.ItemDataRole.ToolTipRole)
        layout.addWidget(self.vad)
        layout.addStretch(1)
        self.set_mode(Mode.PUSH_TO_TALK.value)
        self.vad.activated.connect(self._changed)

    @property
    def mode(self) -> str:
        return Mode.PUSH_TO_TALK.value if self.push_to_talk.isChecked() else self.vad.currentData()

    def set_mode(self, mode: str, vad: str | None = None) -> None:
        """Show `mode` (no signal); `vad`: the hands-free VAD the list shows (the mode's own
        when hands-free)."""
        hands_free = Mode(mode).hands_free
        self.hands_free.setChecked(hands_free)
        self.push_to_talk.setChecked(not hands_free)
        shown = mode if hands_free else vad
        if shown is not None:
            self.vad.setCurrentIndex(self.vad.findData(shown))
        self._show_checked()

    def _show_checked(self) -> None:
        """The chosen mode in the accent colour (styles that draw buttons from the palette,
        such as Fusion, show a checked button only faintly)."""
        self.vad.setEnabled(self.hands_free.isChecked())
        self.explanation.setText(
            str(VAD_KINDS[self.vad.currentIndex()][2])
            if self.hands_free.isChecked()
            else PUSH_TO_TALK_MEANS
        )
        for button in (self.push_to_talk, self.hands_free):
            palette = QPalette()  # the application's, light or dark
            if button.isChecked():
                palette.setColor(
                    QPalette.ColorRole.Button, palette.color(QPalette.ColorRole.Highlight)
                )
                palette.setColor(
                    QPalette.ColorRole.ButtonText, palette.color(QPalette.ColorRole.HighlightedText)
                )
            button.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Light ↔ dark: the checked button takes the new accent.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._show_checked()

    def _clicked(self, clicked: QPushButton) -> None:
        for button in (self.push_to_talk, self.hands_free):
            button.setChecked(button is clicked)
        self._changed()

    def _changed(self, *_args) -> None:
        self._show_checked()
        self.mode_changed.emit(self.mode)
