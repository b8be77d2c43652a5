"""Single-producer/single-consumer ring of float32 audio frames between two threads.

Contract: `open_ring()` returns (RingWriter, RingReader); data flows left to right. Exactly one
thread calls the writer's methods and exactly one thread calls the reader's methods:
  capture:  input callback (PortAudio thread) writes  ->  asyncio loop reads
  playback: asyncio loop writes                      ->  output callback reads (`fill`)
Either end may call `statistics()` (a snapshot assembled without a lock, so fields may be one
block apart when the other side is busy).

Hot path (`write`, `read_into`, `fill`, `discard`): no locks, no logging, no exceptions, no new
numpy buffers -- audio is copied by slice assignment into preallocated storage or into the
caller's array. CPython still creates slice views and small ints on every call; that is
unavoidable and cheap (freelist-sized objects, no audio-sized allocation).

Storage is shape (frames,) for mono, so a callback passes `indata[:, 0]` / `outdata[:, 0]`,
and (frames, channels) otherwise; blocks must have the matching trailing shape.

Positions are ever-increasing frame counters. Each variable has one writing thread:
  writer: `claimed` (end of the block being copied in), `written` (end of the last complete
          block), `flush_mark` (generation, position) -- one tuple, so it is read atomically;
  reader: `read_pos` and every reader-side counter.
Overrun policy: the newest audio wins. The writer never waits and never touches `read_pos`; the
reader notices it was lapped (frames older than `claimed - capacity` may be overwritten), skips
to the oldest intact frame and counts one overrun plus the frames lost. Because CPython may
switch threads (and numpy may drop the GIL) mid-copy, the reader re-checks `claimed` after
copying, seqlock style, and retries if the writer reached into what it just copied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_READ_ATTEMPTS = 3  # a torn read needs the writer to lap a whole ring during one copy


@dataclass(frozen=True)
class RingStatistics:
    capacity: int
    available: int  # frames a read could deliver now
    overruns: int  # reads that found they had been lapped (oldest audio overwritten)
    frames_dropped: int  # frames lost to overruns
    underruns: int  # `fill` calls that padded with silence while audio was flowing
    flushes: int  # flushes applied (writer `request_flush`) plus reader `discard` calls
    frames_flushed: int  # frames thrown away by flushes and discards
    frames_written_total: int
    frames_read_total: int  # frames delivered to the reader's caller (for playback: played)


class _RingState:
    """Storage plus the counters; the comments say which thread may assign each one."""

    __slots__ = (
        "capacity",
        "claimed",
        "end_mark",
        "flush_mark",
        "flushed_at",
        "flushes",
        "frames_dropped",
        "frames_flushed",
        "frames_read",
        "overruns",
        "read_pos",
        "storage",
        "underruns",
        "written",
    )  # fmt: skip

    def __init__(self, frames: int, channels: int) -> None:
        shape = (frames,) if channels == 1 else (frames, channels)
        self.storage = np.zeros(shape, dtype=np.float32)
        self.capacity = frames
        self.claimed = 0  # writer
        self.written = 0  # writer
        self.flush_mark = (0, 0)  # writer: (generation, write position when flushed)
        self.end_mark = -1  # writer: where the last complete stream (a reply) ended
        self.read_pos = 0  # reader
        self.frames_read = 0  # reader
        self.overruns = 0  # reader
        self.frames_dropped = 0  # reader
        self.underruns = 0  # reader
        self.flushes = 0  # reader
        self.frames_flushed = 0  # reader
        self.flushed_at = (0, 0)  # reader: (flush generation, read position when it was applied)


def open_ring(frames: int, channels: int = 1) -> tuple[RingWriter, RingReader]:
    """Preallocate a ring of `frames` frames; return its (writer, reader) ends."""
    if frames < 1 or channels < 1:
        raise ValueError(f"a ring needs frames >= 1 and channels >= 1, got {frames}, {channels}")
    state = _RingState(frames, channels)
    return RingWriter(state), RingReader(state)


def _available(st: _RingState, start: int) -> int:
    return max(0, st.written - max(start, st.flush_mark[1], st.claimed - st.capacity))


def _statistics(st: _RingState) -> RingStatistics:
    return RingStatistics(
        capacity=st.capacity,
        available=_available(st, st.read_pos),
        overruns=st.overruns,
        frames_dropped=st.frames_dropped,
        underruns=st.underruns,
        flushes=st.flushes,
        frames_flushed=st.frames_flushed,
        frames_written_total=st.written,
        frames_read_total=st.frames_read,
    )


class RingWriter:
    """The producing end: `write` never blocks; when the ring is full the oldest audio goes."""

    __slots__ = ("_st",)

    def __init__(self, state: _RingState) -> None:
        self._st = state

    @property
    def capacity(self) -> int:
        return self._st.capacity

    def write(self, block: np.ndarray) -> int:
        """Append `block` (all of it: returns len(block)). A block longer than the ring keeps
        only its newest `capacity` frames; the reader counts the rest as dropped."""
        st, n = self._st, len(block)
        end = st.written + n
        st.claimed = end  # publish the intent first: the reader re-checks it after copying
        kept = min(n, st.capacity)
        self._copy_in(block[n - kept :], end - kept)
        st.written = end  # publish the data only once it is all in place
        return n

    def _copy_in(self, block: np.ndarray, pos: int) -> None:
        st = self._st
        head = pos % st.capacity
        first = min(len(block), st.capacity - head)
        st.storage[head : head + first] = block[:first]
        st.storage[: len(block) - first] = block[first:]  # the wrapped part (maybe empty)

    @property
    def position(self) -> int:
        """Frames written so far (the number the next written frame will have)."""
        return self._st.written

    def flushed_at(self, generation: int) -> int | None:
        """The reader's position when it applied flush `generation` (None: not applied yet):
        exactly how far playback got before a barge-in silenced it."""
        applied, position = self._st.flushed_at
        return position if applied >= generation else None

    def mark_end(self) -> None:
        """What is written so far is a whole stream (a reply): running dry right there is its
        natural end, not an underrun."""
        self._st.end_mark = self._st.written

    def request_flush(self) -> int:
        """Ask the reader to drop everything written so far (barge-in); it does so on its next
        read. Returns the flush's generation (see `flushed_at`). Only the writer's own flush marker
        changes, so this is safe from the writer's thread while the reader is mid-read."""
        st = self._st
        st.flush_mark = (st.flush_mark[0] + 1, st.written)
        return st.flush_mark[0]

    def statistics(self) -> RingStatistics:
        return _statistics(self._st)


