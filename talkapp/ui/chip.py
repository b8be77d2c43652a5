"""A small rounded label: the connection state (with a coloured dot) or the model and dialect."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from talkapp.ui import colors

_DOTS = {"ok": colors.OK, "busy": colors.WARNING, "error": colors.ERROR}  # "off": the text colour


class Chip(QLabel):
    def __init__(self, name: str, dot: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = "off"
        self._dot = dot
        self.setAccessibleName(name)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        height = self.fontMetrics().height()
        self.setContentsMargins(round(height * 1.3) if dot else 10, 3, 10, 3)

    def set(self, text: str, kind: str = "off") -> None:
        self.kind = kind
        self.setText(text)
        self.setAccessibleDescription(text)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        hue = _DOTS.get(self.kind, palette.color(QPalette.ColorRole.Highlight))
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colors.tint(palette, hue, 0.16 if self._dot else 0.14))
        painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        if self._dot:
            dot = _DOTS.get(self.kind, colors.muted(palette))
            painter.setBrush(dot)
            r = self.fontMetrics().height() / 4
            painter.drawEllipse(
                QPointF(rect.left() + self.fontMetrics().height() * 0.7, rect.center().y()), r, r
            )
        painter.end()
        super().paintEvent(event)
