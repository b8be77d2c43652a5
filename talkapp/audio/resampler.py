"""Streaming sample-rate conversion: polyphase windowed sinc, any rational ratio.

Contract: one `StreamResampler` per audio stream, called from one thread -- the asyncio loop
(mic pump: device rate -> 24 kHz or a VAD rate; playback feeder: 24 kHz -> device rate). Never
from a PortAudio callback: `process` allocates its output array.

Streaming equals one-shot: feed any split of a signal through `process` and end with `flush`,
and the concatenated output is that signal resampled in one go, delayed by exactly
`latency_frames` output frames (`latency_ms`). The delay is the filter's look-ahead rounded
up to whole output frames, so output frame n is the band-limited input at time
(n - latency_frames) / dst_rate; the first `latency_frames` frames are the filter settling
on the silence before the stream. Same rate is a copying passthrough with zero latency.

Filter: a Kaiser-windowed sinc, `HALF_TAPS` taps per side counted at the lower of the two
rates, cutoff `CUTOFF` of that rate's Nyquist, every phase normalised to unity DC gain.
Stopband >= 60 dB from the lower Nyquist up (so nothing above it aliases audibly); passband
flat within 0.1 dB to 0.8 of it (9.6 kHz on the 24 kHz wire).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# The kernel, public so tests can rebuild it independently. Upsampling: 24 taps per side at the
# input rate. Downsampling: widened to 24 per side at the output rate, which is what keeps
# 48 -> 8 kHz as clean as 48 -> 24 kHz.
HALF_TAPS = 24
KAISER_BETA = 8.0  # ~80 dB window sidelobes
CUTOFF = 0.9  # -6 dB point as a fraction of the lower rate's Nyquist; stopband from 1.0 up
# Ratios with at most this many phases (48 -> 24, 24 -> 48, 24 -> 16 kHz) filter phase by phase
# over strided views; more (44.1 kHz's 80) gather each output's window instead.
PHASE_RUNS_UP_TO = 4


def polyphase_table(up: int, down: int) -> tuple[int, np.ndarray]:
    """Kernel for resampling by up/down: (half span in input samples, table[up, 2*half]).

    Row p holds the taps for an output that falls p/up of an input sample after its base
    input sample; tap j sits at input offset j - half + 1 from that base.
    """
    scale = min(1.0, up / down)  # < 1 when downsampling: widen the kernel, lower the cutoff
    half = HALF_TAPS if up >= down else -(-HALF_TAPS * down // up)  # ceil, in input samples
    offsets = np.arange(-half + 1, half + 1, dtype=np.float64)
    x = offsets[None, :] - (np.arange(up, dtype=np.float64) / up)[:, None]  # tap - instant
    kernel = np.sinc(scale * CUTOFF * x) * _kaiser(x / half)
    kernel /= kernel.sum(axis=1, keepdims=True)  # unity gain at DC for every phase
    return half, kernel.astype(np.float32)


def _kaiser(u: np.ndarray) -> np.ndarray:
    """Kaiser window on a continuous axis: (-1, 1) maps to the window, the rest to 0. The
    window spans exactly the integer tap range, so only a whole-sample instant has taps on
    its edges, and both get 0: every phase stays symmetric about its instant."""
    inside = np.clip(1.0 - u * u, 0.0, None)
    return np.where(np.abs(u) < 1.0, np.i0(KAISER_BETA * np.sqrt(inside)), 0.0)


class StreamResampler:
    """Converts a stream from `src_rate` to `dst_rate`, block by block (see module docstring).

    Blocks are float32-convertible arrays of shape (n,) or (n, 1) for mono, (n, channels)
    otherwise; outputs are (m,) for mono, (m, channels) otherwise.
    """

    def __init__(self, src_rate: int, dst_rate: int, channels: int = 1) -> None:
        if src_rate <= 0 or dst_rate <= 0 or channels < 1:
            raise ValueError(f"bad resampler shape: {src_rate} -> {dst_rate} Hz, {channels} ch")
        self.src_rate, self.dst_rate, self.channels = src_rate, dst_rate, channels
        g = math.gcd(src_rate, dst_rate)
        self._up, self._down = dst_rate // g, src_rate // g
        self._identity = src_rate == dst_rate
        self._half, self._table = 0, np.empty((0, 0), np.float32)  # unused when identity
        if not self._identity:
            self._half, self._table = polyphase_table(self._up, self._down)
        # Whole output frames of delay that cover the kernel's look-ahead of `half` inputs.
        self.latency_frames = -(-self._half * self._up // self._down)
        self.reset()

    @property
    def latency_ms(self) -> float:
        return 1000.0 * self.latency_frames / self.dst_rate

    def reset(self) -> None:
        """Forget the stream: the next `process` starts a new one."""
        self._received = 0  # input frames taken so far
        self._emitted = 0  # output frames returned so far
        # The kernel's first taps reach before the stream: they read silence.
        self._first = min(0, self._first_tap(0))  # input index of _history[0]
        self._history = np.zeros((-self._first, self.channels), dtype=np.float32)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Take the next input block; return every output frame it completes."""
        frames = self._as_frames(block)
        if self._identity:
            return self._shaped(frames.copy())  # a copy: callers reuse their input buffers
        self._history = np.concatenate([self._history, frames])
        self._received += len(frames)
        # Output n is complete once the input reaches its last tap, base(n) + half.
        return self._emit(self._outputs_before(self._received - self._half))

    def flush(self) -> np.ndarray:
        """End the stream: return the remaining outputs (up to the last input instant, as if
        silence followed), then reset."""
        if self._identity:
            return self._shaped(np.zeros((0, self.channels), dtype=np.float32))
        silence = np.zeros((self._half, self.channels), dtype=np.float32)
        self._history = np.concatenate([self._history, silence])
        tail = self._emit(self._outputs_before(self._received))
        self.reset()
        return tail

    def _outputs_before(self, limit: int) -> int:
        """How many outputs sit before input position `limit` (in input samples)."""
        # output n sits at input position (n - latency) * down / up
        return max(0, self.latency_frames - (-limit * self._up // self._down))

    def _as_frames(self, block: np.ndarray) -> np.ndarray:
        frames = np.asarray(block, dtype=np.float32)
        frames = frames[:, None] if frames.ndim == 1 else frames
        if frames.ndim != 2 or frames.shape[1] != self.channels:
            raise ValueError(f"expected ({self.channels} channel) frames, got shape {frames.shape}")
        return frames

    def _base(self, n: np.ndarray | int) -> tuple[Any, Any]:
        """Input index at or before output n's position, and the phase past it."""
        return divmod((n - self.latency_frames) * self._down, self._up)

    def _first_tap(self, n: int) -> int:
        return int(self._base(n)[0]) - self._half + 1

    def _emit(self, end: int) -> np.ndarray:
        out = np.empty((max(0, end - self._emitted), self.channels), np.float32)
        if len(out) == 0:
            return self._shaped(out)
        if self._up <= PHASE_RUNS_UP_TO:
            self._filter_phase_runs(out)
        else:
            self._filter_gathered(out)
        self._emitted = end
        self._drop_history_before(self._first_tap(self._emitted))
        return self._shaped(out)

    def _filter_phase_runs(self, out: np.ndarray) -> None:
        """Outputs `up` apart share a phase and sit `down` inputs apart, so each such run is one
        product of a strided view of the history with that phase's taps: no copies."""
        for j in range(min(self._up, len(out))):
            base, phase = self._base(self._emitted + j)
            runs = -(-(len(out) - j) // self._up)
            windows = self._windows(base - self._half + 1 - self._first, runs, self._down)
            np.matmul(windows, self._table[phase], out=out[j :: self._up])

    def _filter_gathered(self, out: np.ndarray) -> None:
        """Each output's own window and phase row, gathered (for ratios with many phases)."""
        base, phase = self._base(np.arange(self._emitted, self._emitted + len(out)))
        every = self._windows(0, len(self._history) - 2 * self._half + 1, 1)
        np.einsum(
            "mct,mt->mc", every[base - self._half + 1 - self._first], self._table[phase], out=out
        )

    def _windows(self, first: int, count: int, step: int) -> np.ndarray:
        """A view of `count` filter windows of the history, the first starting at history frame
        `first`, each `step` frames after the last: shape (count, channels, taps). (What
        sliding_window_view makes, without its per-call checks, which cost more than the
        filtering of a 10 ms block; numpy still checks the view stays inside the history.)"""
        frame_stride, channel_stride = self._history.strides
        return np.ndarray(
            (count, self.channels, 2 * self._half),
            np.float32,
            buffer=self._history,
            offset=first * frame_stride,
            strides=(step * frame_stride, channel_stride, frame_stride),
        )

    def _drop_history_before(self, index: int) -> None:
        self._history = self._history[index - self._first :]
        self._first = index

    def _shaped(self, frames: np.ndarray) -> np.ndarray:
        return frames[:, 0] if self.channels == 1 else frames
