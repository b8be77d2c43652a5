"""The input audio buffer on the session's audio timeline, with optional server VAD (pure).

Audio is kept as PCM16 24 kHz whatever the wire format. Times are milliseconds since the first
audio written this session (what `audio_start_ms` / `audio_end_ms` count). A VAD commit takes
the speech span (prefix padding included) and keeps what came after it; a manual commit or a
clear takes or drops everything.
"""

from __future__ import annotations

import logging

from talkapp.audio.pcm import duration_ms
from talkapp.simulator.vad import ServerVad, VadEdge, VadParams
from talkapp.simulator.wire_audio import Codec, to_pcm24

_BYTES_PER_MS = 48  # PCM16 at 24 kHz
# The buffer holds at most this much (a client that appends and never commits must not fill the
# memory): older audio falls off its front, as from a ring, and the timeline moves on.
MAX_BUFFER_MS = 15 * 60 * 1000
log = logging.getLogger(__name__)


class InputAudio:
    def __init__(self) -> None:
        self._pcm = bytearray()
        self.start_ms = 0.0  # timeline position of the buffer's first byte
        self.codec: Codec = "pcm"
        self.vad: ServerVad | None = None
        self.dropped_ms = 0.0  # audio that fell off the front of a full buffer

    @property
    def buffered_ms(self) -> float:
        return duration_ms(self._pcm)

    @property
    def end_ms(self) -> float:
        return self.start_ms + self.buffered_ms

    def configure(self, turn_detection: object, codec: Codec) -> None:
        """Follow the session: input codec and turn detection (None: manual turns)."""
        self.codec = codec
        if not isinstance(turn_detection, dict):
            self.vad = None
            return
        params = VadParams.from_turn_detection(turn_detection)
        if self.vad is None or self.vad.params != params:
            self.vad = ServerVad(params, start_ms=self.end_ms)

    def append(self, wire: bytes) -> list[VadEdge]:
        pcm = to_pcm24(wire, self.codec)
        self._pcm += pcm
        excess = len(self._pcm) - MAX_BUFFER_MS * _BYTES_PER_MS
        if excess > 0:
            if not self.dropped_ms:  # said once per session, in the simulator's log
                log.warning(
                    "input audio buffer full (%d min): dropping its oldest audio",
                    MAX_BUFFER_MS // 60_000,
                )
            del self._pcm[:excess]
            self.start_ms += excess / _BYTES_PER_MS
            self.dropped_ms += excess / _BYTES_PER_MS
        return self.vad.feed(pcm) if self.vad is not None else []

    def take_all(self) -> bytes:
        """Commit or clear: the whole buffer; the VAD starts over after it."""
        pcm, self.start_ms = bytes(self._pcm), self.end_ms
        self._pcm.clear()
        if self.vad is not None:
            self.vad.reset(self.start_ms)
        return pcm

    def take_span(self, start_ms: float, end_ms: float) -> bytes:
        """A VAD commit: audio between the edges; earlier audio is dropped, later audio stays."""
        begin, end = (self._offset(t) for t in (start_ms, end_ms))
        pcm = bytes(self._pcm[begin:end])
        del self._pcm[:end]
        self.start_ms = self.start_ms + end / _BYTES_PER_MS
        if self.vad is not None:
            self.vad.floor_ms = self.start_ms  # the next speech cannot reach back into this turn
        return pcm

    def _offset(self, t_ms: float) -> int:
        samples = round((t_ms - self.start_ms) * 24)
        return max(0, min(len(self._pcm), samples * 2))
