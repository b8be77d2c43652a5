"""`LoudnessBell`: the microphone's callback rings it when a block is loud, to wake the pump.

While a reply plays the engine's pump sleeps a whole send chunk between cycles, yet a barge-in
must be decided within a block of the voice's onset. So the pump arms the bell with a level
above what the mic has been hearing (the echo, or the room), and the input callback rings it
on the first block that rises above it: the pump runs at once instead of at its next cycle.
The decision itself is unchanged (the echo gate and the VAD make it on the pump); a ring only
moves the cycle earlier, so a false ring costs one early cycle and nothing else.

Thread use: `arm` and `disarm` on the loop thread; `hear` on the PortAudio input thread. They
share two attributes, each read or written whole under the GIL: a race is at worst one
spurious or one missed ring, and a missed ring waits for the next cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

RISE_DB = 6.0  # a voice over the reply rises `EchoGate.margin_db` (8 dB) above its echo
FLOOR_DBFS = -60.0  # quieter blocks never ring: the room's noise would, all the time
_RISE = 10 ** (RISE_DB / 10)
_FLOOR = 10 ** (FLOOR_DBFS / 10)


def _nobody() -> None:
    pass


class LoudnessBell:
    def __init__(self) -> None:
        self._above = math.inf  # the mean square that rings, times nothing: inf while disarmed
        self._ring: Callable[[], None] = _nobody
        self.rings = 0  # how many times it rang (written by the input thread only)

    @property
    def armed(self) -> bool:
        return self._above != math.inf

    def arm(self, recent_mean_square: float, ring: Callable[[], None]) -> None:
        """Ring once (`ring`, from the input thread: it must be thread-safe) when a block is
        `RISE_DB` louder than `recent_mean_square`, and at least `FLOOR_DBFS`."""
        self._ring = ring
        self._above = max(recent_mean_square * _RISE, _FLOOR)

    def disarm(self) -> None:
        self._above = math.inf

    def hear(self, block: np.ndarray) -> None:
        """The input callback's block (float32, one channel): no allocation but a scalar."""
        above = self._above
        if above != math.inf and float(np.dot(block, block)) > above * len(block):
            self._above = math.inf  # once per arming: the pump re-arms it each cycle
            self.rings += 1
            self._ring()
