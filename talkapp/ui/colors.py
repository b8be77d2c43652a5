"""Colours derived from the palette, so light and dark themes both read well.

Semantic hues (error red, warning amber, ok green) are only ever *mixed into* palette colours,
never used as a background or text colour on their own.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

ERROR = QColor(217, 48, 37)
WARNING = QColor(230, 145, 0)
OK = QColor(30, 160, 80)


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`amount` of `b` over `a` (0: a, 1: b)."""
    return QColor.fromRgbF(*(x + (y - x) * amount for x, y in zip(_rgb(a), _rgb(b), strict=True)))


def _rgb(c: QColor) -> tuple[float, float, float]:
    return c.redF(), c.greenF(), c.blueF()


def tint(palette: QPalette, hue: QColor, amount: float = 0.18) -> QColor:
    """A background: the window colour with a little of `hue`."""
    return mix(palette.color(QPalette.ColorRole.Window), hue, amount)


def accent_text(palette: QPalette, hue: QColor) -> QColor:
    """Text in `hue`, pulled towards the text colour so it keeps its contrast in both themes."""
    return mix(hue, palette.color(QPalette.ColorRole.WindowText), 0.25)


def muted(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorRole.PlaceholderText)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
