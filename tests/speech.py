"""Real speech for tests: espeak-ng through sox, made at test time (24 kHz mono float32)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
from services import unavailable

from talkapp.audio.pcm import WIRE_RATE
from talkapp.audio.wav import read_wav


def need_speech_tools() -> None:
    """Skip without espeak-ng and sox (or fail: tests/services.py)."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        unavailable(f"{' and '.join(missing)} not installed: no real speech to test with")


@lru_cache(maxsize=32)
def _spoken(text: str, voice: str, pitch: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        raw, wav = Path(tmp) / "espeak.wav", Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "160", "-w", str(raw), text],
            check=True,
        )
        subprocess.run(
            [
                "sox",
                "-D",
                str(raw),
                "-r",
                str(WIRE_RATE),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(wav),
            ],
            check=True,
        )
        audio = read_wav(wav)
    audio.samples.setflags(write=False)  # shared between tests through the cache
    return audio.samples


def speak(text: str, voice: str = "en-us", pitch: int = 50) -> np.ndarray:
    """`text` spoken by espeak-ng at 24 kHz mono."""
    need_speech_tools()
    return _spoken(text, voice, pitch)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * WIRE_RATE), np.float32)
