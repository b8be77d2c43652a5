"""A real Secret Service for tests: gnome-keyring in a private D-Bus session bus.

Recipe: /work/shared/recipes/headless-linux.md section 3.4. The fixture `secret_service`
starts a session bus, unlocks a fresh "login" keyring from stdin, points this process (and its
children) at them, and makes keyring's SecretService backend the active one. Skips without
dbus-daemon / gnome-keyring-daemon (or fails: tests/services.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from services import unavailable

_ENV_KEYS = ("DBUS_SESSION_BUS_ADDRESS", "XDG_DATA_HOME", "XDG_RUNTIME_DIR")


@pytest.fixture(scope="module")
def secret_service() -> Iterator[Path]:
    """The folder holding the keyring's files (to check no secret lands anywhere else)."""
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if not shutil.which(tool)]
    if missing:
        unavailable(f"{', '.join(missing)} not installed (apt install dbus gnome-keyring)")
    import keyring
    from keyring.backends import SecretService

    base = Path(tempfile.mkdtemp(prefix="talkapp-kr-"))
    env = dict(os.environ, XDG_DATA_HOME=str(base / "data"), XDG_RUNTIME_DIR=str(base / "run"))
    for folder in ("data", "run"):
        (base / folder).mkdir(mode=0o700)
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    previous = keyring.get_keyring()
    try:
        # A new "login" keyring, created and unlocked with the password given on stdin.
        subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="test-password",
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        os.environ.update({key: env[key] for key in _ENV_KEYS})
        keyring.set_keyring(SecretService.Keyring())
        yield base / "data"
    finally:
        keyring.set_keyring(previous)
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        bus.terminate()  # gnome-keyring-daemon leaves with its bus
        bus.wait(5)
        shutil.rmtree(base, ignore_errors=True)
