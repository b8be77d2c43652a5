"""The Windows and macOS branches of `talkapp.platform`: timer resolution, thread priorities,
App Nap. Neither system runs here, so each system call is a recording fake standing in for the
ctypes function (winmm, avrt, libSystem, the Objective-C runtime): the test checks that the
right call is made with the right arguments, once, and undone when it should be, and that a
refusal is reported, not hidden. The Linux branch runs for real (tests/test_priority.py)."""

from __future__ import annotations

import ctypes
import threading

import pytest

from talkapp.platform import scheduling
from talkapp.platform.scheduling import AppNapActivity, ThreadPriority
from talkapp.platform.session import SessionHold
from talkapp.platform.timers import TimerResolution
from talkapp.threads import loop as loop_module
from talkapp.threads import priority
from talkapp.threads.loop import LoopThread


class Recorder:
    """A stand-in for a native library: every attribute is a function that records its call
    and returns what `answers` says for that name (0 by default)."""

    def __init__(self, **answers: object) -> None:
        self.calls: list[tuple] = []
        self._answers = answers

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args):
            self.calls.append((name, *args))
            return self._answers.get(name, 0)

        return call


class Untouchable:
    """A native library that must not be called at all (another system's)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"{name} called on the wrong platform")


def test_windows_timer_resolution_is_raised_for_the_session_and_given_back_once():
    winmm = Recorder()
    timer = TimerResolution("win32", winmm)
    assert timer.acquire() and timer.acquire()  # the second is a no-op
    assert winmm.calls == [("timeBeginPeriod", 1)]
    timer.release()
    timer.release()
    assert winmm.calls == [("timeBeginPeriod", 1), ("timeEndPeriod", 1)]


def test_a_refused_timer_resolution_is_not_given_back():
    winmm = Recorder(timeBeginPeriod=97)  # TIMERR_NOCANDO
    with TimerResolution("win32", winmm) as timer:
        assert timer.raised is False
    assert winmm.calls == [("timeBeginPeriod", 1)]


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_other_systems_leave_the_timer_alone(platform):
    with TimerResolution(platform, Untouchable()) as timer:
        assert timer.raised is False


def test_macos_engine_thread_asks_for_user_interactive_qos():
    system = Recorder()
    raised = priority.raise_engine_thread(5, "darwin", system)
    assert raised.granted
    assert system.calls == [("pthread_set_qos_class_self_np", 0x21, 0)]
    raised.release()  # nothing to undo: the class ends with the thread
    assert len(system.calls) == 1
    refused = priority.raise_engine_thread(5, "darwin", Recorder(pthread_set_qos_class_self_np=1))
    assert refused.granted is False  # EPERM: a thread under another policy


def test_windows_engine_thread_joins_mmcss_audio_and_leaves_it():
    avrt = Recorder(AvSetMmThreadCharacteristicsW=0x1234)
    raised = priority.raise_engine_thread(5, "win32", avrt)
    assert raised.granted
    ((name, task, index),) = avrt.calls
    assert (name, task) == ("AvSetMmThreadCharacteristicsW", "Audio")
    assert isinstance(index, type(ctypes.byref(ctypes.c_ulong())))  # the task index out-param
    raised.release()
    raised.release()
    assert avrt.calls[1:] == [("AvRevertMmThreadCharacteristics", 0x1234)]


def test_windows_without_mmcss_reports_it_and_reverts_nothing():
    avrt = Recorder(AvSetMmThreadCharacteristicsW=None)  # NULL: the service is off
    raised = priority.raise_engine_thread(5, "win32", avrt)
    assert raised.granted is False
    raised.release()
    assert [c[0] for c in avrt.calls] == ["AvSetMmThreadCharacteristicsW"]


def test_linux_engine_thread_uses_sched_fifo_not_the_other_systems_calls():
    raised = priority.raise_engine_thread(5, "linux", Untouchable())
    assert raised.granted == priority.is_realtime(threading.get_native_id())
    if raised.granted:  # this test thread must not stay real-time
        import os

        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


class FakeObjC:
    """The Objective-C runtime as `native.ObjC` offers it: classes are names, objects numbers."""

    def __init__(self, token: int = 77) -> None:
        self.sent: list[tuple] = []
        self.token = token

    def cls(self, name: str) -> str:
        return name

    def send(self, receiver, selector: str, *args):
        self.sent.append((receiver, selector, *(value for _, value in args)))
        answers = {"processInfo": 10, "alloc": 19, "initWithUTF8String:": 20}
        answers["beginActivityWithOptions:reason:"] = self.token
        return answers.get(selector, 0)


def test_macos_session_holds_a_latency_critical_activity_against_app_nap():
    objc = FakeObjC()
    activity = AppNapActivity("darwin", objc)
    assert activity.begin() and activity.begin()
    options = scheduling.NS_ACTIVITY_USER_INITIATED | scheduling.NS_ACTIVITY_LATENCY_CRITICAL
    assert objc.sent == [
        ("NSProcessInfo", "processInfo"),
        ("NSString", "alloc"),
        (19, "initWithUTF8String:", scheduling.ACTIVITY_REASON),
        (10, "beginActivityWithOptions:reason:", options, 20),
        (20, "release"),  # the reason string: ours to release, the activity keeps its copy
        (77, "retain"),
    ]
    assert options & 0xFF00000000 and options & 0x00FFFFFF  # latency-critical, user-initiated
    activity.end()
    activity.end()
    assert objc.sent[6:] == [(
        "NSProcessInfo", "processInfo"), (10, "endActivity:", 77), (77, "release")]  # fmt: skip
    assert not activity.active


def test_a_refused_activity_is_not_ended():
    objc = FakeObjC(token=0)
    activity = AppNapActivity("darwin", objc)
    assert activity.begin() is False
    activity.end()
    assert [s[1] for s in objc.sent][-2:] == ["beginActivityWithOptions:reason:", "release"]


def test_a_session_hold_on_windows_raises_the_timer_and_no_activity():
    winmm = Recorder()
    hold = SessionHold("win32", winmm, Untouchable())
    hold.begin()
    assert hold.timer.raised and not hold.activity.active
    hold.end()
    assert winmm.calls == [("timeBeginPeriod", 1), ("timeEndPeriod", 1)]
    SessionHold("linux", Untouchable(), Untouchable()).begin()  # nothing on Linux


def test_the_engine_loop_thread_releases_its_priority_on_its_own_thread(monkeypatch):
    # Stands in for MMCSS, which only Windows has: the release must come from the thread
    # that joined the task, as the loop thread ends.
    seen: dict[str, int] = {}

    def raise_engine_thread(linux_priority: int) -> ThreadPriority:
        seen["raised"] = threading.get_ident()
        return ThreadPriority("win32", True, lambda: seen.update(released=threading.get_ident()))

    monkeypatch.setattr(loop_module.priority, "raise_engine_thread", raise_engine_thread)
    thread = LoopThread("test-priority", realtime_priority=5).start()
    assert thread.submit(_ident()).result(10) == seen["raised"]
    assert thread.realtime
    thread.stop()
    assert seen["released"] == seen["raised"]


async def _ident() -> int:
    return threading.get_ident()


class Console:
    """Stands in for kernel32 (Windows only): AttachConsole answers as told and is recorded."""

    def __init__(self, attached: int) -> None:
        self.attached = attached
        self.calls: list[int] = []

    def AttachConsole(self, process: int) -> int:  # the Win32 name
        self.calls.append(process)
        return self.attached


def test_a_windowed_exe_started_from_a_console_prints_to_it(tmp_path):
    from talkapp.platform.console import ATTACH_PARENT_PROCESS, attach_parent_console

    opened: list[tuple] = []

    def opener(name, mode, **kwargs):
        opened.append((name, mode, kwargs["encoding"]))
        return (tmp_path / "conout.txt").open(mode, encoding=kwargs["encoding"])

    kernel32 = Console(attached=1)
    stream = attach_parent_console("win32", None, kernel32, opener)
    assert stream is not None
    stream.close()
    assert kernel32.calls == [ATTACH_PARENT_PROCESS] and opened == [("CONOUT$", "w", "utf-8")]
    # Double-clicked (no parent console): nothing, silently.
    assert attach_parent_console("win32", None, Console(attached=0), opener) is None
    # A stdout already there (talkapp-cli.exe, a pipe) or another system: left alone.
    import sys

    assert attach_parent_console("win32", sys.stdout, Untouchable(), opener) is None
    assert attach_parent_console("darwin", None, Untouchable(), opener) is None
    assert len(opened) == 1
