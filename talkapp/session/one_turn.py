"""One whole turn from recorded audio: stream it, commit, and collect the reply.

Used by `talkapp say` (and by comparison runs). The bookkeeping (`TurnRecorder`) is pure:
events and timestamps in, transcripts, audio, timings and usage out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from talkapp.audio.pcm import BYTES_PER_SAMPLE, WIRE_RATE, duration_ms, speech_end
from talkapp.protocol import events as ev
from talkapp.protocol.commands import (
    AddHistory,
    AppendAudio,
    CommitAudio,
    CreateResponse,
    SessionConfig,
)
from talkapp.protocol.endpoint import Endpoint
from talkapp.session.capture import WireCapture
from talkapp.session.client import Credential, RealtimeSession, SessionEnded, SessionRefused, Tap
from talkapp.threads.waits import within
from talkapp.transport.websocket import TransportClosed

MIN_COMMIT_MS = 100  # the service refuses to commit less audio than this
MIN_COMMIT_BYTES = WIRE_RATE * MIN_COMMIT_MS // 1000 * BYTES_PER_SAMPLE
TRANSCRIPT_GRACE_S = 2.0  # the user's transcript may arrive after the reply is done
MAX_REPLY_AUDIO_BYTES = 10 * 60 * 24_000 * 2  # ten minutes of 24 kHz PCM16; the rest is not kept
MAX_TRANSCRIPT_CHARS = 100_000  # of each side's transcript; the rest is not kept
VAD_TAIL_MS = 4000  # silence sent after the speech for a service VAD to end the turn


class TurnFailed(Exception):
    """The turn could not be completed; `str()` is one line for a person."""


@dataclass(frozen=True)
class Timings:
    """Milliseconds. `connect` from dialing to a configured session; the others from the commit
    (the moment the user finished speaking) to the first event of their kind."""

    connect: float | None = None
    first_input_transcript: float | None = None
    first_transcript: float | None = None
    first_audio: float | None = None
    done: float | None = None


@dataclass(frozen=True)
class TurnResult:
    endpoint: Endpoint
    user_transcript: str
    assistant_transcript: str
    reply_pcm: bytes
    timings: Timings
    usage: ev.Usage | None
    status: str
    notes: tuple[str, ...] = ()  # what was ignored or cut (a malformed event, a capped reply)
    notices: tuple[str, ...] = ()  # what the service kept otherwise than asked (session.updated)

    @property
    def reply_ms(self) -> float:
        return duration_ms(self.reply_pcm)


@dataclass
class TurnRecorder:
    """Collects one turn's events. Times are `time.perf_counter()` seconds."""

    committed_at: float | None = None
    user_parts: list[str] = field(default_factory=list)
    user_final: str | None = None
    assistant_parts: list[str] = field(default_factory=list)
    assistant_final: str | None = None
    audio: bytearray = field(default_factory=bytearray)
    firsts: dict[str, float] = field(default_factory=dict)
    response: ev.ResponseDone | None = None
    response_started: bool = False
    failure: str | None = None
    notes: list[str] = field(default_factory=list)  # what was ignored or cut, for the user
    kept_chars: dict[str, int] = field(default_factory=dict)  # by whose: of the deltas kept

    def add(
        self,
        event: ev.ServerEvent | SessionEnded,
        now: float,
        explain: Callable[[ev.ServerError], str] = str,
    ) -> None:
        match event:
            case ev.TranscriptDelta(role="user", text=text):
                self._first("first_input_transcript", now)
                self._append(self.user_parts, text, "your")
            case ev.TranscriptDone(role="user", text=text):
                self._first("first_input_transcript", now)
                self.user_final = self._bounded(text, "your")
            case ev.TranscriptDelta(role="assistant", text=text):
                self._first("first_transcript", now)
                self._append(self.assistant_parts, text, "the reply's")
            case ev.TranscriptDone(role="assistant", text=text):
                self.assistant_final = self._bounded(text, "the reply's")
            case ev.AudioDelta(pcm=pcm):
                self._first("first_audio", now)
                room = MAX_REPLY_AUDIO_BYTES - len(self.audio)
                if len(pcm) > room:
                    minutes = MAX_REPLY_AUDIO_BYTES // 48_000 // 60
                    self._note(f"The reply audio passed {minutes} minutes; the rest was not kept.")
                self.audio += pcm[: max(0, room)]
            case ev.MalformedEvent(wire_type=wire_type, problem=problem):
                where = wire_type or "frame"
                self._note(f"Ignored a malformed event from the service ({where}: {problem}).")
            case ev.ResponseStarted():
                self.response_started = True
            case ev.ResponseDone():
                self._first("done", now)
                self.response = event
                if event.status == "failed":
                    self.failure = (
                        "The response failed: "
                        f"{event.error_message or event.error_code or 'no reason given'}"
                    )
            case ev.ServerError():
                self.failure = explain(event)
            case SessionEnded(message=message):
                self.failure = self.failure or message

    @property
    def reply_finished(self) -> bool:
        return self.response is not None or self.failure is not None

    @property
    def user_transcript(self) -> str:
        return self.user_final if self.user_final is not None else "".join(self.user_parts)

    @property
    def assistant_transcript(self) -> str:
        return (
            self.assistant_final
            if self.assistant_final is not None
            else "".join(self.assistant_parts)
        )

    def timings(self, connect_s: float) -> Timings:
        def since_commit(name: str) -> float | None:
            at = self.firsts.get(name)
            return (
                None
                if at is None or self.committed_at is None
                else round(1000 * (at - self.committed_at), 1)
            )

        names = ("first_input_transcript", "first_transcript", "first_audio", "done")
        return Timings(round(1000 * connect_s, 1), **{name: since_commit(name) for name in names})

    def _first(self, name: str, now: float) -> None:
        self.firsts.setdefault(name, now)

    def _note(self, note: str) -> None:
        if note not in self.notes:  # a flood of the same problem is one note
            self.notes.append(note)

    def _append(self, parts: list[str], text: str, whose: str) -> None:
        kept = self._bounded(text, whose, MAX_TRANSCRIPT_CHARS - self.kept_chars.get(whose, 0))
        if kept:
            parts.append(kept)
            self.kept_chars[whose] = self.kept_chars.get(whose, 0) + len(kept)

    def _bounded(self, text: str, whose: str, room: int = MAX_TRANSCRIPT_CHARS) -> str:
        if len(text) <= room:
            return text
        self._note(
            f"{whose.capitalize()} transcript passed {MAX_TRANSCRIPT_CHARS} characters; "
            "the rest was not kept."
        )
        return text[: max(0, room)]


