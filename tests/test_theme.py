"""Dark mode and contrast: the app's two palettes meet WCAG AA for every pair of colours it
draws text or a focus ring with; the colours follow the operating system's scheme as it
changes, unless Settings → Appearance fixes one; the window and its controls take them."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from talkapp.app import DesktopApp
from talkapp.settings.model import Settings
from talkapp.settings.store import SettingsStore
from talkapp.ui import colors
from talkapp.ui.theme import Theme, wants_dark

R = QPalette.ColorRole
TEXT = 4.5  # WCAG AA, normal text
NON_TEXT = 3.0  # WCAG AA, a focus indicator or a control's edge


def used_pairs(p: QPalette) -> dict[str, tuple]:
    """(foreground, background, minimum) for every pair the app draws, where it draws it."""
    c = p.color
    accent, window, text = c(R.Highlight), c(R.Window), c(R.WindowText)
    quiet_disc = colors.mix(window, text, 0.12)  # the talk button while talking is impossible
    return {
        "window text": (text, window, TEXT),
        "field text": (c(R.Text), c(R.Base), TEXT),
        "button text": (c(R.ButtonText), c(R.Button), TEXT),
        "checked mode button, talk button": (c(R.HighlightedText), accent, TEXT),
        "talk button held": (c(R.HighlightedText), colors.mix(accent, c(R.Shadow), 0.3), TEXT),
        "talk button, quiet": (colors.mix(text, quiet_disc, 0.35), quiet_disc, TEXT),
        "hint and stats (muted)": (colors.muted(p), window, TEXT),
        "placeholder in a field": (colors.muted(p), c(R.Base), TEXT),
        "transcript error text": (colors.accent_text(p, colors.ERROR), c(R.Base), TEXT),
        "compare error text": (colors.accent_text(p, colors.ERROR), window, TEXT),
        "error banner": (text, colors.tint(p, colors.ERROR), TEXT),
        "warning banner": (text, colors.tint(p, colors.WARNING), TEXT),
        "notice banner, model chip": (text, colors.tint(p, accent, 0.14), TEXT),
        "connection chip, ok": (text, colors.tint(p, colors.OK, 0.16), TEXT),
        "connection chip, error": (text, colors.tint(p, colors.ERROR, 0.16), TEXT),
        "compare best cell": (c(R.Text), colors.mix(c(R.Base), colors.OK, 0.22), TEXT),
        "link": (c(R.Link), c(R.Base), TEXT),
        "tooltip": (c(R.ToolTipText), c(R.ToolTipBase), TEXT),
        "level meter's bar on its track": (accent, c(R.Base), NON_TEXT),
        "focus ring on the window": (accent, window, NON_TEXT),
        "focus ring on a field": (accent, c(R.Base), NON_TEXT),
        "focus ring's inner line on a checked button": (c(R.Base), accent, NON_TEXT),
    }


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_colour_pair_the_app_uses_meets_wcag_aa(qapp, dark):
    palette = colors.palette(dark)
    assert colors.is_dark(palette) is dark
    low = {
        name: round(colors.contrast(fg, bg), 2)
        for name, (fg, bg, minimum) in used_pairs(palette).items()
        if colors.contrast(fg, bg) < minimum
    }
    assert low == {}


def test_the_contrast_ratio_is_wcags():
    black, white = colors.QColor("#000000"), colors.QColor("#ffffff")
    assert colors.contrast(black, white) == pytest.approx(21.0)
    assert colors.contrast(white, white) == pytest.approx(1.0)
    assert colors.contrast(colors.QColor("#767676"), white) == pytest.approx(4.54, abs=0.01)


def test_appearance_follows_the_system_unless_one_is_chosen():
    dark, light, unknown = Qt.ColorScheme.Dark, Qt.ColorScheme.Light, Qt.ColorScheme.Unknown
    assert wants_dark("system", dark) and not wants_dark("system", light)
    assert not wants_dark("system", unknown)
    assert wants_dark("dark", light) and not wants_dark("light", dark)


@pytest.fixture
def theme(qapp):
    made = []

    def make(appearance: str) -> Theme:
        made.append(Theme(qapp, appearance))
        return made[-1]

    yield make
    for theme in made:  # the next test starts from the system's light palette
        theme.apply("light")
        theme.deleteLater()


def test_the_palette_follows_the_operating_systems_scheme_as_it_changes(qapp, theme):
    followed = theme("system")
    hints = QGuiApplication.styleHints()
    # No desktop here can switch its scheme: Qt's notification of one is sent as the OS would.
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert followed.dark and colors.is_dark(QApplication.palette())
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not followed.dark and not colors.is_dark(QApplication.palette())
    followed.apply("dark")  # the user's choice wins over the system's
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert followed.dark and colors.is_dark(QApplication.palette())


def test_choosing_dark_in_settings_turns_the_window_dark_and_is_kept(qtbot, tmp_path):
    store = SettingsStore(tmp_path / "config")
    store.save(Settings(appearance="light"))
    app = DesktopApp(store)
    try:
        window = app.window
        qtbot.addWidget(window)
        window.show()
        assert not colors.is_dark(window.palette())
        window.open_settings("appearance")
        dialog = window.settings_dialog
        assert dialog.tabs.currentWidget() is dialog.appearance
        combo = dialog.appearance.scheme
        combo.setCurrentIndex(combo.findData("dark"))
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: colors.is_dark(window.palette()), timeout=5000)
        checked = window.talk.modes.push_to_talk.palette().color(R.Button)
        assert checked == colors.palette(True).color(R.Highlight)  # the dark accent, not stale
        saved = json.loads((tmp_path / "config" / "settings.json").read_text())
        assert saved["appearance"] == "dark"
    finally:
        app.theme.apply("light")
        app.shutdown()
