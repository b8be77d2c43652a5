"""A word-wrapped note in a form row (a warning under the dialect, what xAI leaves out …),
exactly as tall as its text at the width it is given.

A QLabel that wraps asks its layout for height-for-width; QFormLayout answers it for another
width than the one it then gives the row, leaving a blank gap under a note (or cutting its last
line). This note reports a plain height instead: its text's at its current width, updated
whenever the width changes, so the row fits the text at the next layout pass.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class Note(QLabel):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAccessibleName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(False)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:
        return False

    def text_height(self) -> int:
        """The height its text needs at its current width."""
        return self.heightForWidth(self.width()) if self.text() else 0

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.text_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.text_height())

    def setText(self, text: str) -> None:
        super().setText(text)
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # another width: another height
