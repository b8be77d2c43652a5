"""The app's two palettes (light and dark) and the colours derived from a palette, so both
themes read well.

Semantic hues (error red, warning amber, ok green) are only ever *mixed into* palette colours,
never used as a background or text colour on their own. Every pair of colours the app draws
text or a focus ring with meets WCAG AA in both palettes (tests/test_theme.py computes them).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

ERROR = QColor(217, 48, 37)
WARNING = QColor(230, 145, 0)
OK = QColor(30, 160, 80)


R = QPalette.ColorRole
# Role -> colour, for the Active and Inactive groups; DISABLED for the greyed-out text.
LIGHT: dict[QPalette.ColorRole, str] = {
    R.Window: "#f3f3f3",
    R.WindowText: "#1b1b1b",
    R.Base: "#ffffff",
    R.AlternateBase: "#f0f0f0",
    R.Text: "#1b1b1b",
    R.Button: "#e8e8e8",
    R.ButtonText: "#1b1b1b",
    R.BrightText: "#ffffff",
    R.Highlight: "#1d5fae",
    R.HighlightedText: "#ffffff",
    R.PlaceholderText: "#5c5c5c",
    R.ToolTipBase: "#ffffe6",
    R.ToolTipText: "#1b1b1b",
    R.Link: "#1a55a0",
    R.LinkVisited: "#6a3d9a",
    R.Light: "#ffffff",
    R.Midlight: "#e3e3e3",
    R.Mid: "#b4b4b4",
    R.Dark: "#8f8f8f",
    R.Shadow: "#5a5a5a",
}
DARK: dict[QPalette.ColorRole, str] = {
    R.Window: "#1b1c1f",
    R.WindowText: "#e8e8e8",
    # Fields lighter than the window: Fusion outlines them in a darker window colour, which
    # on a field darker than the window (radio buttons, line edits) vanished.
    R.Base: "#2a2c31",
    R.AlternateBase: "#313339",
    R.Text: "#e8e8e8",
    R.Button: "#2e3034",
    R.ButtonText: "#e8e8e8",
    R.BrightText: "#ffffff",
    R.Highlight: "#8dc0f6",
    R.HighlightedText: "#0d1117",
    R.PlaceholderText: "#a6a6a6",
    R.ToolTipBase: "#2e3034",
    R.ToolTipText: "#e8e8e8",
    R.Link: "#8ab8f0",
    R.LinkVisited: "#c29cf0",
    R.Light: "#45474c",
    R.Midlight: "#3a3c40",
    R.Mid: "#55585e",  # the level meters' track edge: it shows on the dark window
    R.Dark: "#141518",
    R.Shadow: "#000000",
}
DISABLED_TEXT = {"light": "#8c8c8c", "dark": "#7a7a7a"}  # WCAG exempts disabled controls


def palette(dark: bool) -> QPalette:
    """The app's light or dark palette (the Fusion style draws every control from it)."""
    roles = DARK if dark else LIGHT
    result = QPalette()
    for role, colour in roles.items():
        result.setColor(role, QColor(colour))
    disabled = QColor(DISABLED_TEXT["dark" if dark else "light"])
    for role in (R.WindowText, R.Text, R.ButtonText, R.PlaceholderText):
        result.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return result


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1 … 21)."""
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(c: QColor) -> float:
    def linear(x: float) -> float:
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(x) for x in _rgb(c))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`amount` of `b` over `a` (0: a, 1: b)."""
    return QColor.fromRgbF(*(x + (y - x) * amount for x, y in zip(_rgb(a), _rgb(b), strict=True)))


def _rgb(c: QColor) -> tuple[float, float, float]:
    return c.redF(), c.greenF(), c.blueF()


def tint(palette: QPalette, hue: QColor, amount: float = 0.18) -> QColor:
    """A background: the window colour with a little of `hue`."""
    return mix(palette.color(QPalette.ColorRole.Window), hue, amount)


def accent_text(palette: QPalette, hue: QColor) -> QColor:
    """Text in `hue`, pulled towards the text colour so it keeps its contrast in both themes
    (further on dark: the hues are saturated mid-tones, too dark on a dark field)."""
    return mix(
        hue, palette.color(QPalette.ColorRole.WindowText), 0.45 if is_dark(palette) else 0.25
    )


def muted(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorRole.PlaceholderText)


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
