"""The Compare view's two sounds, without Qt: a take recorded from the microphone, and a reply
played on the speaker.

Built on the settings pane's probe (`talkapp.audio.probe`): the same microphone loop
(`MicListener`) and speaker loop (`play_once`), on the same short-lived streams and SPSC rings.
The probe's MicMeter keeps only a level and its TonePlayer plays only its tone; these keep the
samples and play given ones.

Threads: `run()` blocks for the whole take or reply and is called on a worker thread (a Tasks
lane), never the Qt main thread; `stop()`, `level_dbfs` and `seconds` are safe from any thread
(an Event and plain floats, polled by the view's timer). The callbacks copy frames into or out
of the ring and nothing else.
"""

from __future__ import annotations

import threading

import numpy as np

from talkapp.audio.devices import DeviceKey
from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, pcm16_to_float, resample
from talkapp.audio.probe import MicListener, play_once

MAX_TAKE_S = 60.0  # a take ends by itself after this long (a forgotten Stop)
PLAY_GRACE_S = 3.0  # a device that never asks for audio gives up after the reply's length plus this


class MicTake(MicListener):
    """Records the microphone until `stop()`; `run()` returns the take as 24 kHz mono PCM16."""

    def __init__(self, key: DeviceKey | None) -> None:
        super().__init__(key)
        self.seconds = 0.0

    def run(self) -> bytes:
        """Blocks until `stop()` (or MAX_TAKE_S). Raises ProbeError."""
        chunks: list[np.ndarray] = []
        kept = 0

        def keep(samples: np.ndarray, rate: int) -> bool:
            nonlocal kept
            chunks.append(samples.copy())
            kept += len(samples)
            self.seconds = kept / rate
            return kept < MAX_TAKE_S * rate

        rate = self._listen(keep, ring_frames=1 << 17)
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return float_to_pcm16(resample(samples, rate, WIRE_RATE))


class ReplyPlayer:
    """Plays 24 kHz mono PCM16 once on the output device, then closes it."""

    def __init__(self, key: DeviceKey | None, pcm: bytes) -> None:
        self.key = key
        self.pcm = pcm
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> str:
        """Blocks until the audio has played (or `stop()`); returns the device's name."""
        return play_once(
            self.key,
            lambda rate: resample(pcm16_to_float(self.pcm), WIRE_RATE, rate),
            self._stop,
            PLAY_GRACE_S,
        )
