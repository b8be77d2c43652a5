"""First run in one step: "Add a key…" opens the OpenAI profile (made for the occasion) with
the key field focused; OK stores the key in the keyring (gnome-keyring's Secret Service, private
to the test), tests the connection, and switches to the profile only when the test passed.
Real widgets (offscreen), the real Controller, the real keyring."""

import concurrent.futures

import keyring
import pytest
from fake_keys import fake_key
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from talkapp.controller import Controller
from talkapp.settings.model import Settings
from talkapp.settings.profile import SIMULATOR_PROFILE
from talkapp.settings.secrets import KEYRING_SERVICE, delete_api_key
from talkapp.ui.main.window import MainWindow

WAIT = 20_000


class AcceptingService(Controller):
    """The real controller, except that the connection test answers as OpenAI would accept
    the key: api.openai.com cannot be reached from here (no network), so success is stood in."""

    def test_connection(self, profile, api_key):
        done = concurrent.futures.Future()
        done.set_result(f"✓ Connected in 80 ms · {profile.describe()} accepted")
        self.tested = (profile.name, api_key)
        return done


@pytest.fixture
def first_run(qtbot, secret_service, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    made = []

    def start(controller_class=Controller) -> MainWindow:
        controller = controller_class(Settings(), lambda _event: None)
        window = MainWindow(Settings(), controller)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append(controller)
        return window

    delete_api_key("openai")
    yield start
    delete_api_key("openai")
    for controller in made:
        controller.shutdown()


def add_a_key(qtbot, window: MainWindow, key: str):
    banner = window.banners.get("welcome")
    assert [b.text() for b in banner.buttons] == ["&Add a key…"]
    qtbot.mouseClick(banner.buttons[0], Qt.MouseButton.LeftButton)
    dialog = window.settings_dialog
    profiles = dialog.profiles
    assert profiles.profiles()[profiles.current_row()].name == "OpenAI"  # made for the key
    assert profiles.profiles()[profiles.current_row()].provider == "openai"
    qtbot.waitUntil(lambda: QApplication.focusWidget() is profiles.key.field, timeout=WAIT)
    assert profiles.key.field.isEnabled()  # not the simulator's greyed-out "not needed"
    qtbot.keyClicks(QApplication.focusWidget(), key)
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    return dialog


def test_a_key_that_works_is_stored_tested_and_switched_to(qtbot, first_run):
    window = first_run(AcceptingService)
    key = fake_key("first-run-0123456789abcdef")
    add_a_key(qtbot, window, key)
    qtbot.waitUntil(lambda: window.settings_dialog is None, timeout=WAIT)  # closed by itself
    assert keyring.get_password(KEYRING_SERVICE, "openai") == key
    assert window._controller.tested == ("OpenAI", key)  # tested with the stored key
    assert window.settings.active == "OpenAI" and window.header.profiles.currentText() == "OpenAI"


def test_a_key_that_fails_its_test_is_kept_but_not_switched_to(qtbot, first_run):
    window = first_run()  # the real test: api.openai.com cannot be reached from here
    key = fake_key("first-run-fedcba9876543210")
    dialog = add_a_key(qtbot, window, key)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT)
    assert dialog.error.text().startswith("⚠ Not switched to “OpenAI”: ")
    assert keyring.get_password(KEYRING_SERVICE, "openai") == key  # stored all the same
    assert window.settings_dialog is dialog and window.settings.active == SIMULATOR_PROFILE
