"""Reading and writing WAV files.

Reads what people actually have lying around (8/16/24/32-bit integer PCM and 32/64-bit float,
plain or WAVE_FORMAT_EXTENSIBLE, any channel count), which the stdlib `wave` module does not.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, resample, to_mono

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


class WavError(ValueError):
    """A WAV file that cannot be used; the message says why, for a person."""


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32 mono in [-1, 1]
    rate: int

    @property
    def seconds(self) -> float:
        return self.samples.size / self.rate


def read_wav(path: str | Path) -> Audio:
    """Read a WAV file as float32 mono, mixing channels down."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WavError(f"cannot read {path}: {exc.strerror or exc}") from None
    fmt, frames = _parse_riff(data, path)
    tag, channels, rate, bits = fmt
    samples = _decode_frames(frames, tag, bits, path)
    usable = samples.size - samples.size % channels
    return Audio(to_mono(samples[:usable].reshape(-1, channels)), rate)


def read_wav_for_wire(path: str | Path) -> bytes:
    """Read any WAV and return 24 kHz mono PCM16, the Realtime wire format."""
    audio = read_wav(path)
    return float_to_pcm16(resample(audio.samples, audio.rate, WIRE_RATE))


def write_wav(path: str | Path, pcm16: bytes, rate: int = WIRE_RATE) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16)


def _parse_riff(data: bytes, path: object) -> tuple[tuple[int, int, int, int], bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{path} is not a WAV file (no RIFF/WAVE header)")
    fmt = frames = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt " and len(body) >= 16:
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[
                    0
                ]  # first two bytes of the sub-format GUID
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            frames = body  # a truncated file keeps what is there
        pos += 8 + size + (size & 1)  # chunks are word aligned
    if fmt is None or frames is None:
        raise WavError(
            f"{path} is a damaged WAV file (missing {'fmt' if fmt is None else 'data'} chunk)"
        )
    if fmt[1] < 1 or fmt[2] < 1:
        raise WavError(f"{path} declares {fmt[1]} channels at {fmt[2]} Hz")
    return fmt, frames


def _decode_frames(frames: bytes, tag: int, bits: int, path: object) -> np.ndarray:
    if tag == _PCM and bits == 8:
        return (np.frombuffer(frames, np.uint8).astype(np.float32) - 128.0) / 128.0
    if tag == _PCM and bits in (16, 32):
        dtype = np.dtype(f"<i{bits // 8}")
        usable = len(frames) - len(frames) % dtype.itemsize
        return np.frombuffer(frames[:usable], dtype).astype(np.float32) / float(2 ** (bits - 1))
    if tag == _PCM and bits == 24:
        raw = np.frombuffer(frames[: len(frames) - len(frames) % 3], np.uint8).reshape(-1, 3)
        as32 = (
            raw[:, 0].astype(np.int32)
            | raw[:, 1].astype(np.int32) << 8
            | raw[:, 2].astype(np.int32) << 16
        )
        as32 = np.where(as32 & 0x800000, as32 - (1 << 24), as32)
        return as32.astype(np.float32) / float(1 << 23)
    if tag == _FLOAT and bits in (32, 64):
        dtype = np.dtype(f"<f{bits // 8}")
        usable = len(frames) - len(frames) % dtype.itemsize
        return np.asarray(np.clip(np.frombuffer(frames[:usable], dtype), -1.0, 1.0), np.float32)
    raise WavError(
        f"{path} uses an unsupported encoding (format tag {tag}, {bits}-bit); "
        "convert it to 16-bit PCM, e.g. `sox in.wav -b 16 out.wav`"
    )
