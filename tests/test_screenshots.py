"""The real app on a virtual screen: `python -m talkapp` under Xvfb (xcb, the platform a Linux
user gets), driven with xdotool, photographed with ImageMagick `import`.

The screenshots go to a temporary folder, or to docs/screenshots/ (the README shows them) with
TALKAPP_UPDATE_SCREENSHOTS=1; each in the light and the dark scheme (Settings → Appearance).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from audio_server import _die_with_parent, room_tone
from PySide6.QtGui import QImage
from services import unavailable
from speech import silence, speak

from talkapp.settings.model import Settings
from talkapp.settings.store import SettingsStore
from talkapp.ui.colors import is_dark, palette

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # s: the longest any one step may take on a loaded box; steps end when done


@pytest.fixture
def shots(tmp_path) -> Path:
    if os.environ.get("TALKAPP_UPDATE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


SCHEMES = ["light", "dark"]


def named(name: str, scheme: str) -> str:
    """main-window.png, main-window-dark.png …"""
    return f"{name}.png" if scheme == "light" else f"{name}-{scheme}.png"


def in_scheme(env: dict[str, str], scheme: str) -> None:
    """The app will start in `scheme` (saved as the user would choose it in Settings)."""
    SettingsStore(Path(env["TALKAPP_CONFIG_DIR"])).save(Settings(appearance=scheme))


def looks(image: QImage, scheme: str) -> bool:
    """The window's own colour (its top-left corner) is the scheme's."""
    corner = image.pixelColor(2, image.height() // 2)
    return is_dark(palette(scheme == "dark")) == (corner.lightnessF() < 0.5)


@pytest.fixture
def app_env(display, pulse, tmp_path) -> dict[str, str]:
    missing = [tool for tool in ("xdotool", "import") if shutil.which(tool) is None]
    if missing:
        unavailable(f"{' and '.join(missing)} not installed (apt install xdotool imagemagick)")
    env = {
        **pulse.env,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "TALKAPP_CONFIG_DIR": str(tmp_path / "config"),
        "TALKAPP_LOG_DIR": str(tmp_path / "log"),
        "LANG": "C.UTF-8",
    }
    env.pop("OPENAI_API_KEY", None)
    return env


@contextlib.contextmanager
def running_app(env: dict[str, str], *args: str):
    app = subprocess.Popen(
        [sys.executable, "-m", "talkapp", *args],
        env=env,
        cwd=ROOT,
        preexec_fn=_die_with_parent,  # noqa: PLW1509
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield app
    finally:
        if app.poll() is None:
            app.terminate()  # the app quits cleanly on SIGTERM, as on a logout
            try:
                app.wait(WAIT)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()


def xdotool(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["xdotool", *args], env=env, capture_output=True, text=True, timeout=WAIT, check=True
    )
    return done.stdout.strip()


def wait_for_title(env: dict[str, str], pattern: str) -> str:
    """The id of a window whose title matches `pattern` (xdotool's --sync polls until one does)."""
    return xdotool(env, "search", "--sync", "--onlyvisible", "--name", pattern).split()[0]


def windows_of(env: dict[str, str], pid: int) -> list[str]:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )  # none yet: exit 1
    return found.stdout.split()


def screenshot(env: dict[str, str], window: str, path: Path) -> QImage:
    subprocess.run(["import", "-window", window, str(path)], env=env, check=True, timeout=WAIT)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return QImage(str(path))


def colours(image: QImage, step: int = 7) -> int:
    """How many different colours a grid of samples finds (a blank or broken window has ~1)."""
    return len(
        {
            image.pixel(x, y)
            for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)
        }
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_main_window_with_a_conversation(app_env, pulse, shots, scheme):
    in_scheme(app_env, scheme)
    # a room's noise floor on the virtual mic, as a real one hears: its exact silence would
    # (rightly) put the silent-microphone banner in the pictures
    room = pulse.feed_mic(room_tone(180))  # longer than the test takes
    with contextlib.ExitStack() as stack:
        stack.callback(room.wait)
        stack.callback(room.kill)
        _photograph_a_conversation(app_env, pulse, shots, scheme)


def _photograph_a_conversation(app_env, pulse, shots, scheme):
    with running_app(app_env) as app:
        window = wait_for_title(app_env, "^TalkApp.*(Ready|Listening)")
        xdotool(app_env, "windowfocus", "--sync", window)
        xdotool(app_env, "key", "alt+m")  # the message box's mnemonic
        xdotool(app_env, "type", "--delay", "20", "Hello! What can you do?")
        xdotool(app_env, "key", "Return")
        wait_for_title(app_env, "^TalkApp.*Speaking")  # the reply plays …
        wait_for_title(app_env, "^TalkApp.*(Ready|Listening)")  # … to its end
        xdotool(app_env, "key", "alt+t")  # to the transcript, where Space is the talk key
        xdotool(app_env, "keydown", "space")  # held: the X server repeats it meanwhile
        wait_for_title(app_env, "^TalkApp.*You are speaking")
        pulse.feed_mic(np.concatenate([speak("Hello, can you hear me?"), silence(0.3)])).wait()
        xdotool(app_env, "keyup", "space")
        wait_for_title(app_env, "^TalkApp.*Speaking")
        wait_for_title(app_env, "^TalkApp.*(Ready|Listening)")
        image = screenshot(app_env, window, shots / named("main-window", scheme))
        xdotool(app_env, "key", "alt+f")  # Hands-free: the microphone open, the service decides
        # Alt+F shows the button pressed, then clicks it: shoot once the window has changed and
        # two shots in a row agree (nothing is playing, so a still window is a settled one).
        path = shots / named("hands-free", scheme)
        hands_free, previous = image, None
        deadline = time.monotonic() + WAIT
        while (hands_free == image or hands_free != previous) and time.monotonic() < deadline:
            previous = hands_free
            time.sleep(0.3)
            hands_free = screenshot(app_env, window, path)
        assert hands_free != image, "switching to hands-free changed nothing on screen"
        xdotool(app_env, "key", "ctrl+q")
        app.wait(WAIT)
    assert app.returncode == 0, app.stdout.read()
    assert 900 <= image.width() <= 1280 and 560 <= image.height() <= 800
    assert colours(image) > 40 and colours(hands_free) > 40
    assert looks(image, scheme) and looks(hands_free, scheme)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_settings_pane(app_env, shots, scheme):
    in_scheme(app_env, scheme)
    pytest.importorskip(
        "talkapp.ui.settings.dialog",
        reason="the settings pane (talkapp/ui/settings/dialog.py) is not there yet",
    )
    with running_app(app_env, "--open-settings") as app:
        main = wait_for_title(
            app_env, "^TalkApp.*(Ready|Listening)"
        )  # the main window (the pane is titled too)
        deadline = time.monotonic() + WAIT
        while (
            not (others := [w for w in windows_of(app_env, app.pid) if w != main])
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert others, "the settings pane did not open"
        image = screenshot(app_env, others[0], shots / named("settings", scheme))
    assert app.returncode == 0, app.stdout.read()
    assert image.width() >= 500 and image.height() >= 350
    assert colours(image) > 20 and looks(image, scheme)
