"""Thread priorities and App Nap on macOS and Windows (Linux's SCHED_FIFO is in
`talkapp.threads.priority`).

- macOS: the engine's loop thread asks for the user-interactive QoS class
  (`pthread_set_qos_class_self_np`), the class of work a person is waiting on; and while a
  session runs the process holds a user-initiated, latency-critical activity
  (`NSProcessInfo beginActivityWithOptions:reason:`), so App Nap never throttles its timers
  when the window is hidden. Core Audio's callback threads are real-time already.
- Windows: the engine's loop thread joins MMCSS's "Audio" task
  (`AvSetMmThreadCharacteristicsW`), which raises it above normal threads and keeps it there;
  it leaves it (`AvRevertMmThreadCharacteristics`) when it ends. PortAudio's WASAPI host already
  puts its callback threads in MMCSS's "Pro Audio".
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from talkapp.platform import native

QOS_CLASS_USER_INTERACTIVE = 0x21
MMCSS_TASK = "Audio"
# NSActivityOptions: user-initiated (no App Nap, no idle sleep of the app) and latency-critical
# (timers keep their precision).
NS_ACTIVITY_USER_INITIATED = 0x00FFFFFF
NS_ACTIVITY_LATENCY_CRITICAL = 0xFF00000000
ACTIVITY_REASON = b"A live voice conversation"


class ThreadPriority:
    """The calling thread's raised priority on macOS or Windows; `release()` (on the same
    thread) undoes what needs undoing. `granted` says whether the system agreed."""

    def __init__(self, platform: str, granted: bool, undo: Any = None) -> None:
        self.platform = platform
        self.granted = granted
        self._undo = undo

    def release(self) -> None:
        undo, self._undo = self._undo, None
        if undo is not None:
            undo()


def raise_engine_thread(platform: str | None = None, lib: Any = None) -> ThreadPriority:
    """User-interactive QoS (macOS) or MMCSS "Audio" (Windows) for the calling thread; not
    granted (and nothing done) elsewhere."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        system = lib or native.libsystem()
        granted = system.pthread_set_qos_class_self_np(QOS_CLASS_USER_INTERACTIVE, 0) == 0
        return ThreadPriority(platform, granted)
    if platform == "win32":
        avrt = lib or native.avrt()
        task_index = ctypes.c_ulong(0)
        handle = avrt.AvSetMmThreadCharacteristicsW(MMCSS_TASK, ctypes.byref(task_index))
        if not handle:  # MMCSS off (the service is disabled), or not allowed
            return ThreadPriority(platform, False)
        return ThreadPriority(platform, True, lambda: avrt.AvRevertMmThreadCharacteristics(handle))
    return ThreadPriority(platform, False)


class AppNapActivity:
    """On macOS, a user-initiated, latency-critical activity held between `begin()` and `end()`
    (both idempotent); nothing elsewhere. Any thread: NSProcessInfo is thread-safe."""

    def __init__(self, platform: str | None = None, objc: Any = None) -> None:
        self.platform = sys.platform if platform is None else platform
        self._objc = objc
        self._token = 0

    @property
    def active(self) -> bool:
        return bool(self._token)

    def begin(self) -> bool:
        if self._token or self.platform != "darwin":
            return self.active
        objc = self._objc or native.objc()
        info = objc.send(objc.cls("NSProcessInfo"), "processInfo")
        # alloc/init and release, not an autoreleased string: this thread has no pool to drain.
        reason = objc.send(
            objc.send(objc.cls("NSString"), "alloc"),
            "initWithUTF8String:",
            (ctypes.c_char_p, ACTIVITY_REASON),
        )
        options = NS_ACTIVITY_USER_INITIATED | NS_ACTIVITY_LATENCY_CRITICAL
        token = objc.send(
            info,
            "beginActivityWithOptions:reason:",
            (ctypes.c_uint64, options),
            (ctypes.c_void_p, reason),
        )
        objc.send(reason, "release")
        if token:
            # Returned autoreleased, and this thread may have no pool to drain: keep our own
            # reference until `end`.
            objc.send(token, "retain")
            self._token = token
        return self.active

    def end(self) -> None:
        token, self._token = self._token, 0
        if token:
            objc = self._objc or native.objc()
            info = objc.send(objc.cls("NSProcessInfo"), "processInfo")
            objc.send(info, "endActivity:", (ctypes.c_void_p, token))
            objc.send(token, "release")
