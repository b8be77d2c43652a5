"""A small label: the model and dialect (on a rounded tint), or the connection state (a coloured
dot before plain text: no fill, so it never looks like a button)."""

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
        self.setContentsMargins(round(height * 1.1) if dot else 10, 3, 4 if dot else 10, 3)

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
        if not self._dot:
            painter.setBrush(colors.tint(palette, hue, 0.14))
            painter.drawRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        else:
            dot = _DOTS.get(self.kind, colors.muted(palette))
            painter.setBrush(dot)
            r = self.fontMetrics().height() / 4
            painter.drawEllipse(
                QPointF(rect.left() + self.fontMetrics().height() * 0.7, rect.center().y()), r, r
            )
        painter.end()
        super().paintEvent(event)
