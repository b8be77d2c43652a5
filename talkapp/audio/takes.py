"""The Compare view's two sounds, without Qt: a take recorded from the microphone, and a reply
played on the speaker.

Built on the settings pane's probe (`talkapp.audio.probe`): the same device lookup
(`resolve`), the same short-lived stream (`ProbeStream`: opened, started and closed through
`talkapp.audio.devices`) and the app's SPSC ring between the callback and a worker thread. The
probe's MicMeter keeps only a level and its TonePlayer plays only its tone; these keep the
samples and play given ones.

Threads: `run()` blocks for the whole take or reply and is called on a worker thread (a Tasks
lane), never the Qt main thread; `stop()`, `level_dbfs` and `seconds` are safe from any thread
(an Event and plain floats, polled by the view's timer). The callbacks copy frames into or out
of the ring and nothing else.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from talkapp.audio.devices import DeviceKey
from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, pcm16_to_float, resample, rms_dbfs
from talkapp.audio.ring import open_ring
from talkapp.audio.probe import METER_STEP_S, ProbeError, ProbeStream, play_once, resolve

MAX_TAKE_S = 60.0  # a take ends by itself after this long (a forgotten Stop)
PLAY_GRACE_S = 3.0  # a device that never asks for audio gives up after the reply's length plus this


class MicTake:
    """Records the microphone until `stop()`; `run()` returns the take as 24 kHz mono PCM16."""

    def __init__(self, key: DeviceKey | None) -> None:
        self.key = key
        self.level_dbfs = float("-inf")
        self.seconds = 0.0
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> bytes:
        """Blocks until `stop()` (or MAX_TAKE_S). Raises ProbeError."""
        info = resolve(self.key, "input")
        writer, reader = open_ring(frames=1 << 17)

        def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
            writer.write(indata[:, 0])

        stream = ProbeStream("input", info, callback)
        block = np.zeros(max(1, round(stream.rate * METER_STEP_S * 4)), np.float32)
        step = round(stream.rate * METER_STEP_S)
        chunks: list[np.ndarray] = []
        kept = 0
        try:
            while not self._stop.wait(METER_STEP_S) and kept < MAX_TAKE_S * stream.rate:
                if stream.finished:
                    raise ProbeError(f"The microphone “{info.name}” stopped (unplugged?).")
                while (n := reader.read_into(block)) > 0:
                    chunks.append(block[:n].copy())
                    kept += n
                    self.level_dbfs = rms_dbfs(block[max(0, n - step) : n])
                self.seconds = kept / stream.rate
        finally:
            self.level_dbfs = float("-inf")
            stream.close()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return float_to_pcm16(resample(samples, stream.rate, WIRE_RATE))


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
        return play_once(self.key, lambda rate: resample(pcm16_to_float(self.pcm), WIRE_RATE, rate), self._stop,
                         PLAY_GRACE_S)
