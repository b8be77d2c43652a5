"""The rounded card behind a strip in the main window (a banner, an approval prompt): the
window colour with a little of a hue, and an edge with more of it, so both themes read well."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QWidget

from talkapp.ui import colors

RADIUS = 6


def paint_card(widget: QWidget, hue: QColor | None = None) -> None:
    """From `widget.paintEvent`: its card, in `hue` (None: the palette's highlight)."""
    painter = QPainter(widget)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    palette = widget.palette()
    hue = hue if hue is not None else palette.color(QPalette.ColorRole.Highlight)
    painter.setPen(colors.mix(palette.color(QPalette.ColorRole.Window), hue, 0.55))
    painter.setBrush(colors.tint(palette, hue))
    # half a pixel in, so the 1-pixel edge falls on whole pixels
    painter.drawRoundedRect(QRectF(widget.rect()).adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)
