"""One admitted connection on the event loop: reader, single writer, response runners, expiry.

All outgoing frames go through one queue and one writer task, and batches are enqueued
synchronously, so a cancel handled by the reader can never interleave with a response batch
(a `response.done` is never followed by a delta of the same response). Fault knobs are read
here, at the moment they apply, so flipping them affects live connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from talkapp.simulator.config import Knobs
from talkapp.simulator.engine import Engine
from talkapp.simulator.errors import Fault, error_event
from talkapp.simulator.recorder import ConnectionRecord, Recorder
from talkapp.simulator.responses import Pace, Response, Think

log = logging.getLogger(__name__)
DEEP_NESTING = 200_000  # the malformed_kind=deep_nesting frame's depth

EXPIRED_CLOSE = 4000  # the reference does not record it; same as the other request faults
_POLL_S = 0.05  # how often the expiry watcher re-reads the knob
SERVER_ERROR = Fault(
    None,
    "The server had an error while processing your request. Sorry about that!",
    type="server_error",
)


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


@dataclass(frozen=True)
class Abort:
    """Drop the TCP connection without a close frame, like a network failure."""


@dataclass(frozen=True)
class GoSilent:
    """A dead network path: the socket stays open, nothing more goes out, and nothing the client
    sends is read — so its pings go unanswered (websockets answers a ping only when it reads it)."""


class Live:
    def __init__(
        self,
        ws: ServerConnection,
        engine: Engine,
        knobs: Knobs,
        record: ConnectionRecord,
        recorder: Recorder,
        cap_s: float,
        ping_event_s: float | None = None,  # xAI: a `ping` event this often
    ) -> None:
        self.ws, self.engine, self.knobs = ws, engine, knobs
        self.record, self.recorder, self.cap_s = record, recorder, cap_s
        self.ping_event_s = ping_event_s
        self._outbox: asyncio.Queue = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        self._spawn(self._expire())
        self._enqueue(self.engine.opening())
        if self.ping_event_s:
            self._spawn(self._ping(self.ping_event_s))
        try:
            await self._read()
            if self.engine.closing:
                await writer  # let it finish sending and close
        except ConnectionClosed:
            pass
        finally:
            for task in (*self._tasks, writer):
                task.cancel()
            self.record.close_code, self.record.close_reason = (
                self.ws.close_code,
                self.ws.close_reason,
            )

    async def _read(self) -> None:
        async for message in self.ws:
            self.recorder.received(self.record, _parsed(message))
            self._enqueue(self._handle(message))
            for response in self.engine.take_started():
                self._start(response)
            if self.engine.closing:
                self._outbox.put_nowait(Close(1000, ""))
                return

    def _handle(self, message: str | bytes) -> list:
        try:
            if isinstance(message, bytes):
                return self.engine.receive_binary()
            if self.knobs.keep_voice is not None and '"session.update"' in message:
                events = self.engine.receive_text(message)
                self.engine.keep_voice(self.knobs.keep_voice)
                return [self._kept(e) for e in events]
            return self.engine.receive_text(message)
        except Exception as exc:  # a simulator bug: report it like the service would, keep going
            log.exception("simulator failed on a client event")
            self.record.internal_errors.append(repr(exc))
            return [error_event(self.engine.ids.event(), SERVER_ERROR)]

    def _kept(self, event: dict) -> dict:
        if event.get("type") == "session.updated":
            return {**event, "session": json.loads(json.dumps(self.engine.session))}
        return event

    def _enqueue(self, items: list) -> None:
        for item in items:
            self._outbox.put_nowait(item)

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionClosed):  # the client left; the reader ends the session
            while True:
                item = await self._outbox.get()
                if isinstance(item, Close):
                    await self.ws.close(item.code, item.reason)
                    return
                if isinstance(item, Abort):
                    self.ws.transport.abort()
                    return
                if isinstance(item, GoSilent):
                    self.ws.transport.pause_reading()
                    self.record.went_silent = True
                    await asyncio.Future()  # until the client gives up and the server closes
                await self.ws.send(item if isinstance(item, str) else json.dumps(item))
                self.recorder.sent(self.record, item)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- responses ----------------------------------------------------------------------------

    def _start(self, response: Response) -> None:
        self._enqueue(self._injected(response))
        self._spawn(self._run(response))

    def _injected(self, response: Response) -> list:
        """One-shot faults at a response start: a broken event, an event of an unknown type."""
        extra: list = []
        if self.knobs.send_malformed:
            self.knobs.send_malformed = False
            extra.append(self._malformed(response))
        if self.knobs.send_unknown_event:
            self.knobs.send_unknown_event = False
            extra.append(self.engine.ev("response.future_thing", response_id=response.id))
        return extra

    def _malformed(self, response: Response) -> str | dict:
        if self.knobs.malformed_kind == "invalid_json":
            return json.dumps(self.engine.ev("response.created", response={"id": response.id}))[
                :-12
            ]
        if self.knobs.malformed_kind == "deep_nesting":
            nested = "[" * DEEP_NESTING + "]" * DEEP_NESTING
            return f'{{"type":"{self.engine.dialect.audio_delta}","delta":{nested}}}'
        # an audio delta without item_id, output_index, content_index or delta
        return self.engine.ev(self.engine.dialect.audio_delta, response_id=response.id)

    async def _run(self, response: Response) -> None:
        try:
            await self._stream(response)
        except Exception as exc:  # a simulator bug: log it, keep the connection
            log.exception("simulator failed while streaming a response")
            self.record.internal_errors.append(repr(exc))

    async def _stream(self, response: Response) -> None:
        steps = self.engine.responder.steps(response)
        deltas = 0
        while response.active:
            step = next(steps, None)
            match step:
                case None:
                    return
                case Think(seconds=seconds):
                    await asyncio.sleep(seconds)
                case Pace(ms=ms):
                    await asyncio.sleep(
                        ms / 1000 / self.knobs.audio_pace if self.knobs.audio_pace > 0 else 0
                    )
                case list():
                    self._enqueue(step)
                    deltas += sum(
                        1 for e in step if e.get("type") == self.engine.dialect.audio_delta
                    )
                    if self._drop_due(deltas):
                        self._outbox.put_nowait(Abort())
                        return
                    if self._silence_due(deltas):
                        self._outbox.put_nowait(GoSilent())
                        return

    def _silence_due(self, deltas: int) -> bool:
        limit = self.knobs.go_silent_after_audio_deltas
        if limit is None or deltas < limit:
            return False
        self.knobs.go_silent_after_audio_deltas = None  # one-shot: the reconnect finds a live path
        return True

    def _drop_due(self, deltas: int) -> bool:
        limit = self.knobs.drop_after_audio_deltas
        return limit is not None and deltas >= limit

    # --- expiry -------------------------------------------------------------------------------

    async def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while (remaining := started + self._cap() - loop.time()) > 0:
            await asyncio.sleep(min(remaining, _POLL_S))
        self._enqueue(self.engine.expired())
        self._outbox.put_nowait(Close(EXPIRED_CLOSE, "invalid_request_error.session_expired"))

    async def _ping(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            self._enqueue([self.engine.ev("ping", timestamp=int(time.time() * 1000))])

    def _cap(self) -> float:
        knob = self.knobs.expire_after_s
        return self.cap_s if knob is None else knob


def _parsed(message: str | bytes) -> object:
    if isinstance(message, bytes):
        return message
    try:
        return json.loads(message)
    except (ValueError, RecursionError):
        return message
