"""A virtual X display for tests: Xvfb on a free display number (recipe:
/work/shared/recipes/headless-linux.md section 4).

Registered in conftest (`pytest_plugins`). Fixture:
  `display` -- the display name (":5"), session-scoped. Skips when Xvfb is missing, or fails
               instead under TALKAPP_REQUIRE_SERVICES=1 (tests/services.py).
`-displayfd` makes Xvfb pick a free display and write its number to a pipe once it accepts
connections, so there is no guessing and no polling.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from audio_server import _die_with_parent
from services import unavailable

SCREEN = "1280x800x24"
READY_TIMEOUT = 10.0  # s; Xvfb is ready in 0.1-0.2 s


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        unavailable("Xvfb is not installed (apt install xvfb xauth)")
    read_end, write_end = os.pipe()
    command = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"]
    server = subprocess.Popen(
        command,
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - Xvfb must die with the test session
    )
    os.close(write_end)
    try:
        number = _read_number(read_end, server)
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _read_number(fd: int, server: subprocess.Popen) -> str:
    text = b""
    while not text.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], READY_TIMEOUT)
        chunk = os.read(fd, 16) if ready else b""
        if not chunk:
            code = server.poll()
            unavailable(
                f"Xvfb did not start (exit status {code})"
                if code is not None
                else "Xvfb did not report a display"
            )
        text += chunk
    return text.decode().strip()
