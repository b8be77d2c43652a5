"""What a running session holds of the system, and gives back when it ends: Windows' 1 ms
timer resolution (`timers`), macOS's App Nap opt-out (`scheduling.AppNapActivity`)."""

from __future__ import annotations

from typing import Any

from talkapp.platform.scheduling import AppNapActivity
from talkapp.platform.timers import TimerResolution


class SessionHold:
    def __init__(self, platform: str | None = None, winmm: Any = None, objc: Any = None) -> None:
        self.timer = TimerResolution(platform, winmm)
        self.activity = AppNapActivity(platform, objc)

    def begin(self) -> None:
        self.timer.acquire()
        self.activity.begin()

    def end(self) -> None:
        self.activity.end()
        self.timer.release()
