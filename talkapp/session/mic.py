"""The mic pump: capture ring → 24 kHz → echo-cancelled → level, VAD edges, chunks to send.

Runs on the asyncio loop only, once per block. Keeps `preroll_ms` of recent clean audio so a
turn that the local VAD detects late still starts with its first syllable.

While nothing plays (`echo_resting`, set by the engine once the output stream has stopped,
well after the last echo died away) the echo canceller is skipped: there is no echo to cancel,
and it is most of what listening costs. It gets whole 10 ms frames only, so switching never
leaves part of a frame inside it; it resumes, with what it learnt of the room, when the next
reply starts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from talkapp.audio.echo import FRAME, EchoCanceller, EchoMode
from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, mean_square, rms_dbfs
from talkapp.audio.resampler import StreamResampler
from talkapp.audio.ring import RingReader
from talkapp.audio.silence import MicSilence, SilentMicDetector
from talkapp.audio.vad import SpeechDetector

SEND_CHUNK_MS = 20  # appends of ~20 ms: responsive server VAD without flooding the socket
SILENT_TAIL_MARGIN_MS = 100  # a release's unsent tail this long after the last voice is not sent


@dataclass(frozen=True)
class MicBlock:
    speech_edges: tuple[tuple[bool, float], ...]  # (started?, seconds ago) per local VAD edge
    chunks: tuple[bytes, ...]  # PCM16 at 24 kHz to send now
    barge_in: bool = False  # the mic rose well above the expected echo of the reply
    voiced_ago: float | None = None  # seconds since the last voiced frame ended (None: none yet)
    silence: MicSilence | None = None  # the microphone just went all-zero, or came back


class MicPump:
    def __init__(
        self,
        capture: RingReader,
        device_rate: int,
        echo: EchoCanceller,
        detector: SpeechDetector | None,
        preroll_ms: int = 300,
    ) -> None:
        self._capture = capture
        self._echo = echo
        self._detector = detector
        self._scratch = np.zeros(capture.capacity, np.float32)
        self._preroll: deque[np.ndarray] = deque()
        self._preroll_max = preroll_ms * WIRE_RATE // 1000
        self._preroll_samples = 0  # in the blocks kept in _preroll
        self._pending: list[np.ndarray] = []
        self._streaming = False
        self._fed = 0  # samples given to the detector
        self._held = np.zeros(0, np.float32)  # less than a 10 ms frame, for the canceller
        self._framed = getattr(echo, "mode", None) is not EchoMode.HEADSET
        self.echo_resting = False
        self.level_dbfs = float("-inf")
        self.raw_mean_square = 0.0  # of the last pull, as captured (what the gate judges)
        self.silence = SilentMicDetector(device_rate)  # denied or muted: exact zeros, as captured
        self.set_device_rate(device_rate)

    def set_device_rate(self, rate: int) -> None:
        if rate != getattr(self, "device_rate", None):
            self.device_rate = rate
            self._resampler = StreamResampler(rate, WIRE_RATE)
            self.silence.set_rate(rate)

    def has_audio(self) -> bool:
        """Captured audio waits to be pulled (the input may have closed since)."""
        return self._capture.available > 0

    def discard(self) -> None:
        """Drop what was captured and not yet sent (muted): none of it goes out."""
        self._capture.discard()
        self._pending = []
        self.level_dbfs = float("-inf")

    def start_stream(self, preroll_ms: int = 0) -> None:
        """Forward from now on, starting with up to `preroll_ms` of audio already heard."""
        if self._streaming:
            return
        recent = (
            np.concatenate(self._preroll)
            if (preroll_ms and self._preroll)
            else np.zeros(0, np.float32)
        )
        self._pending = [recent[len(recent) - min(len(recent), preroll_ms * WIRE_RATE // 1000) :]]
        self._streaming = True

    def stop_stream(self) -> MicBlock:
        """Stop forwarding; the returned block holds every sample captured until now, so a
        commit sent right after it includes the end of the user's speech.

        Unless the VAD heard no voice in the unsent audio nor in the `SILENT_TAIL_MARGIN_MS`
        before it: the user stopped talking a while ago (as at most push-to-talk releases),
        that tail is silence, and the commit goes out at once instead of after a message that
        carries nothing. (The few milliseconds captured since the last pull, one pump cycle
        at most, are then left to the next pull, which no longer forwards.)"""
        block = MicBlock((), ()) if self._tail_is_silent() else self.pull(flush=True)
        self._streaming = False
        self._pending = []
        return block

    def _tail_is_silent(self) -> bool:
        voiced_ago = self._voiced_ago()
        unsent_s = sum(len(audio) for audio in self._pending) / WIRE_RATE
        return voiced_ago is not None and voiced_ago >= unsent_s + SILENT_TAIL_MARGIN_MS / 1000

    def pull(self, flush: bool = False) -> MicBlock:
        """Everything captured since the last pull. `flush`: send a partial last chunk too."""
        captured = self._drain_capture()
        if captured.size:
            self.raw_mean_square = mean_square(captured)
        silence = self.silence.feed(captured)
        clean = self._clean(self._resampler.process(captured))
        if clean.size:
            self.level_dbfs = rms_dbfs(clean)
        self._remember(clean)
        edges, onset, voiced = self._judge(clean), self._echo.take_onset(), self._voiced_ago()
        if not self._streaming:
            return MicBlock(edges, (), onset, voiced, silence)
        self._pending.append(clean)
        return MicBlock(edges, self._chunks(flush), onset, voiced, silence)

    def _clean(self, audio: np.ndarray) -> np.ndarray:
        if self._held.size:
            audio, self._held = np.concatenate([self._held, audio]), self._held[:0]
        if self.echo_resting:
            return audio
        if self._framed:
            whole = len(audio) // FRAME * FRAME
            if whole < len(audio):
                self._held = audio[whole:].copy()
                audio = audio[:whole]
        return self._echo.near_end(audio)

    def _drain_capture(self) -> np.ndarray:
        n = self._capture.read_into(self._scratch)
        return self._scratch[:n].copy()

    def _remember(self, clean: np.ndarray) -> None:
        self._preroll.append(clean)
        self._preroll_samples += len(clean)
        while self._preroll_samples - len(self._preroll[0]) >= self._preroll_max:
            self._preroll_samples -= len(self._preroll.popleft())

    def _judge(self, clean: np.ndarray) -> tuple[tuple[bool, float], ...]:
        if self._detector is None:
            return ()
        self._fed += len(clean)
        return tuple(
            (e.started, (self._fed - e.sample) / WIRE_RATE) for e in self._detector.feed(clean)
        )

    def _voiced_ago(self) -> float | None:
        if self._detector is None or self._detector.voice_end_sample == 0:
            return None
        return (self._fed - self._detector.voice_end_sample) / WIRE_RATE

    def _chunks(self, everything: bool) -> tuple[bytes, ...]:
        audio = np.concatenate(self._pending) if self._pending else np.zeros(0, np.float32)
        step = SEND_CHUNK_MS * WIRE_RATE // 1000
        whole = len(audio) if everything else len(audio) // step * step
        self._pending = [audio[whole:]] if whole < len(audio) else []
        return tuple(float_to_pcm16(audio[i : min(i + step, whole)]) for i in range(0, whole, step))
