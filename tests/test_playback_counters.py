"""The output callback's xrun accounting, called directly (no stream): an underflow PortAudio
flags while the stream fills its buffer at start counts apart from one in steady playback."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from talkapp.audio.ring import open_ring
from talkapp.audio.streams import _Playback, start_fill_done

RATE = 48_000
BLOCK = 240  # 5 ms


def make_playback() -> _Playback:
    _, reader = open_ring(RATE)
    side = _Playback(None, 1, reader, SimpleNamespace(paused=False), BLOCK)  # type: ignore[arg-type]
    side.rate = RATE
    return side


def call(side: _Playback, queued_ms: float, underflow: bool = False) -> None:
    """One callback whose block PortAudio will play `queued_ms` from now."""
    out = np.ones((BLOCK, 1), np.float32)
    time = SimpleNamespace(currentTime=100.0, outputBufferDacTime=100.0 + queued_ms / 1000)
    side.callback(out, BLOCK, time, SimpleNamespace(output_underflow=underflow))
    assert not out.any()  # an empty ring plays silence


def test_underflows_in_the_start_up_fill_count_apart():
    side = make_playback()
    call(side, 0.0)
    call(side, 0.0, underflow=True)  # the server took the first block before the second came
    call(side, 4.9)
    assert (side.start_xruns, side.xruns, side.starting) == (1, 0, True)
    call(side, 9.8)  # 1.5 blocks and more queued ahead: the buffer is full, start-up is over
    assert not side.starting
    call(side, 4.0, underflow=True)
    call(side, 0.0, underflow=True)  # steady playback ran dry: counted, even with little queued
    assert (side.start_xruns, side.xruns) == (1, 2)
    assert side.callbacks == 6


def test_an_underflow_flagged_on_the_callback_that_ends_the_fill_belongs_to_the_fill():
    side = make_playback()
    call(side, 14.8, underflow=True)
    assert (side.start_xruns, side.xruns, side.starting) == (1, 0, False)


def test_the_fill_is_done_at_one_and_a_half_blocks_queued():
    assert not start_fill_done(0.0074, BLOCK, RATE)
    assert start_fill_done(0.0075, BLOCK, RATE)
    assert start_fill_done(0.0150, 441, 44_100)  # 10 ms blocks at 44.1 kHz
    assert not start_fill_done(0.0149, 441, 44_100)
