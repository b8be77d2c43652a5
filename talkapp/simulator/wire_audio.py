"""Audio as it travels in a session's configured format: PCM16 24 kHz, G.711 µ-law or A-law 8 kHz.

Inside, the simulator works on PCM16 24 kHz; these helpers convert at the edge (pure numpy).
G.711 follows ITU-T G.711 (the classic bias-and-segment formulas, vectorized).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, pcm16_to_float, resample

Codec = Literal["pcm", "ulaw", "alaw"]
G711_RATE = 8000

_CODECS: dict[object, Codec] = {
    "pcm16": "pcm",
    "g711_ulaw": "ulaw",
    "g711_alaw": "alaw",
    "audio/pcm": "pcm",
    "audio/pcmu": "ulaw",
    "audio/pcma": "alaw",
}


def codec_of(fmt: object) -> Codec:
    """The codec named by a beta format string or a GA format object."""
    key = fmt.get("type") if isinstance(fmt, dict) else fmt
    return _CODECS.get(key, "pcm")


def bytes_per_ms(codec: Codec) -> float:
    return 48.0 if codec == "pcm" else 8.0


def to_pcm24(data: bytes, codec: Codec) -> bytes:
    """Wire bytes → PCM16 24 kHz."""
    if codec == "pcm":
        return data
    linear = _ulaw_decode(data) if codec == "ulaw" else _alaw_decode(data)
    return float_to_pcm16(resample(linear.astype(np.float32) / 32768.0, G711_RATE, WIRE_RATE))


def from_pcm24(pcm: bytes, codec: Codec) -> bytes:
    """PCM16 24 kHz → wire bytes."""
    if codec == "pcm":
        return pcm
    narrow = resample(pcm16_to_float(pcm), WIRE_RATE, G711_RATE)
    samples = np.round(np.clip(narrow, -1.0, 1.0) * 32767.0).astype(np.int32)
    encoded = _ulaw_encode(samples) if codec == "ulaw" else _alaw_encode(samples)
    return encoded.astype(np.uint8).tobytes()


def _ulaw_decode(data: bytes) -> np.ndarray:
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent, mantissa = (u >> 4) & 0x07, u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude)


def _ulaw_encode(s: np.ndarray) -> np.ndarray:
    sign = np.where(s < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(s), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _alaw_decode(data: bytes) -> np.ndarray:
    a = np.frombuffer(data, dtype=np.uint8).astype(np.int32) ^ 0x55
    exponent, mantissa = (a >> 4) & 0x07, a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(a & 0x80, magnitude, -magnitude)


def _alaw_encode(s: np.ndarray) -> np.ndarray:
    sign = np.where(s >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(s >= 0, s, -s - 1), 32767)
    exponent = np.clip(np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 7, 0, 7)
    mantissa = np.where(exponent == 0, magnitude >> 4, magnitude >> (exponent + 3)) & 0x0F
    return (sign | (exponent << 4) | mantissa) ^ 0x55
