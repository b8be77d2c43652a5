"""PCM sample conversions and sample-rate conversion (pure numpy, no I/O).

The wire format of the Realtime API is 24 kHz mono signed 16-bit little-endian PCM;
everything inside the app works on float32 mono in [-1, 1] and converts at the edges.
"""

from __future__ import annotations

import math

import numpy as np

from talkapp.audio.resampler import StreamResampler  # the one filter for whole files and streams

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


def duration_ms(pcm16: bytes | bytearray, rate: int = WIRE_RATE) -> float:
    return 1000.0 * (len(pcm16) // BYTES_PER_SAMPLE) / rate


def to_mono(frames: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) float array to (n,) by averaging channels."""
    frames = np.asarray(frames, dtype=np.float32)
    return frames if frames.ndim == 1 else frames.mean(axis=1, dtype=np.float32)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """A whole signal at another rate, time-aligned (the streaming filter's delay removed)."""
    samples = np.asarray(samples, dtype=np.float32)
    if src_rate == dst_rate or samples.size == 0:
        return samples.copy()
    converter = StreamResampler(src_rate, dst_rate)
    out = np.concatenate([converter.process(samples), converter.flush()])
    wanted = samples.size * dst_rate // src_rate
    return out[converter.latency_frames :][:wanted].astype(np.float32, copy=False)


def mean_square(samples: np.ndarray) -> float:
    """Mean energy of a block, over all its samples (0 for an empty one). A dot product: the
    pump computes several per 10 ms, and np.mean's Python wrapper costs more than the sums."""
    flat = np.asarray(samples, dtype=np.float32).reshape(-1)
    return float(np.dot(flat, flat)) / flat.size if flat.size else 0.0


def rms_dbfs(samples: np.ndarray) -> float:
    """Level of a block in dBFS (-inf for digital silence)."""
    energy = mean_square(samples)
    return 10.0 * math.log10(energy) if energy > 0 else float("-inf")


SPEECH_FRAME_MS = 10
SPEECH_BELOW_PEAK_DB = 30.0  # quieter than this under the loudest frame is the room, not the voice
SPEECH_FLOOR_DBFS = -55.0


def speech_end(pcm16: bytes, rate: int = WIRE_RATE) -> int:
    """Bytes of `pcm16` up to the end of its last voiced 10 ms frame: where a person holding a
    push-to-talk key would let go. All of it when nothing stands out (noise, silence)."""
    samples = pcm16_to_float(pcm16)
    frame = rate * SPEECH_FRAME_MS // 1000
    whole = len(samples) // frame
    if whole == 0:
        return len(pcm16)
    frames = samples[: whole * frame].reshape(whole, frame)
    energy = np.einsum("ij,ij->i", frames, frames) / frame
    peak = float(energy.max())
    if peak <= 0:
        return len(pcm16)
    threshold = max(peak * 10 ** (-SPEECH_BELOW_PEAK_DB / 10), 10 ** (SPEECH_FLOOR_DBFS / 10))
    voiced = np.flatnonzero(energy >= threshold)
    if len(voiced) == 0:
        return len(pcm16)
    return int(voiced[-1] + 1) * frame * BYTES_PER_SAMPLE
