"""The text box: type a message, Enter (or Send) sends it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget


class MessageBox(QWidget):
    send = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("&Message:")
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Type a message and press Enter…")
        self.edit.setAccessibleName("Message")
        self.edit.setClearButtonEnabled(True)
        label.setBuddy(self.edit)
        self.button = QPushButton("S&end")
        self.button.setEnabled(False)
        layout.addWidget(label)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.edit.returnPressed.connect(self._send)
        self.button.clicked.connect(self._send)
        self.edit.textChanged.connect(self._text_changed)

    def _text_changed(self, text: str) -> None:
        self.button.setEnabled(bool(text.strip()))

    def _send(self) -> None:
        text = self.edit.text().strip()
        if text:
            self.edit.clear()
            self.send.emit(text)
