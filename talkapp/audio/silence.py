"""A microphone that delivers nothing but exact zeros: what macOS hands an app it denied the
microphone, and what a hardware mute switch (or a muted source) gives. A real, unmuted
microphone never does for long: its noise floor flips the lowest bits of every sample, so a
second of exact zeros is not a quiet room.

`SilentMicDetector` counts consecutive exact-zero frames at the device's rate; any non-zero
sample resets the count. It says "silent" at most once per opening of the microphone
(`opened()`), and "sound is back" once after that. Pure: samples in, a change out.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

SILENT_MIC_S = 1.0


class MicSilence(Enum):
    SILENT = "silent"  # a second of exact zeros: denied by the system, or muted
    SOUND_BACK = "sound_back"  # a non-zero sample after SILENT


class SilentMicDetector:
    def __init__(self, rate: int, seconds: float = SILENT_MIC_S) -> None:
        self._seconds = seconds
        self._zeros = 0  # exact-zero frames in a row, up to the last one fed
        self._told = False  # SILENT said since the microphone opened
        self.silent = False  # SILENT said, and no sound since
        self.set_rate(rate)

    def set_rate(self, rate: int) -> None:
        self._limit = max(1, round(rate * self._seconds))

    def opened(self, silent: bool = False) -> None:
        """The microphone (re)opened: count afresh, and say it again if it is silent.
        `silent`: it was said silent before and nobody has heard sound since (so the first
        sound says SOUND_BACK)."""
        self._zeros, self._told, self.silent = 0, False, silent

    def feed(self, samples: np.ndarray) -> MicSilence | None:
        """One block as captured (device rate, before any processing)."""
        n = len(samples)
        if n == 0:
            return None
        if samples[-1] != 0:  # the common case, and the cheapest check
            tail = 0
        elif not samples.any():
            tail = self._zeros + n
        else:
            tail = n - 1 - int(np.flatnonzero(samples)[-1])
        heard = tail < self._zeros + n  # some sample in this block was not zero
        self._zeros = tail
        if heard and self.silent:
            self.silent = False
            return MicSilence.SOUND_BACK
        if not self._told and self._zeros >= self._limit:
            self._told = self.silent = True
            return MicSilence.SILENT
        return None
