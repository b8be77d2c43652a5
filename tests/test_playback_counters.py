"""The output callback's xrun accounting, called directly (no stream): an underflow PortAudio
flags while the stream fills its buffer at start counts apart from one in steady playback, and
one that interrupted silence (nothing playing, or paused) is no dry speaker at all."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from talkapp.audio.ring import RingWriter, open_ring
from talkapp.audio.streams import _Playback, start_fill_done

RATE = 48_000
BLOCK = 240  # 5 ms


def make_playback() -> tuple[_Playback, RingWriter, SimpleNamespace]:
    writer, reader = open_ring(RATE)
    io = SimpleNamespace(paused=False)
    side = _Playback(None, 1, reader, io, BLOCK)  # type: ignore[arg-type]
    side.rate = RATE
    return side, writer, io


def call(side: _Playback, queued_ms: float, underflow: bool = False) -> bool:
    """One callback whose block PortAudio will play `queued_ms` from now; True if it played
    audio (the ring had some), False for silence."""
    out = np.zeros((BLOCK, 1), np.float32)
    time = SimpleNamespace(currentTime=100.0, outputBufferDacTime=100.0 + queued_ms / 1000)
    side.callback(out, BLOCK, time, SimpleNamespace(output_underflow=underflow))
    return bool(out.any())


def reply(writer: RingWriter, blocks: int) -> None:
    writer.write(np.full(blocks * BLOCK, 0.1, np.float32))


def test_underflows_in_the_start_up_fill_count_apart():
    side, writer, _ = make_playback()
    reply(writer, 5)
    assert call(side, 0.0)
    call(side, 0.0, underflow=True)  # the server took the first block before the second came
    call(side, 4.9)
    assert (side.start_xruns, side.xruns, side.starting) == (1, 0, True)
    call(side, 9.8)  # 1.5 blocks and more queued ahead: the buffer is full, start-up is over
    assert not side.starting
    assert call(side, 4.0, underflow=True)
    # steady playback ran dry after a block of the reply: counted, even with little queued
    assert not call(side, 0.0, underflow=True)
    assert (side.start_xruns, side.xruns) == (1, 2)
    assert side.callbacks == 6


def test_an_underflow_flagged_on_the_callback_that_ends_the_fill_belongs_to_the_fill():
    side, _, _ = make_playback()
    call(side, 14.8, underflow=True)
    assert (side.start_xruns, side.xruns, side.starting) == (1, 0, False)


def test_an_underflow_between_replies_or_while_paused_is_not_a_dry_speaker():
    side, writer, io = make_playback()
    call(side, 14.8)  # past the start-up fill, nothing to play
    call(side, 10.0, underflow=True)  # a late callback in silence: nobody heard anything
    assert (side.xruns, side.silent_xruns) == (0, 1)
    reply(writer, 2)
    assert call(side, 10.0, underflow=True)  # ran dry just before the reply began: silence too
    io.paused = True  # a barge-in being confirmed: silence, the reply kept
    assert not call(side, 10.0)
    assert not call(side, 10.0, underflow=True)
    assert (side.xruns, side.silent_xruns) == (0, 3)
    io.paused = False
    assert call(side, 10.0)
    assert not call(side, 10.0, underflow=True)  # the reply's end ran dry: heard as a cut
    assert (side.xruns, side.silent_xruns) == (1, 3)


def test_a_restarted_stream_fills_again_and_asks_for_priority_again():
    side, writer, _ = make_playback()
    call(side, 14.8)
    assert not side.starting and not side.fresh_thread
    side.restarting()
    assert side.starting and side.fresh_thread
    reply(writer, 1)
    assert call(side, 0.0, underflow=True)
    assert (side.start_xruns, side.xruns, side.fresh_thread) == (1, 0, False)


def test_the_fill_is_done_at_one_and_a_half_blocks_queued():
    assert not start_fill_done(0.0074, BLOCK, RATE)
    assert start_fill_done(0.0075, BLOCK, RATE)
    assert start_fill_done(0.0150, 441, 44_100)  # 10 ms blocks at 44.1 kHz
    assert not start_fill_done(0.0149, 441, 44_100)
