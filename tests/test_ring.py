"""The SPSC audio ring: FIFO order across wraparound, newest-wins overruns counted exactly,
underruns, reader-side flushes, torn-read detection, and a real two-thread run.

Every frame written carries its own serial number (channel c holds serial + c/4), so a
delivered frame proves where it came from and that it was not torn between two writes.
"""

from __future__ import annotations

import sys
import threading
import tracemalloc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from talkapp.audio.ring import open_ring


def frames(first: int, n: int, channels: int = 1) -> np.ndarray:
    serial = np.arange(first, first + n, dtype=np.float32)
    if channels == 1:
        return serial
    return serial[:, None] + np.arange(channels, dtype=np.float32)[None, :] / 4


def buffer(m: int, channels: int, value: float) -> np.ndarray:
    return np.full(m if channels == 1 else (m, channels), value, np.float32)


def serials(block: np.ndarray) -> list[int]:
    """Serial numbers of delivered frames; asserts every frame is internally consistent."""
    if block.ndim == 2:
        offsets = np.arange(block.shape[1], dtype=np.float32) / 4
        assert np.array_equal(block, block[:, :1] + offsets), "torn frame"
        block = block[:, 0]
    return [int(v) for v in block]


class RingModel:
    """What the ring promises, written the obvious way: a list of frames and counters."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.queue: list[int] = []  # readable frames, oldest first
        self.lost = 0  # overwritten since the last read (reported by the next read)
        self.flush_requests = 0  # requested since the last read
        self.to_flush = 0  # frames those requests threw away
        self.flowing = False
        counters = ("overruns", "frames_dropped", "underruns", "flushes", "frames_flushed",
                    "frames_written_total", "frames_read_total")  # fmt: skip
        self.stats = dict.fromkeys(counters, 0)

    def write(self, values: list[int]) -> None:
        self.stats["frames_written_total"] += len(values)
        self.queue += values
        excess = max(0, len(self.queue) - self.capacity)
        self.lost += excess
        del self.queue[:excess]

    def request_flush(self) -> None:
        self.flush_requests += 1
        self.to_flush += self.lost + len(self.queue)
        self.queue, self.lost = [], 0

    def discard(self) -> None:
        self.stats["flushes"] += 1
        self.stats["frames_flushed"] += self.to_flush + self.lost + len(self.queue)
        self.queue, self.lost, self.to_flush, self.flowing = [], 0, 0, False

    def read(self, m: int) -> list[int]:
        if self.flush_requests:
            self.stats["flushes"] += self.flush_requests
            self.flowing = False
        self.stats["frames_flushed"] += self.to_flush
        if self.lost:
            self.stats["overruns"] += 1
            self.stats["frames_dropped"] += self.lost
        delivered, self.queue = self.queue[:m], self.queue[m:]
        self.flush_requests = self.to_flush = self.lost = 0
        self.stats["frames_read_total"] += len(delivered)
        return delivered

    def fill(self, m: int) -> list[int]:
        delivered = self.read(m)
        short = len(delivered) < m
        if short and (delivered or self.flowing):
            self.stats["underruns"] += 1
        self.flowing = not short and m > 0
        return delivered


class RingAgainstModel(RuleBasedStateMachine):
    """Any sequence of writes, reads, fills, flushes and discards, single-threaded."""

    @initialize(capacity=st.integers(1, 12), channels=st.sampled_from([1, 2]))
    def open(self, capacity: int, channels: int) -> None:
        self.writer, self.reader = open_ring(capacity, channels)
        self.model = RingModel(capacity)
        self.channels = channels
        self.next_serial = 0

    @rule(n=st.integers(0, 30))
    def write(self, n: int) -> None:
        assert self.writer.write(frames(self.next_serial, n, self.channels)) == n
        self.model.write(list(range(self.next_serial, self.next_serial + n)))
        self.next_serial += n

    @rule(m=st.integers(0, 20))
    def read_into(self, m: int) -> None:
        out = buffer(m, self.channels, -1.0)
        n = self.reader.read_into(out)
        assert serials(out[:n]) == self.model.read(m)
        assert np.all(out[n:] == -1.0), "read_into must leave the tail to the caller"

    @rule(m=st.integers(1, 20))
    def fill(self, m: int) -> None:
        out = buffer(m, self.channels, -1.0)
        n = self.reader.fill(out)
        assert serials(out[:n]) == self.model.fill(m)
        assert np.all(out[n:] == 0.0), "fill pads with silence"

    @rule()
    def request_flush(self) -> None:
        self.writer.request_flush()
        self.model.request_flush()

    @rule()
    def discard(self) -> None:
        self.reader.discard()
        self.model.discard()

    @invariant()
    def statistics_match_the_model(self) -> None:
        from_reader, from_writer = self.reader.statistics(), self.writer.statistics()
        assert from_reader == from_writer
        assert from_reader.capacity == self.model.capacity
        assert from_reader.available == self.reader.available == len(self.model.queue)
        assert {k: getattr(from_reader, k) for k in self.model.stats} == self.model.stats
        assert self.reader.frames_read_total == self.model.stats["frames_read_total"]


TestRingAgainstModel = RingAgainstModel.TestCase
TestRingAgainstModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_overrun_keeps_the_newest_audio_and_counts_what_was_lost():
    writer, reader = open_ring(8)
    for first in range(0, 20, 5):
        writer.write(frames(first, 5))
    out = np.zeros(8, np.float32)
    assert reader.read_into(out) == 8
    assert serials(out) == list(range(12, 20))
    stats = reader.statistics()
    assert (stats.overruns, stats.frames_dropped, stats.frames_read_total) == (1, 12, 8)


def test_a_block_longer_than_the_ring_keeps_its_newest_frames():
    writer, reader = open_ring(4, channels=2)
    assert writer.write(frames(0, 11, 2)) == 11
    out = np.zeros((6, 2), np.float32)
    assert reader.read_into(out) == 4
    assert serials(out[:4]) == [7, 8, 9, 10]
    assert reader.statistics().frames_dropped == 7


def test_after_a_flush_the_next_read_returns_only_audio_written_after_it():
    writer, reader = open_ring(1000)
    writer.write(frames(0, 300))
    writer.request_flush()  # barge-in: the loop drops the rest of the reply
    writer.write(frames(300, 40))
    out = np.zeros(100, np.float32)
    assert reader.read_into(out) == 40
    assert serials(out[:40]) == list(range(300, 340))
    stats = reader.statistics()
    assert (stats.flushes, stats.frames_flushed, stats.frames_read_total) == (1, 300, 40)


def test_playback_goes_silent_within_one_block_of_a_flush_and_that_is_not_an_underrun():
    writer, reader = open_ring(4800)
    writer.write(frames(1, 4800))
    block = np.zeros(480, np.float32)
    assert reader.fill(block) == 480
    writer.request_flush()
    assert reader.fill(block) == 0
    assert not block.any()
    assert reader.statistics().underruns == 0
    assert reader.frames_read_total == 480  # what the user heard: audio_end_ms = 20


def test_underruns_count_dry_spells_not_idle_silence():
    writer, reader = open_ring(100)
    block = np.zeros(10, np.float32)
    reader.fill(block)  # idle: nothing queued yet
    writer.write(frames(1, 25))
    assert [reader.fill(block) for _ in range(2)] == [10, 10]
    assert reader.statistics().underruns == 0
    assert reader.fill(block) == 5 and not block[5:].any()  # ran dry mid-block
    assert [reader.fill(block) for _ in range(2)] == [0, 0]  # the same dry spell continues
    assert reader.statistics().underruns == 1


def test_running_dry_where_a_reply_ended_is_not_an_underrun_but_starving_after_it_is():
    writer, reader = open_ring(100)
    block = np.zeros(10, np.float32)
    writer.write(frames(1, 25))
    writer.mark_end()  # the whole reply is queued
    assert [reader.fill(block) for _ in range(4)] == [10, 10, 5, 0]
    assert reader.statistics().underruns == 0  # it ended: nothing was missing
    writer.write(frames(26, 15))  # the next reply starts and its audio stops coming mid-way
    assert [reader.fill(block) for _ in range(3)] == [10, 5, 0]
    assert reader.statistics().underruns == 1


def test_discard_drops_stale_capture_only():
    writer, reader = open_ring(64)
    writer.write(frames(0, 50))
    reader.discard()  # push-to-talk pressed
    writer.write(frames(50, 3))
    out = np.zeros(64, np.float32)
    assert serials(out[: reader.read_into(out)]) == [50, 51, 52]
    assert (reader.statistics().flushes, reader.statistics().frames_flushed) == (1, 50)


class _RacingOut(np.ndarray):
    """An output array whose slice assignments first run `race` -- as if the writer thread
    were scheduled while the reader copies out of the ring."""

    race = None

    def __setitem__(self, key, value):
        if self.race is not None:
            self.race()
        super().__setitem__(key, value)


def test_a_read_torn_by_the_writer_is_detected_and_not_delivered():
    writer, reader = open_ring(8)
    writer.write(frames(0, 8))
    out = np.zeros(8, np.float32).view(_RacingOut)
    raced = []

    def writer_laps_once():
        if not raced:
            raced.append(writer.write(frames(8, 4)))  # overwrites slots 0..3 mid-copy

    out.race = writer_laps_once
    n = reader.read_into(out)
    assert raced, "the race did not happen"
    assert serials(np.asarray(out[:n])) == list(range(4, 12))  # not [8, 9, 10, 11, 4, ...]
    assert (reader.statistics().overruns, reader.statistics().frames_dropped) == (1, 4)


class _SlicedBlock(np.ndarray):
    """A block whose every slicing first runs `race` -- the reader scheduled mid-write."""

    race = None

    def __array_finalize__(self, parent):
        self.race = getattr(parent, "race", None)  # slices of the block race too

    def __getitem__(self, key):
        if self.race is not None:
            self.race()
        return super().__getitem__(key)


def assert_stream_intact(chunks: list[np.ndarray], stats) -> None:
    """Delivered frames are in order and intact; the gaps are exactly the counted drops."""
    delivered = [s for chunk in chunks for s in serials(chunk)]
    assert delivered == sorted(set(delivered)), "out of order or repeated"
    written, dropped = stats.frames_written_total, stats.frames_dropped
    assert len(delivered) == stats.frames_read_total == written - dropped - stats.available
    gaps = sum(b - a - 1 for a, b in zip([-1, *delivered], delivered))
    assert gaps == dropped + stats.frames_flushed


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(2, 16),
    writes=st.lists(st.integers(1, 24), min_size=1, max_size=30),
    reads=st.lists(st.integers(1, 16), min_size=1, max_size=30),
)
def test_interleavings_inside_a_copy_never_deliver_torn_frames(capacity, writes, reads):
    """The other side runs at every point where one side slices an array mid-copy."""
    writer, reader = open_ring(capacity, channels=2)
    chunks, serial, raced = [], 0, {"reads": 0, "writes": 0}
    racing_reads = iter(reads * 3)

    def reader_runs():
        raced["reads"] += 1
        out = np.zeros((next(racing_reads, 1), 2), np.float32)
        chunks.append(out[: reader.read_into(out)].copy())

    for n in writes:
        block = frames(serial, n, 2).view(_SlicedBlock)
        block.race = reader_runs
        writer.write(block)
        serial += n
    racing_writes = iter(writes)

    def writer_runs():
        nonlocal serial
        raced["writes"] += 1
        n = next(racing_writes, 0)
        writer.write(frames(serial, n, 2))
        serial += n

    for m in reads:
        out = np.zeros((m, 2), np.float32).view(_RacingOut)
        out.race = writer_runs
        chunks.append(np.asarray(out[: reader.read_into(out)]).copy())
    drain = np.zeros((capacity, 2), np.float32)
    chunks.append(drain[: reader.read_into(drain)].copy())
    assert raced["reads"] >= len(writes) and raced["writes"] >= len(reads)  # the races really ran
    assert_stream_intact(
        chunks, reader.statistics()
    )  # in order, no torn frame, gaps = counted drops


def test_two_real_threads_deliver_every_frame_in_order_or_count_it_dropped():
    writer, reader = open_ring(256, channels=2)
    total, chunks = 100_000, []
    head_start, done = threading.Event(), threading.Event()

    def produce():
        rng, serial = np.random.default_rng(1), 0
        while serial < total:
            n = int(rng.integers(1, 400))  # sometimes longer than the ring
            writer.write(frames(serial, n, 2))
            serial += n
            if serial > 3 * 256:
                head_start.set()  # the consumer starts lapped: at least one overrun
        done.set()

    def consume():
        rng, out = np.random.default_rng(2), np.zeros((300, 2), np.float32)
        head_start.wait()
        while not (done.is_set() and reader.available == 0):
            n = reader.read_into(out[: int(rng.integers(1, 300))])
            chunks.append(out[:n].copy())

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so copies really get interleaved
    try:
        threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    stats = reader.statistics()
    assert_stream_intact(chunks, stats)
    assert stats.frames_written_total >= total and stats.overruns >= 1
    assert stats.available == 0


def test_the_hot_path_allocates_no_audio_buffers():
    writer, reader = open_ring(8192)
    block, out = frames(0, 3000), np.zeros(3000, np.float32)  # 3000 does not divide 8192: wraps
    writer.write(block)
    reader.fill(out)  # warm up
    tracemalloc.start()
    try:
        for _ in range(20):
            writer.write(block)
            reader.fill(out)
            reader.read_into(out)  # empty: the ring is drained every round
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < block.nbytes // 4  # views and ints only; one copied block would be 12 kB


def test_the_writer_learns_exactly_where_a_flush_landed():
    writer, reader = open_ring(100)
    writer.write(np.arange(50, dtype=np.float32))
    out = np.zeros(10, np.float32)
    reader.read_into(out)  # played 10 frames
    generation = writer.request_flush()
    assert writer.flushed_at(generation) is None  # the reader has not been back yet
    reader.read_into(out)  # the reader applies the flush first, then reads nothing
    assert writer.flushed_at(generation) == 10 and reader.available == 0
    writer.write(np.ones(5, np.float32))
    assert writer.flushed_at(generation) == 10 and writer.flushed_at(generation + 1) is None
