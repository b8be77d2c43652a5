"""The global hotkey against a real X server (Xvfb, the `display` fixture of
tests/display_server.py) and real key events (xdotool through XTEST, which pynput's RECORD
listener sees like a keyboard's); and, with no display, a reason instead of an exception."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the widgets need no screen; pynput does


from services import unavailable

from talkapp.ui.global_hotkey import GlobalHotkey

COMBO = "<ctrl>+<alt>+h"


@pytest.fixture
def on_display(display, monkeypatch):
    """This process on the shared Xvfb (tests/display_server.py), with no Wayland in sight."""
    if shutil.which("xdotool") is None:
        unavailable("xdotool is not installed (apt install xdotool)")
    monkeypatch.setenv("DISPLAY", display)
    for key in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(key, raising=False)
    return display


def xdotool(display: str, *args: str) -> None:
    """One retry: xdotool now and then exits 1 on a busy Xvfb without a word (seen in the full
    suite); a second failure is raised with what it printed."""
    for _attempt in (1, 2):
        done = subprocess.run(
            ["xdotool", *args],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if done.returncode == 0:
            return
    raise AssertionError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()!r}")


class Seen:
    """What the hotkey emitted, and on which thread."""

    def __init__(self, hotkey: GlobalHotkey) -> None:
        self.events: list[tuple[str, bool]] = []
        hotkey.pressed.connect(lambda: self.events.append(("pressed", _on_main_thread())))
        hotkey.released.connect(lambda: self.events.append(("released", _on_main_thread())))


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_holding_the_combo_presses_and_releasing_it_releases_on_the_main_thread(qtbot, on_display):
    hotkey = GlobalHotkey()
    seen = Seen(hotkey)
    try:
        assert hotkey.start(COMBO) is None
        assert hotkey.active
        with qtbot.waitSignal(hotkey.pressed, timeout=5000):
            xdotool(on_display, "keydown", "ctrl+alt+h")
        assert seen.events == [("pressed", True)]
        with qtbot.waitSignal(hotkey.released, timeout=5000):
            xdotool(on_display, "keyup", "ctrl+alt+h")
        assert seen.events == [("pressed", True), ("released", True)]
    finally:
        hotkey.stop()


def test_part_of_the_combo_or_another_key_does_nothing(qtbot, on_display):
    hotkey = GlobalHotkey()
    seen = Seen(hotkey)
    try:
        assert hotkey.start("<f9>") is None
        xdotool(on_display, "key", "ctrl+alt+h")  # not ours
        xdotool(on_display, "keydown", "F9")  # ours, to know the ones before were delivered
        qtbot.waitUntil(lambda: bool(seen.events), timeout=5000)
        assert seen.events == [("pressed", True)]
        xdotool(on_display, "keyup", "F9")
        qtbot.waitUntil(lambda: len(seen.events) == 2, timeout=5000)
        assert seen.events[1] == ("released", True)
    finally:
        hotkey.stop()


def test_stop_while_held_releases_and_restarting_listens_to_the_new_combo(qtbot, on_display):
    hotkey = GlobalHotkey()
    seen = Seen(hotkey)
    try:
        assert hotkey.start(COMBO) is None
        with qtbot.waitSignal(hotkey.pressed, timeout=5000):
            xdotool(on_display, "keydown", "ctrl+alt+h")
        hotkey.stop()  # the window must never stay stuck "talking"
        assert seen.events == [("pressed", True), ("released", True)]
        xdotool(on_display, "keyup", "ctrl+alt+h")
        assert hotkey.start("<ctrl>+<shift>+space") is None  # a bare name is accepted too
        with qtbot.waitSignal(hotkey.pressed, timeout=5000):
            xdotool(on_display, "keydown", "ctrl+shift+space")
        with qtbot.waitSignal(hotkey.released, timeout=5000):
            xdotool(on_display, "keyup", "ctrl+shift+space")
        assert [name for name, _ in seen.events] == ["pressed", "released", "pressed", "released"]
    finally:
        hotkey.stop()


def test_a_combination_it_cannot_read_is_explained(qapp, on_display):
    hotkey = GlobalHotkey()
    assert "not a key combination" in hotkey.start("<ctrl>+<nosuchkey>")
    assert "only modifier keys" in hotkey.start("<ctrl>+<alt>")
    assert not hotkey.active


def test_wayland_is_explained(qapp, monkeypatch):
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    reason = GlobalHotkey().start(COMBO)
    assert reason is not None and "Wayland" in reason and "window" in reason


_PROBE = """
from PySide6.QtCore import QCoreApplication
from talkapp.ui.global_hotkey import GlobalHotkey
app = QCoreApplication([])
print(GlobalHotkey().start("<ctrl>+<alt>+h"))
"""


def _start_in_fresh_process(env: dict[str, str]) -> str:
    """`start` in a new interpreter, so pynput's import really meets this environment (an
    import that failed, or succeeded, in this process is cached)."""
    env = {k: v for k, v in env.items() if k not in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_without_a_display_start_returns_a_reason_instead_of_raising():
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    reason = _start_in_fresh_process(env)
    assert "no X display" in reason and "push-to-talk key in the window" in reason


def test_an_unreachable_display_is_a_reason_too():
    """DISPLAY names a server that is not there: pynput's import raises; start explains."""
    reason = _start_in_fresh_process({**os.environ, "DISPLAY": ":97"})
    assert (
        reason.startswith("The global hotkey is unavailable") and "could not be reached" in reason
    )


