"""Windows' timer resolution. Windows wakes sleeping threads on its system tick, 15.6 ms by
default, so the engine's 20 ms pump (a timed wait) would wake every 31.2 ms with up to
16 ms of jitter; `timeBeginPeriod(1)` makes the tick 1 ms while a session runs, and
`timeEndPeriod(1)` gives it back (a raised resolution costs battery, so never for longer)."""

from __future__ import annotations

import sys
from typing import Any, Self

from talkapp.platform import native

TIMER_PERIOD_MS = 1
TIMERR_NOERROR = 0


class TimerResolution:
    """`acquire()` raises the timer resolution to 1 ms on Windows, `release()` undoes it; both
    idempotent, and a no-op (`raised` stays False) elsewhere or when Windows refuses."""

    def __init__(self, platform: str | None = None, winmm: Any = None) -> None:
        self.platform = sys.platform if platform is None else platform
        self._winmm = winmm
        self.raised = False

    def acquire(self) -> bool:
        if self.raised or self.platform != "win32":
            return self.raised
        lib = self._winmm or native.winmm()
        self.raised = lib.timeBeginPeriod(TIMER_PERIOD_MS) == TIMERR_NOERROR
        return self.raised

    def release(self) -> None:
        if self.raised:
            lib = self._winmm or native.winmm()
            lib.timeEndPeriod(TIMER_PERIOD_MS)
            self.raised = False

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
