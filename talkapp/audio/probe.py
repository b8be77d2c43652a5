"""The settings pane's two audio checks, without Qt: a mic level meter and a test tone.

Each opens one short-lived PortAudio stream through `talkapp.audio.devices` (the same
`open_stream` / `start_stream` / `close_stream` the engine's `AudioIO` uses; `AudioIO` itself
always opens both directions, and a test tone must not open the microphone) around one of the
app's SPSC rings:

  MicMeter   input callback ─► ring ─► worker thread: level of the last 30 ms ─► `level_dbfs`
  TonePlayer worker thread: tone ─► ring ─► output callback

`MicListener` is the microphone's loop and `play_once` the speaker's, shared with the Compare
view's take and reply player (`talkapp.audio.takes`).

Threads: `run()` blocks for the whole check and is called on a worker thread (never the Qt main
thread); `stop()` and `level_dbfs` are safe from any thread (an Event and a plain float, read by
the UI's meter timer). The callbacks copy frames into or out of the ring and nothing else.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from talkapp.audio import devices
from talkapp.audio.devices import DeviceInfo, DeviceKey, Kind
from talkapp.audio.pcm import rms_dbfs
from talkapp.audio.ring import open_ring

BLOCK_S = 0.01
METER_STEP_S = 0.03
TONE_HZ = 440.0
TONE_S = 1.0
TONE_LEVEL = 0.25  # about -15 dBFS: clearly audible, never startling
_NOUN = devices.NOUNS


class ProbeError(Exception):
    """The check could not run; the message says why in plain words."""


def resolve(key: DeviceKey | None, kind: Kind) -> DeviceInfo:
    """The device remembered as `key` (None: the system default) as PortAudio sees it now
    (`devices.resolve`); ProbeError when it is not there."""
    try:
        return devices.resolve(key, kind)
    except devices.NoSuchDevice as missing:
        raise ProbeError(str(missing)) from None


class ProbeStream:
    """One opened and started stream; closed by `close()` whatever happened."""

    def __init__(self, kind: Kind, info: DeviceInfo, callback: Callable[..., None]) -> None:
        self.rate = round(info.default_samplerate)
        self.channels = _channels(kind, info, self.rate)
        self.finished = False
        try:
            self.stream: Any = devices.open_stream(
                kind,
                device=info.index,
                samplerate=self.rate,
                channels=self.channels,
                blocksize=max(1, round(self.rate * BLOCK_S)),
                callback=callback,
                finished_callback=self._on_finished,
            )
        except devices.stream_errors() as exc:
            why = devices.describe_error(exc)
            raise ProbeError(f"Could not open the {_NOUN[kind]} '{info.name}' ({why}).") from None
        failures: tuple[type[Exception], ...] = (devices.StartTimeout, *devices.stream_errors())
        try:
            devices.start_stream(self.stream)
        except failures as exc:
            if not isinstance(exc, devices.StartTimeout):  # a stuck stream is never touched again
                devices.close_stream(self.stream)
            raise ProbeError(f"Could not start the {_NOUN[kind]} '{info.name}' ({exc}).") from None

    def _on_finished(self) -> None:
        self.finished = True

    def close(self) -> None:
        devices.close_stream(self.stream, finished=self.finished)


def _channels(kind: Kind, info: DeviceInfo, rate: int) -> int:
    if devices.check_settings(kind, device=info.index, samplerate=rate, channels=1) is None:
        return 1
    return max(1, min(2, info.channels(kind)))


class MicListener:
    """The microphone, open for a check until `stop()`: `level_dbfs` follows the last 30 ms,
    and what arrives goes to the `heard` a subclass passes to `_listen`."""

    def __init__(self, key: DeviceKey | None) -> None:
        self.key = key
        self.level_dbfs = float("-inf")
        self.device_name = ""
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _listen(self, heard: Callable[[np.ndarray, int], bool], ring_frames: int) -> int:
        """Blocks until `stop()`, or until `heard(samples, device rate)` returns False (the
        samples: float32 mono, valid during the call); returns the device rate. Raises
        ProbeError."""
        info = resolve(self.key, "input")
        self.device_name = info.name
        writer, reader = open_ring(frames=ring_frames)

        def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
            writer.write(indata[:, 0])

        stream = ProbeStream("input", info, callback)
        block = np.zeros(max(1, round(stream.rate * METER_STEP_S * 4)), np.float32)
        step = round(stream.rate * METER_STEP_S)
        try:
            while not self._stop.wait(METER_STEP_S):
                if stream.finished:
                    raise ProbeError(f"The microphone '{info.name}' stopped (unplugged?).")
                while (n := reader.read_into(block)) > 0:
                    self.level_dbfs = rms_dbfs(block[max(0, n - step) : n])
                    if not heard(block[:n], stream.rate):
                        return stream.rate
        finally:
            self.level_dbfs = float("-inf")
            stream.close()
        return stream.rate


class MicMeter(MicListener):
    """Opens the microphone and keeps `level_dbfs` current until `stop()`."""

    def run(self) -> str:
        """Blocks until `stop()`; returns the device's name. Raises ProbeError."""
        self._listen(lambda samples, rate: True, ring_frames=1 << 16)
        return self.device_name


def tone(rate: int, seconds: float = TONE_S, hz: float = TONE_HZ) -> np.ndarray:
    """A sine with 20 ms fades (no clicks), float32 mono."""
    t = np.arange(round(rate * seconds)) / rate
    wave = TONE_LEVEL * np.sin(2 * math.pi * hz * t)
    fade = min(len(t) // 2, round(0.02 * rate))
    ramp = np.linspace(0.0, 1.0, fade)
    wave[:fade] *= ramp
    wave[len(wave) - fade :] *= ramp[::-1]
    return wave.astype(np.float32)


class TonePlayer:
    """Plays `tone()` once on the output device, then closes it."""

    def __init__(self, key: DeviceKey | None) -> None:
        self.key = key
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> str:
        """Blocks until the tone has played (or `stop()`); returns the device's name."""
        return play_once(self.key, tone, self._stop, grace_s=3.0)


def play_once(
    key: DeviceKey | None,
    samples_at: Callable[[int], np.ndarray],
    stop: threading.Event,
    grace_s: float,
) -> str:
    """Plays `samples_at(device rate)` (float32 mono) once on the output device, then closes it.
    Blocks until played or `stop` is set; returns the device's name. Raises ProbeError, also
    when the device never asks for audio within the sound's length plus `grace_s`."""
    info = resolve(key, "output")
    rate = round(info.default_samplerate)
    samples = samples_at(rate)
    writer, reader = open_ring(frames=len(samples) + rate)
    writer.write(samples)  # before the stream starts: the callback only ever reads
    scratch = np.zeros(max(1, round(rate * BLOCK_S)) * 4, np.float32)

    def callback(outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if outdata.shape[1] == 1:
            reader.fill(outdata[:, 0])
        else:
            mono = scratch[:frames]
            reader.fill(mono)
            for channel in range(outdata.shape[1]):
                outdata[:, channel] = mono

    stream = ProbeStream("output", info, callback)
    deadline = len(samples) / rate + grace_s
    waited = 0.0
    try:
        while reader.frames_read_total < len(samples) and not stop.is_set():
            if stream.finished:
                raise ProbeError(f"The speaker '{info.name}' stopped (unplugged?).")
            if waited > deadline:
                raise ProbeError(
                    f"The speaker '{info.name}' did not play (it never asked for audio)."
                )
            stop.wait(0.02)
            waited += 0.02
        stop.wait(0.15)  # let the last block leave the device before closing it
    finally:
        stream.close()
    return info.name