async def run_one_turn(
    endpoint: Endpoint,
    api_key: Credential,
    config: SessionConfig,
    pcm: bytes,
    *,
    pace: float = 1.0,
    chunk_ms: int = 20,
    timeout: float = 60.0,
    tap: Tap | None = None,
    capture: WireCapture | None = None,
    context: tuple[AddHistory, ...] = (),
) -> TurnResult:
    """Send `pcm` (24 kHz mono PCM16) as one user turn and return the reply.

    `pace` 1.0 streams in real time like a microphone would; 0 sends as fast as possible.
    With `config.turn_detection` None we commit the turn ourselves right after the speech (its
    silent tail is not sent, as a push-to-talk release leaves it out); with a service VAD we send
    it all and follow it with silence until the service decides the turn is over. Either way the
    timings count from the end of the speech, the same moment for both: what the user would
    wait through. `context`: earlier
    turns, sent first (as a reconnect replays them), to continue a stored conversation.
    """
    if duration_ms(pcm) < MIN_COMMIT_MS:
        raise TurnFailed(
            f"The input has {duration_ms(pcm):.0f} ms of audio; at least {MIN_COMMIT_MS} ms is "
            "needed."
        )
    dialed = time.perf_counter()
    try:
        session = await RealtimeSession.open(endpoint, api_key, config, tap=tap, capture=capture)
    except SessionRefused as refused:
        raise TurnFailed(str(refused)) from None
    connect_s = time.perf_counter() - dialed
    recorder = TurnRecorder()
    async with session:
        transcribes = config.transcription_model is not None
        reader = asyncio.create_task(_read(session, recorder, transcribes))
        try:
            for item in context:
                await session.send(item)
            spoken = max(speech_end(pcm), MIN_COMMIT_BYTES)  # at least what a commit takes
            if config.turn_detection is None:
                await _stream(session, pcm[:spoken], pace, chunk_ms, reader)
                recorder.committed_at = time.perf_counter()
                await session.send(CommitAudio())
                await session.send(CreateResponse())
            else:
                recorder.committed_at = await _stream(session, pcm, pace, chunk_ms, reader, spoken)
                await _stream_silence(session, recorder, pace, chunk_ms, reader)
            await within(asyncio.shield(reader), timeout)
        except TransportClosed:
            await within(asyncio.shield(reader), 2.0)  # let the reader say why it closed
        except TimeoutError:
            recorder.failure = recorder.failure or f"No complete reply within {timeout:g} s."
        finally:
            reader.cancel()
    if recorder.failure:
        raise TurnFailed(recorder.failure)
    assert recorder.response is not None
    return TurnResult(
        endpoint=endpoint,
        user_transcript=recorder.user_transcript,
        assistant_transcript=recorder.assistant_transcript,
        reply_pcm=bytes(recorder.audio),
        timings=recorder.timings(connect_s),
        usage=recorder.response.usage,
        status=recorder.response.status,
        notes=tuple(recorder.notes),
        notices=session.configured.differences if session.configured else (),
    )


