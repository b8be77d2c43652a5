"""Real-time scheduling stays with the threads that asked for it: a process they start (a tool's
worker burning CPU, above all) runs at normal priority, so it cannot hold a core against the
engine thread that must stop it at its time limit."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from talkapp.threads import priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux scheduling")

REPORT = "import os; print(os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)"


def test_a_process_started_from_a_real_time_thread_runs_at_normal_priority():
    seen: dict[str, object] = {}

    def real_time_thread() -> None:
        seen["granted"] = priority.ask_for_realtime(5)
        seen["realtime"] = priority.is_realtime(threading.get_native_id())
        child = subprocess.run(
            [sys.executable, "-c", REPORT], capture_output=True, text=True, check=True
        )
        seen["child"] = child.stdout.split()

    thread = threading.Thread(target=real_time_thread)
    thread.start()
    thread.join(30)
    if not seen.get("granted"):
        pytest.skip("this machine refuses real-time scheduling (not root, no RLIMIT_RTPRIO)")
    assert seen["realtime"] is True  # the thread itself is real-time ...
    assert seen["child"] == [str(os.SCHED_OTHER), "0"]  # ... what it starts is not


def test_an_inherited_real_time_thread_passes_it_to_the_threads_it_starts():
    """The thread that starts PortAudio streams: the callback thread PortAudio creates in the
    start is then real-time from its first instruction."""
    seen: dict[str, object] = {}

    def started() -> None:
        seen["child"] = priority.is_realtime(threading.get_native_id())

    def starter() -> None:
        seen["granted"] = priority.ask_for_realtime(5, inherited=True)
        child = threading.Thread(target=started)
        child.start()
        child.join(10)

    thread = threading.Thread(target=starter)
    thread.start()
    thread.join(30)
    if not seen.get("granted"):
        pytest.skip("this machine refuses real-time scheduling (not root, no RLIMIT_RTPRIO)")
    assert seen["child"] is True
