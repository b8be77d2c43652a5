"""Incremental server VAD over the input audio buffer (pure: audio in, speech edges out).

webrtcvad only takes 8/16/32/48 kHz in 10/20/30 ms frames, so each 30 ms frame of the 24 kHz
buffer is resampled to 16 kHz first; frames below a level floor set by `threshold` never count.
Speech starts after a few voiced frames in a row (onset); `audio_start_ms` reaches back
`prefix_padding_ms` (never before the buffer's start). Speech stops after `silence_duration_ms` of
unvoiced frames (hangover); `audio_end_ms` is that moment, so it includes the silence, as the
service documents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from talkapp.audio.pcm import float_to_pcm16, pcm16_to_float, resample, rms_dbfs

FRAME_MS = 30
ONSET_FRAMES = 3
VAD_RATE = 16_000
_FRAME_SAMPLES_24K = 24 * FRAME_MS
# semantic_vad has no silence setting; eagerness decides how long a pause ends the turn.
EAGERNESS_SILENCE_MS = {"low": 1000, "medium": 600, "auto": 600, "high": 300}


@dataclass(frozen=True)
class VadParams:
    silence_ms: int = 200
    prefix_padding_ms: int = 300
    threshold: float = 0.5

    @classmethod
    def from_turn_detection(cls, turn: dict) -> VadParams:
        """Parameters from a session's turn_detection object (server_vad or semantic_vad)."""
        if turn.get("type") == "semantic_vad":
            return cls(silence_ms=EAGERNESS_SILENCE_MS[turn.get("eagerness") or "auto"])
        return cls(
            silence_ms=turn.get("silence_duration_ms", 200),
            prefix_padding_ms=turn.get("prefix_padding_ms", 300),
            threshold=turn.get("threshold", 0.5),
        )

    @property
    def mode(self) -> int:
        """webrtcvad aggressiveness 0–3 from the 0–1 threshold (0.5 → 2)."""
        return min(3, int(self.threshold * 4))

    @property
    def floor_dbfs(self) -> float:
        """The level below which nothing is speech. The service documents that a higher
        threshold "will require louder audio to activate"; webrtcvad alone is nearly level-blind
        (it takes -60 dBFS residual echo for speech), so the threshold also sets a level floor:
        0.5 -> -50 dBFS, 1.0 -> -30 dBFS, 0.0 -> -70 dBFS."""
        return -70.0 + 40.0 * self.threshold


@dataclass(frozen=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    audio_end_ms: int


VadEdge = SpeechStarted | SpeechStopped


class ServerVad:
    """Feed PCM16 24 kHz as it is appended; get speech edges on the session's audio timeline."""

    def __init__(self, params: VadParams, start_ms: float = 0.0) -> None:
        self.params = params
        self._vad = webrtcvad.Vad(params.mode)
        self.reset(start_ms)

    @property
    def speaking(self) -> bool:
        return self._speaking

    def reset(self, start_ms: float) -> None:
        """Forget everything; the buffer now starts at `start_ms` (after a commit or clear)."""
        self.floor_ms = start_ms
        self._clock_ms = start_ms  # timeline position of the next frame
        self._pending = np.zeros(0, dtype=np.float32)
        self._speaking = False
        self._voiced_run = 0
        self._silent_ms = 0

    def feed(self, pcm24: bytes) -> list[VadEdge]:
        self._pending = np.concatenate([self._pending, pcm16_to_float(pcm24)])
        edges: list[VadEdge] = []
        while self._pending.size >= _FRAME_SAMPLES_24K:
            frame, self._pending = np.split(self._pending, [_FRAME_SAMPLES_24K])
            edge = self._step(self._is_speech(frame))
            self._clock_ms += FRAME_MS
            if edge is not None:
                edges.append(edge)
        return edges

    def _is_speech(self, frame24: np.ndarray) -> bool:
        if rms_dbfs(frame24) < self.params.floor_dbfs:
            return False
        frame16 = float_to_pcm16(resample(frame24, 24_000, VAD_RATE))
        return self._vad.is_speech(frame16, VAD_RATE)

    def _step(self, voiced: bool) -> VadEdge | None:
        if not self._speaking:
            return self._maybe_start(voiced)
        self._silent_ms = 0 if voiced else self._silent_ms + FRAME_MS
        if self._silent_ms >= max(self.params.silence_ms, FRAME_MS):
            self._speaking, self._voiced_run = False, 0
            return SpeechStopped(int(self._clock_ms + FRAME_MS))
        return None

    def _maybe_start(self, voiced: bool) -> VadEdge | None:
        self._voiced_run = self._voiced_run + 1 if voiced else 0
        if self._voiced_run < ONSET_FRAMES:
            return None
        self._speaking, self._silent_ms = True, 0
        onset_ms = self._clock_ms - (ONSET_FRAMES - 1) * FRAME_MS
        return SpeechStarted(int(max(self.floor_ms, onset_ms - self.params.prefix_padding_ms)))