async def _stream(
    session: RealtimeSession,
    pcm: bytes,
    pace: float,
    chunk_ms: int,
    reader: asyncio.Task[Any],
    mark: int = 0,
) -> float:
    """Send `pcm` in chunks (in real time at pace 1); the moment the byte at `mark` had been sent
    and, in real time, played through."""
    step = WIRE_RATE * chunk_ms // 1000 * BYTES_PER_SAMPLE
    started = marked = time.perf_counter()
    for n, offset in enumerate(range(0, len(pcm), step)):
        if reader.done():
            return marked  # the session failed while we were talking; the reader knows why
        await session.send(AppendAudio(pcm[offset : offset + step]))
        if pace > 0:
            due = started + (n + 1) * chunk_ms / 1000 / pace
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if offset < mark:
            marked = time.perf_counter()
    return marked


async def _stream_silence(
    session: RealtimeSession,
    recorder: TurnRecorder,
    pace: float,
    chunk_ms: int,
    reader: asyncio.Task[Any],
) -> None:
    """After the speech, what a quiet room sounds like, until the service's VAD ends the turn."""
    silence = bytes(WIRE_RATE * chunk_ms // 1000 * BYTES_PER_SAMPLE)
    for _ in range(VAD_TAIL_MS // chunk_ms):
        if reader.done() or recorder.response_started:
            return
        await session.send(AppendAudio(silence))
        await asyncio.sleep(
            chunk_ms / 1000 / pace if pace > 0 else 0.005
        )  # the service VAD needs a moment
    if not recorder.response_started:
        recorder.failure = (
            "The service's turn detection did not end the turn after "
            f"{VAD_TAIL_MS / 1000:g} s of silence."
        )


async def _read(session: RealtimeSession, recorder: TurnRecorder, transcribes: bool) -> None:
    events = session.events()
    grace_until: float | None = None
    while True:
        wait = None if grace_until is None else max(0.0, grace_until - time.perf_counter())
        try:
            event = await within(anext(events), wait)
        except (TimeoutError, StopAsyncIteration):
            return
        recorder.add(event, time.perf_counter(), session.explain)
        if recorder.failure:
            return
        if recorder.reply_finished and grace_until is None:
            grace_until = time.perf_counter() + TRANSCRIPT_GRACE_S
        if recorder.reply_finished and (recorder.user_final is not None or not transcribes):
            return
