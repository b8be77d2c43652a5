"""Streaming voice activity detection: where speech starts and stops in a mono stream.

Contract: one `SpeechDetector` per stream, fed from one thread -- the asyncio loop's mic pump,
on the echo-cancelled 24 kHz mic. Pure: no threads, no I/O, no clock. `feed` takes float32
blocks of any size and returns the edges they complete; positions count samples of the fed
stream (at `rate`), so the caller turns them into wall time with its own capture timestamps.
Feeding a stream in any split gives the same edges as feeding it whole.

How: the stream is resampled to 16 kHz (webrtcvad refuses 24 kHz), the resampler's look-ahead
is dropped so VAD frame k covers exactly stream time [k, k+1) * frame_ms, and each frame counts
as voiced when webrtcvad says so *and* its level reaches `floor_dbfs` (webrtcvad alone flags
digital silence and faint noise now and then). `onset_ms` of consecutive voiced frames start a
segment, backdated to its first voiced frame; `hangover_ms` of consecutive unvoiced frames end
it, at the end of its last voiced frame -- so a stop is reported `hangover_ms` after its
position, and a segment's length is the speech's, not the speech plus the hangover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import webrtcvad

from talkapp.audio.pcm import mean_square, to_mono
from talkapp.audio.resampler import StreamResampler

VAD_RATE = 16_000  # webrtcvad takes 8/16/32/48 kHz; 16 kHz matched an energy reference best
FRAME_MS = (10, 20, 30)  # the frame lengths webrtcvad accepts


@dataclass(frozen=True)
class SpeechEdge:
    """Speech started (at its first voiced frame) or stopped (after its last voiced frame),
    `sample` samples into the stream fed to the detector, at `rate` Hz."""

    started: bool
    sample: int
    rate: int

    @property
    def ms(self) -> float:
        return 1000.0 * self.sample / self.rate


class SpeechDetector:
    """Finds speech segments in a mono float32 stream (see the module docstring)."""

    def __init__(
        self,
        rate: int = 24_000,
        aggressiveness: int = 2,
        onset_ms: int = 30,
        hangover_ms: int = 200,
        frame_ms: int = 10,
        floor_dbfs: float = -50.0,
    ) -> None:
        _check(rate, aggressiveness, onset_ms, hangover_ms, frame_ms)
        self.rate, self.aggressiveness, self.frame_ms = rate, aggressiveness, frame_ms
        self._frame = VAD_RATE * frame_ms // 1000
        self._onset = max(1, math.ceil(onset_ms / frame_ms))
        self._hangover = max(1, math.ceil(hangover_ms / frame_ms))
        # float32 mean square of a frame at the floor; int16 scaling happens later
        self._floor = 10.0 ** (floor_dbfs / 10.0)
        self._resampler = StreamResampler(rate, VAD_RATE)
        self.reset()

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def voice_end_sample(self) -> int:
        """The stream sample just after the last frame judged voiced (0: none yet); unlike the
        edges, no hangover: it stops moving as soon as the voice does."""
        return round(self._voice_end * self._frame * self.rate / VAD_RATE)

    def reset(self) -> None:
        """Forget the stream: the next `feed` starts a new one at sample 0."""
        self._resampler.reset()
        self._vad = webrtcvad.Vad(self.aggressiveness)  # it adapts to the noise: start afresh
        self._skip = self._resampler.latency_frames  # outputs from before the stream started
        self._pending = np.zeros(0, np.float32)
        self._judged = 0  # frames judged so far
        self._run = 0  # voiced frames in a row while silent, unvoiced ones while speaking
        self._speaking = False
        self._voice_end = 0  # frame index just after the last voiced frame

    def feed(self, samples: np.ndarray) -> list[SpeechEdge]:
        """Take the next block of the stream; return the edges it completes, in order."""
        resampled = self._resampler.process(to_mono(samples))
        dropped = min(self._skip, len(resampled))
        self._skip -= dropped
        self._pending = np.concatenate([self._pending, resampled[dropped:]])
        whole = len(self._pending) // self._frame * self._frame
        frames, self._pending = self._pending[:whole], self._pending[whole:]
        edges = (self._judge(f) for f in frames.reshape(-1, self._frame))
        return [edge for edge in edges if edge is not None]

    def _judge(self, frame: np.ndarray) -> SpeechEdge | None:
        voiced = self._voiced(frame)
        index, self._judged = self._judged, self._judged + 1
        self._run = 0 if voiced == self._speaking else self._run + 1
        if voiced:
            self._voice_end = index + 1
        if not self._speaking and self._run == self._onset:
            return self._edge(True, index + 1 - self._onset)
        if self._speaking and self._run == self._hangover:
            return self._edge(False, self._voice_end)
        return None

    def _edge(self, started: bool, frame_index: int) -> SpeechEdge:
        self._speaking, self._run = started, 0
        sample = round(frame_index * self._frame * self.rate / VAD_RATE)
        return SpeechEdge(started, sample, self.rate)

    def _voiced(self, frame: np.ndarray) -> bool:
        if mean_square(frame) < self._floor:
            return False  # below the floor: never speech, whatever webrtcvad thinks
        pcm = np.clip(np.round(frame * 32768.0), -32768, 32767).astype("<i2")
        return bool(self._vad.is_speech(pcm.tobytes(), VAD_RATE))


def _check(rate: int, aggressiveness: int, onset_ms: int, hangover_ms: int, frame_ms: int) -> None:
    """Reject settings webrtcvad or the framing cannot honour (a caller's mistake)."""
    if rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate}")
    if aggressiveness not in (0, 1, 2, 3):
        raise ValueError(f"aggressiveness must be 0..3, got {aggressiveness}")
    if frame_ms not in FRAME_MS:
        raise ValueError(f"frame_ms must be one of {FRAME_MS}, got {frame_ms}")
    if onset_ms < 0 or hangover_ms < 0:
        raise ValueError(f"onset/hangover must be >= 0 ms, got {onset_ms}/{hangover_ms}")
