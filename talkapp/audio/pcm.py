"""PCM sample conversions and sample-rate conversion (pure numpy, no I/O).

The wire format of the Realtime API is 24 kHz mono signed 16-bit little-endian PCM;
everything inside the app works on float32 mono in [-1, 1] and converts at the edges.
"""

from __future__ import annotations

import math

import numpy as np

WIRE_RATE = 24_000
BYTES_PER_SAMPLE = 2


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Little-endian PCM16 bytes to float32 samples in [-1, 1)."""
    usable = len(data) - len(data) % BYTES_PER_SAMPLE  # a torn trailing byte is ignored
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """float samples (clipped to [-1, 1]) to little-endian PCM16 bytes; exact inverse of
    `pcm16_to_float`."""
    scaled = np.round(np.asarray(samples, dtype=np.float32) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


def duration_ms(pcm16: bytes, rate: int = WIRE_RATE) -> float:
    return 1000.0 * (len(pcm16) // BYTES_PER_SAMPLE) / rate


def to_mono(frames: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) float array to (n,) by averaging channels."""
    frames = np.asarray(frames, dtype=np.float32)
    return frames if frames.ndim == 1 else frames.mean(axis=1, dtype=np.float32)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int, half_taps: int = 16) -> np.ndarray:
    """Band-limited resampling of a whole signal (windowed-sinc interpolation).

    Good enough for speech (stopband well below the 16-bit noise floor is not the goal;
    no audible aliasing is). Streaming conversion lives with the audio engine.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if src_rate == dst_rate or samples.size == 0:
        return samples.copy()
    ratio = dst_rate / src_rate
    n_out = int(math.floor(samples.size * ratio))
    cutoff = 0.97 * min(1.0, ratio)  # fraction of the source Nyquist; low-pass when downsampling
    out = np.empty(n_out, dtype=np.float32)
    offsets = np.arange(-half_taps + 1, half_taps + 1)
    padded = np.pad(samples, (half_taps, half_taps + 1))
    # Chunked so memory stays bounded for long files.
    for start in range(0, n_out, 8192):
        t = np.arange(start, min(start + 8192, n_out)) / ratio  # positions in source samples
        base = np.floor(t).astype(np.int64)
        frac = (t - base)[:, None]
        idx = base[:, None] + offsets[None, :]
        x = offsets[None, :] - frac  # distance from each tap to the exact position
        kernel = cutoff * np.sinc(cutoff * x) * np.kaiser(2 * half_taps, 8.0)[None, :]
        kernel /= kernel.sum(axis=1, keepdims=True)  # unity gain at DC
        out[start : start + len(t)] = (padded[idx + half_taps] * kernel).sum(axis=1)
    return out


def rms_dbfs(samples: np.ndarray) -> float:
    """Level of a block in dBFS (-inf for digital silence)."""
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * math.log10(rms) if rms > 0 else float("-inf")
