"""The global hotkey's crash guard: a process that dies while its listener runs (as pynput's
macOS listener makes it die, pynput issue 511) leaves the hotkey off at the next launch, with a
message, until the person turns it on again. The crash is a real one (a child process aborts
with the guard armed); the next launch is the real app, on offscreen Qt, with no display for a
listener (so "on again" gives the usual reason instead of a hotkey)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from talkapp.app import DesktopApp
from talkapp.settings.model import HotkeySettings, Settings
from talkapp.settings.store import SettingsStore
from talkapp.ui.hotkey_guard import MARKER, HotkeyGuard, verdict

COMBO = "<ctrl>+<alt>+h"
CRASH = (
    "import os, sys, pathlib; from talkapp.ui.hotkey_guard import HotkeyGuard; "
    "HotkeyGuard(pathlib.Path(sys.argv[1])).arm(sys.argv[2]); os.abort()"
)


def test_the_decision():
    assert verdict("", None).start is False and verdict("", None).message == ""
    assert verdict("", COMBO).message == ""  # off anyway: nothing to say
    assert verdict(COMBO, None).start is True
    told = verdict(COMBO, COMBO)
    assert told.start is False
    assert COMBO in told.message and "quit unexpectedly" in told.message


def test_a_listener_that_stops_normally_leaves_nothing_behind(tmp_path):
    guard = HotkeyGuard(tmp_path)
    guard.arm(COMBO)
    assert guard.left_running() == COMBO
    guard.disarm()
    guard.disarm()
    assert guard.left_running() is None
    (tmp_path / MARKER).write_text("{not json")
    assert guard.left_running() == "the global hotkey"  # garbled still counts as left running


def test_a_process_killed_while_listening_is_remembered(tmp_path):
    died = subprocess.run(
        [sys.executable, "-c", CRASH, str(tmp_path), COMBO], check=False, timeout=60
    )
    assert died.returncode != 0  # SIGABRT: no Python clean-up ran
    assert HotkeyGuard(tmp_path).left_running() == COMBO


@pytest.fixture
def no_display(monkeypatch):
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(key, raising=False)


def test_the_next_launches_keep_it_off_until_the_person_turns_it_on(qtbot, tmp_path, no_display):
    folder = tmp_path / "config"
    store = SettingsStore(folder)
    store.save(Settings(hotkeys=HotkeySettings(global_push_to_talk=COMBO)))
    subprocess.run([sys.executable, "-c", CRASH, str(folder), COMBO], check=False, timeout=60)

    for _launch in range(2):  # not restarted at every launch
        app = DesktopApp(store)
        qtbot.addWidget(app.window)
        banner = app.window.banners.get("hotkey")
        assert banner is not None and "quit unexpectedly" in banner.text
        assert app._hotkey is None
        app.shutdown()
        assert HotkeyGuard(folder).left_running() == COMBO

    app = DesktopApp(store)
    qtbot.addWidget(app.window)
    again = app.window.banners.get("hotkey")
    again.buttons[0].click()  # "Turn it on again"
    assert HotkeyGuard(folder).left_running() is None  # the listener failed normally here
    now = app.window.banners.get("hotkey")
    assert now is not None and "no X display" in now.text
    app.shutdown()
