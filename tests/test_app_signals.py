"""The desktop app quits cleanly on SIGTERM (a logout) and Ctrl-C while it sits idle: nothing
polls on its GUI thread then, so the signal itself must wake it. The whole `talkapp` command
in a child process (offscreen Qt), on the offline simulator and the private PulseAudio."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audio_server import _wait_until

WAIT = 30.0
ASLEEP_S = 0.5  # the GUI thread woke not once in this long: nothing polls there


def wakeups(pid: int) -> int:
    """Context switches of the process's main thread (the GUI thread) so far."""
    status = Path(f"/proc/{pid}/task/{pid}/status").read_text()
    return sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line)


def gui_thread_asleep(pid: int) -> bool:
    before = wakeups(pid)
    time.sleep(ASLEEP_S)  # the window to watch, not a wait for something to happen
    return wakeups(pid) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_idle_app_quits_cleanly_on_a_signal(pulse, tmp_path, signum):
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        TALKAPP_CONFIG_DIR=str(tmp_path / "config"),
        TALKAPP_DATA_DIR=str(tmp_path / "data"),
        TALKAPP_LOG_DIR=str(tmp_path / "logs"),
    )
    log = tmp_path / "logs" / "talkapp.log"
    app = subprocess.Popen(
        [sys.executable, "-m", "talkapp"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # connected in push-to-talk, nobody talking: the GUI thread has nothing to do
        live = _wait_until(lambda: log.exists() and "State.LISTENING" in log.read_text(), WAIT)
        assert live, f"the app did not connect: {log.read_text() if log.exists() else 'no log'}"
        # before, Python ran the signal's handler at the level meters' next poll
        assert _wait_until(lambda: gui_thread_asleep(app.pid), WAIT), "the GUI thread polls"
        app.send_signal(signum)
        _out, err = app.communicate(timeout=WAIT)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, err
    assert "Traceback" not in err
    assert "the desktop app quit" in log.read_text().splitlines()[-1]
