"""A microphone the system gives no sound from, in the real window (offscreen): the banner
names the fix and its button opens the system's privacy page; sound coming back clears it.

The page is opened through Qt's own `QDesktopServices`; a URL handler registered for its
scheme (Qt's documented hook for this) receives it here instead of the system, which this
machine (Linux) has no such page for anyway."""

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from test_ui_main import WAIT

from talkapp.app import DesktopApp
from talkapp.platform import microphone
from talkapp.session import engine_events as out
from talkapp.settings.model import Settings
from talkapp.settings.store import SettingsStore
from talkapp.ui.accessibility import clashing_mnemonics


@pytest.fixture
def app(qtbot, tmp_path):
    """The app as `talkapp` builds it, not connected (no sound server needed)."""
    store = SettingsStore(tmp_path / "config")
    store.save(Settings())
    desktop_app = DesktopApp(store)
    qtbot.addWidget(desktop_app.window)
    desktop_app.window.show()
    qtbot.waitExposed(desktop_app.window)
    yield lambda: desktop_app
    desktop_app.shutdown()


class Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def opened():
    receiver = Opened()
    schemes = ("x-apple.systempreferences", "ms-settings")
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, receiver, "open")
    yield receiver
    for scheme in schemes:
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("darwin", "x-apple.systempreferences:com.apple.preference.security?Privacy_Microphone"),
        ("win32", "ms-settings:privacy-microphone"),
    ],
)
def test_a_silent_microphone_banner_opens_the_systems_privacy_page(
    qtbot, app, opened, platform, url
):
    window = app().window
    window.platform = platform
    text = microphone.silent_text(platform)
    window.on_event(out.Notice("warning", text, out.MICROPHONE))
    banner = window.banners.get("microphone")
    qtbot.waitUntil(banner.isVisible, timeout=WAIT)
    assert banner.text == text
    assert [b.text() for b in banner.buttons] == ["Open privacy settings…"]
    banner.buttons[0].click()
    assert opened.urls == [url]
    assert clashing_mnemonics(window) == {}


def test_on_linux_the_banner_gives_advice_and_the_audio_settings(qtbot, app, opened):
    window = app().window
    window.platform = "linux"
    window.on_event(out.Notice("warning", microphone.silent_text("linux"), out.MICROPHONE))
    banner = window.banners.get("microphone")
    qtbot.waitUntil(banner.isVisible, timeout=WAIT)
    assert "muted" in banner.text
    assert [b.text() for b in banner.buttons] == ["Audio settings…"]
    banner.buttons[0].click()
    assert opened.urls == []  # no system page: the app's own audio settings instead
    assert window.settings_dialog is not None and window.settings_dialog.isVisible()


def test_sound_coming_back_clears_the_banner(qtbot, app):
    window = app().window
    window.platform = "darwin"
    window.on_event(out.Notice("warning", microphone.silent_text("darwin"), out.MICROPHONE))
    qtbot.waitUntil(window.banners.get("microphone").isVisible, timeout=WAIT)
    window.on_event(out.Notice("info", microphone.SOUND_BACK_TEXT, out.MICROPHONE))
    assert window.banners.get("microphone") is None


def test_a_refusal_by_macos_is_an_error_banner_with_the_same_fix(qtbot, app, opened):
    window = app().window
    window.platform = "darwin"
    text = microphone.refused_text(microphone.DENIED)
    window.on_event(out.Notice("error", text, out.MICROPHONE))
    banner = window.banners.get("microphone")
    qtbot.waitUntil(banner.isVisible, timeout=WAIT)
    assert banner.level == "error" and "macOS denied" in banner.text
    banner.buttons[0].click()
    assert opened.urls == [microphone.PRIVACY_SETTINGS_URL["darwin"]]
