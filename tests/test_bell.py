"""The loudness bell: the input callback wakes the pump on a block louder than the recent mic."""

import numpy as np

from talkapp.audio.bell import FLOOR_DBFS, RISE_DB, LoudnessBell


def tone(dbfs: float, n: int = 240) -> np.ndarray:
    """A block whose mean square is `dbfs` (a square wave: every sample ± the same)."""
    amplitude = 10 ** (dbfs / 20)
    return (amplitude * np.where(np.arange(n) % 2, 1.0, -1.0)).astype(np.float32)


class Counter:
    def __init__(self) -> None:
        self.rings = 0

    def __call__(self) -> None:
        self.rings += 1


def test_a_block_that_rises_above_the_recent_level_rings_once():
    bell, counter = LoudnessBell(), Counter()
    recent = 10 ** (-30 / 10)  # the mic has been hearing -30 dBFS (an echo)
    bell.arm(recent, counter)
    bell.hear(tone(-30 + RISE_DB - 1))  # the echo's own ups and downs
    assert counter.rings == 0 and bell.armed
    bell.hear(tone(-30 + RISE_DB + 1))  # a voice over it
    assert counter.rings == 1 and not bell.armed
    bell.hear(tone(-10))  # disarmed until the pump's next cycle
    assert counter.rings == 1
    bell.arm(recent, counter)
    bell.hear(tone(-10))
    assert counter.rings == 2 == bell.rings


def test_quiet_rooms_ring_only_above_the_floor():
    bell, counter = LoudnessBell(), Counter()
    bell.arm(0.0, counter)  # digital silence so far
    bell.hear(np.zeros(240, np.float32))
    bell.hear(tone(FLOOR_DBFS - 1))
    assert counter.rings == 0
    bell.hear(tone(FLOOR_DBFS + 1))
    assert counter.rings == 1


def test_a_disarmed_bell_never_rings():
    bell, counter = LoudnessBell(), Counter()
    bell.arm(0.0, counter)
    bell.disarm()
    bell.hear(tone(0.0))
    bell.hear(np.zeros(0, np.float32))
    assert counter.rings == 0 and not bell.armed
