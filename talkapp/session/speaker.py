"""The playback feeder: reply audio (24 kHz) → device rate → playback ring, a little ahead of
the output callback; and, as the callback consumes it, the far-end reference for echo
cancellation, the output level and what the user has heard of each item.

Runs on the asyncio loop only. The service sends audio faster than real time; it waits here, in
a plain queue, and only `lead_ms` of it sits in the ring, so the ring never overruns (which
would drop unplayed audio) and a barge-in flush has little to throw away.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from talkapp.audio.echo import EchoCanceller
from talkapp.audio.pcm import WIRE_RATE, pcm16_to_float, rms_dbfs
from talkapp.audio.resampler import StreamResampler
from talkapp.audio.ring import RingReader, RingWriter
from talkapp.session.playback import PlaybackTracker

# Reply audio waiting to play, at most (24 kHz samples): a service that sends far more than it
# could ever play (ten 12 MiB deltas are ~290 MiB as floats) must not fill the memory.
MAX_QUEUED_SAMPLES = 5 * 60 * WIRE_RATE


@dataclass
class _InRing:
    """Reply audio handed to the ring but not yet consumed by the output callback."""

    end: int  # ring position after its last frame
    frames: int  # device frames it occupies
    wire: np.ndarray  # the same audio at 24 kHz, for the echo reference and the level


class Speaker:
    def __init__(
        self,
        ring: RingWriter,
        played: RingReader,
        device_rate: int,
        echo: EchoCanceller,
        lead_ms: int = 300,
    ) -> None:
        self._ring = ring
        self._played = played  # only `.position` is read here: the callback owns the rest
        self._echo = echo
        self._lead_ms = lead_ms
        self._queue: deque[tuple[str, np.ndarray | None]] = deque()  # None: the item's end
        self._queued = 0  # samples in `_queue`
        self._in_ring: deque[_InRing] = deque()
        self._playing = False
        self._open_item: str | None = (
            None  # the item whose audio is arriving, its end not yet known
        )
        self.level_dbfs = float("-inf")
        self.feeds_echo = True  # False while the microphone is closed: nothing to cancel
        self.set_device_rate(device_rate)

    def set_device_rate(self, rate: int) -> None:
        self.device_rate = rate
        self._resampler = StreamResampler(WIRE_RATE, rate)
        self.tracker = PlaybackTracker(rate, self._resampler.latency_frames)
        self.flush()

    @property
    def playing(self) -> bool:
        """Reply audio waits or sits in the ring, not yet all consumed by the output."""
        return self._playing

    def play(self, item_id: str, pcm: bytes) -> bool:
        """Queue reply audio; False when the queue is full and this audio was dropped."""
        samples = len(pcm) // 2
        if self._queued + samples > MAX_QUEUED_SAMPLES:
            return False
        self._queue.append((item_id, pcm16_to_float(pcm)))
        self._queued += samples
        self._playing, self._open_item = True, item_id
        self.feed()
        return True

    def end_of_item(self, item_id: str) -> None:
        """The item's audio is complete: its last milliseconds still sit in the resampler."""
        if self._playing:
            self._queue.append((item_id, None))
            self.feed()
        if item_id == self._open_item:
            self._open_item = None

    def cut_off(self) -> None:
        """The connection is gone: the reply arriving will get no more audio. What came plays
        to its end, and running dry there is that reply's end, not an underrun."""
        if self._open_item is not None:
            self.end_of_item(self._open_item)

    def flush(self) -> int:
        """Drop everything not yet played (barge-in). The callback applies it within a block;
        returns the flush's generation for `heard_after_flush`."""
        generation = self._ring.request_flush()
        self._queue.clear()
        self._queued = 0
        self._in_ring.clear()
        self._resampler.reset()
        self._playing, self._open_item = False, None
        self.level_dbfs = float("-inf")
        return generation

    async def heard_after_flush(self, item_id: str, generation: int, wait_s: float = 0.05) -> int:
        """What was heard of `item_id`, exactly: the output callback's position when it applied
        the flush. (Counted before the flush, a block could still slip out in between.)"""
        deadline = time.monotonic() + wait_s
        while (position := self._ring.flushed_at(generation)) is None:
            if time.monotonic() > deadline:
                return self.heard_ms(item_id)  # no callback ran (a stalled or closed device)
            await asyncio.sleep(0.001)
        return self.tracker.heard_ms(item_id, position)

    def feed(self) -> bool:
        """Top up the ring, account for what was played; True once when playback drained."""
        self._consume()
        ahead_ms = 1000.0 * (self._ring.position - self._played.position) / self.device_rate
        while self._queue and ahead_ms < self._lead_ms:
            item_id, wire = self._queue.popleft()
            self._queued -= 0 if wire is None else wire.size
            ahead_ms += self._write(item_id, wire)
        if self._playing and not self._queue and not self._in_ring:
            self._playing = False
            self.level_dbfs = float("-inf")
            return True
        return False

    def drop_unplayable(self) -> bool:
        """With no output device nothing will ever consume the ring: let the reply go (its
        transcript still shows) so the conversation moves on. True if a reply was dropped."""
        if not self._playing:
            return False
        self.flush()
        return True

    def heard_ms(self, item_id: str) -> int:
        return self.tracker.heard_ms(item_id, self._played.position)

    def audible_item(self) -> str | None:
        """The item the output callback is playing (or last played)."""
        return self.tracker.item_at(self._played.position)

    def started_playing(self, item_id: str) -> bool:
        """The output callback has taken at least one frame of this item."""
        return self.tracker.heard_ms(item_id, self._played.position) > 0

    def _write(self, item_id: str, wire: np.ndarray | None) -> float:
        """Queue one chunk of the item (None: its end); returns the ms it adds to the ring."""
        if wire is None:  # the item's end: the resampler's tail, then a fresh filter state
            added = self._put(np.zeros(0, np.float32), self._resampler.flush())
            self._ring.mark_end()  # the reply running out right there is not an underrun
            return added
        device = self._resampler.process(wire)
        self.tracker.wrote(item_id, self._ring.position, 1000.0 * wire.size / WIRE_RATE)
        return self._put(wire, device)

    def _put(self, wire: np.ndarray, device: np.ndarray) -> float:
        if device.size == 0:
            return 0.0
        self._ring.write(device)
        self._in_ring.append(_InRing(self._ring.position, len(device), wire))
        return 1000.0 * len(device) / self.device_rate

    def _consume(self) -> None:
        """Hand the audio the callback has taken to the echo canceller, in order."""
        position = self._played.position
        while self._in_ring and self._in_ring[0].end - self._in_ring[0].frames < position:
            chunk = self._in_ring[0]
            taken = min(chunk.frames, chunk.frames - (chunk.end - position))
            wire_taken = round(len(chunk.wire) * taken / chunk.frames)
            self._played_out(chunk.wire[:wire_taken])
            if taken >= chunk.frames:
                self._in_ring.popleft()
            else:  # partly played: keep the rest for the next round
                chunk.wire, chunk.frames = chunk.wire[wire_taken:], chunk.frames - taken
                break

    def _played_out(self, wire: np.ndarray) -> None:
        if wire.size:
            if self.feeds_echo:
                self._echo.far_end(wire)
            self.level_dbfs = rms_dbfs(wire)