# ---- the listener in a helper process (the default on macOS and Windows) ----


def test_an_isolated_hotkey_presses_and_releases_on_the_main_thread(qtbot, on_display):
    hotkey = GlobalHotkey(isolated=True)
    seen = Seen(hotkey)
    try:
        assert hotkey.start(COMBO) is None
        assert hotkey.active and hotkey._helper is not None
        with qtbot.waitSignal(hotkey.pressed, timeout=5000):
            xdotool(on_display, "keydown", "ctrl+alt+h")
        with qtbot.waitSignal(hotkey.released, timeout=5000):
            xdotool(on_display, "keyup", "ctrl+alt+h")
        assert seen.events == [("pressed", True), ("released", True)]
        helper = hotkey._helper
    finally:
        hotkey.stop()
    assert helper.poll() is not None  # stopping ends the helper process
    assert not hotkey.active


def test_a_helper_that_dies_is_reported_and_the_app_lives_on(qtbot, on_display):
    """What pynput's macOS listener does to the process it runs in, done to the helper."""
    hotkey = GlobalHotkey(isolated=True)
    seen = Seen(hotkey)
    try:
        assert hotkey.start(COMBO) is None
        with qtbot.waitSignal(hotkey.pressed, timeout=5000):
            xdotool(on_display, "keydown", "ctrl+alt+h")
        with qtbot.waitSignal(hotkey.failed, timeout=10000) as failed:
            hotkey._helper.kill()
        assert "quit unexpectedly" in failed.args[0]
        assert seen.events == [("pressed", True), ("released", True)]  # never stuck talking
        assert not hotkey.active
    finally:
        xdotool(on_display, "keyup", "ctrl+alt+h")
        hotkey.stop()


def test_an_isolated_hotkey_explains_a_combination_it_cannot_read(qapp, on_display):
    hotkey = GlobalHotkey(isolated=True)
    assert "not a key combination" in hotkey.start("<ctrl>+<nosuchkey>")
    assert not hotkey.active


def test_an_isolated_hotkey_on_an_unreachable_display_gives_the_helpers_reason(qapp, monkeypatch):
    for key in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DISPLAY", ":97")  # no server there: pynput's import fails in the helper
    hotkey = GlobalHotkey(isolated=True)
    reason = hotkey.start(COMBO)
    assert reason is not None and "could not be reached" in reason
    assert not hotkey.active