class RingReader:
    """The consuming end: `read_into` for the loop, `fill` for an output callback."""

    __slots__ = ("_flowing", "_flush_generation", "_st")

    def __init__(self, state: _RingState) -> None:
        self._st = state
        self._flush_generation = 0  # the writer's generation this reader has applied
        self._flowing = False  # the last `fill` delivered a full block of audio

    @property
    def capacity(self) -> int:
        return self._st.capacity

    @property
    def available(self) -> int:
        """Frames a read could deliver now (after pending flushes and overruns)."""
        return _available(self._st, self._st.read_pos)

    @property
    def frames_read_total(self) -> int:
        """Frames handed out so far; for playback, the frames really played."""
        return self._st.frames_read

    @property
    def position(self) -> int:
        """How far the reader has got, in the writer's frame count (read, dropped or flushed):
        the frame with this number is the next one to play."""
        return self._st.read_pos

    def read_into(self, out: np.ndarray) -> int:
        """Copy up to len(out) of the oldest intact frames into `out[:n]`; return n. The rest of
        `out` is left as it was (the caller zero-fills it, or uses `fill`)."""
        for _ in range(_READ_ATTEMPTS):
            n = self._try_read(out)
            if n >= 0:
                return n
        return 0  # lapped during every attempt: deliver nothing now, the next call catches up

    def fill(self, out: np.ndarray) -> int:
        """For an output callback: read, zero the tail, and count an underrun when silence had
        to be padded while audio was flowing (the first short block of a dry spell, or a
        block that carried some audio). Idle silence and silence right after a flush are not
        underruns; nor is running dry exactly where the writer marked a stream's end
        (`mark_end`). Returns the frames of real audio delivered."""
        n = self.read_into(out)
        if n < len(out):
            out[n:] = 0
            if (n > 0 or self._flowing) and self._st.read_pos != self._st.end_mark:
                self._st.underruns += 1
        self._flowing = 0 < n == len(out)
        return n

    def discard(self) -> None:
        """Drop everything written so far (push-to-talk press clears stale capture)."""
        st = self._st
        self._skip_to(st.written, flushed=True)
        st.flushes += 1
        self._flowing = False

    def statistics(self) -> RingStatistics:
        return _statistics(self._st)

    def _try_read(self, out: np.ndarray) -> int:
        """One seqlock-style attempt: -1 when the writer tore the copy (nothing committed)."""
        st = self._st
        generation, flush_pos = st.flush_mark  # read before `written`, so flush_pos <= written
        written = st.written
        after_flush = max(st.read_pos, flush_pos)
        start = max(after_flush, st.claimed - st.capacity)  # older frames may be overwritten
        if start > written:
            return -1  # a block longer than the ring is being copied in; nothing intact yet
        n = min(len(out), written - start)
        self._copy_out(out, start, n)
        if st.claimed - st.capacity > start:
            return -1  # the writer reached into what we copied: do not deliver it
        self._apply_flush(generation, after_flush)
        self._skip_to(start, flushed=False)
        st.read_pos = start + n
        st.frames_read += n
        return n

    def _copy_out(self, out: np.ndarray, start: int, n: int) -> None:
        st = self._st
        head = start % st.capacity
        first = min(n, st.capacity - head)
        out[:first] = st.storage[head : head + first]
        out[first:n] = st.storage[: n - first]  # the wrapped part (maybe empty)

    def _apply_flush(self, generation: int, flush_pos: int) -> None:
        if generation != self._flush_generation:
            self._st.flushes += generation - self._flush_generation
            self._flush_generation = generation
            self._flowing = False
            # Where playback really stopped, for the writer's side to read (one tuple per
            # barge-in; never on the steady path).
            self._st.flushed_at = (generation, self._st.read_pos)
        self._skip_to(flush_pos, flushed=True)

    def _skip_to(self, pos: int, *, flushed: bool) -> None:
        st = self._st
        skipped = pos - st.read_pos
        if skipped <= 0:
            return
        if flushed:
            st.frames_flushed += skipped
        else:
            st.overruns += 1
            st.frames_dropped += skipped
        st.read_pos = pos
