"""An asyncio Realtime session: open a WebSocket for a profile, configure it, stream commands
and yield normalized events.

`open()` returns only once the service has accepted our session configuration, so a
refused dialect, key or model surfaces there as one `SessionRefused` with a plain-words message
rather than as a stray error event mid-conversation. Never blocks the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, Self, TypeVar

from talkapp.protocol import events as ev
from talkapp.protocol.commands import Command, ConfigureSession, SessionConfig
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.explain import explain
from talkapp.protocol.gemini import explain_close
from talkapp.redaction import redact
from talkapp.session.capture import WireCapture
from talkapp.session.refusals import explain_refusal
from talkapp.threads.waits import within
from talkapp.transport.websocket import (
    Closed,
    TransportClosed,
    TransportError,
    WebSocketTransport,
    insecure_url_problem,
)

CLOSE_AFTER_ERROR_S = 0.3
_Wanted = TypeVar("_Wanted", bound=ev.ServerEvent)
_Seen = TypeVar("_Seen", bound="ev.ServerEvent | SessionEnded")


class KeySource(Protocol):
    """A key that changes over time (an Entra ID token): asked again for every new session."""

    async def current(self) -> str: ...


Credential = str | KeySource  # an API key, or where to get a fresh token


class SessionRefused(Exception):
    """The service would not start or configure a session. `str()` is one line for a person.
    `http_status`: the upgrade itself was refused with this HTTP status."""

    def __init__(
        self,
        message: str,
        error: ev.ServerError | None = None,
        closed: Closed | None = None,
        http_status: int | None = None,
    ):
        super().__init__(message)
        self.error = error
        self.closed = closed
        self.http_status = http_status


@dataclass(frozen=True)
class SessionEnded:
    """The last item `events()` yields: the connection is gone."""

    code: int
    reason: str
    dropped: bool  # no close frame: the network or the server process went away
    message: str


class Tap(Protocol):
    """Sees every command sent and every event received (e.g. a `SessionRecording`)."""

    def sent(self, command: Command) -> None: ...
    def received(self, event: ev.ServerEvent | SessionEnded) -> None: ...


class RealtimeSession:
    def __init__(
        self,
        endpoint: Endpoint,
        transport: WebSocketTransport,
        connection: RealtimeConnection,
        tap: Tap | None = None,
        capture: WireCapture | None = None,
    ):
        self.endpoint = endpoint
        self._transport = transport
        self._connection = connection
        self._tap = tap
        self._capture = capture
        self._early: list[
            ev.ServerEvent
        ] = []  # events that arrived while we waited for the handshake
        self.started: ev.SessionStarted | None = None
        self.configured: ev.SessionConfigured | None = None  # the answer to our configuration
        self._dead: str | None = None  # why we dropped a connection that went silent
        self._resume_handle: str | None = None

    @classmethod
    async def open(
        cls,
        endpoint: Endpoint,
        api_key: Credential,
        config: SessionConfig,
        timeout: float = 10.0,
        tap: Tap | None = None,
        capture: WireCapture | None = None,
        resume_handle: str | None = None,
    ) -> RealtimeSession:
        """`capture`: every frame of this session goes there too (`talkapp … --capture FILE`).
        `resume_handle`: a Gemini session to resume (its conversation stays on the service)."""
        dialect = endpoint.choice.dialect
        problem = insecure_url_problem(endpoint.url, endpoint.allow_insecure)
        if problem:
            raise SessionRefused(problem)
        if not isinstance(api_key, str):
            try:
                api_key = await api_key.current()  # a token with time left, for this session
            except Exception as exc:  # noqa: BLE001 - any failure of the source refuses the session with its reason
                raise SessionRefused(str(exc)) from None
        if capture is not None:
            capture.session(endpoint.url, endpoint.model, dialect.name, endpoint.choice.setting)
        try:
            transport = await WebSocketTransport.open(
                endpoint.url, endpoint.headers(api_key), timeout, endpoint.system_proxy
            )
        except TransportError as exc:
            if exc.refusal is not None:
                if capture is not None:
                    capture.refused(exc.refusal.status, exc.refusal.body)
                message = explain_refusal(exc.refusal, endpoint.url, endpoint.model)
                raise SessionRefused(message, http_status=exc.refusal.status) from None
            raise SessionRefused(str(exc)) from None
        session = cls(endpoint, transport, RealtimeConnection(dialect), tap, capture)
        session._resume_handle = resume_handle
        try:
            await within(session._handshake(config), timeout)
        except TimeoutError:
            await session.close()
            raise SessionRefused(session._silence_message(timeout)) from None
        except BaseException:
            await session.close()
            raise
        return session

    async def send(self, command: Command) -> None:
        """Send one command; raises `TransportClosed` if the connection is gone. A command
        the dialect has no message for (Gemini has no truncate) sends nothing."""
        for wire in self._connection.frames(command):
            await self._transport.send(wire)
            if self._capture is not None:
                self._capture.frame("out", wire)
        if self._tap is not None:
            self._tap.sent(command)

    async def events(self) -> AsyncIterator[ev.ServerEvent | SessionEnded]:
        while self._early:
            yield self._early.pop(0)
        while True:
            try:
                frame = await self._received()
            except TransportClosed as closed:
                yield self._observed(self._ended(closed.closed))
                return
            for event in self._connection.receive(frame):
                yield self._observed(event)

    async def probe(self, timeout: float) -> bool:
        """A ping: False when the service did not answer within `timeout` (a dead path)."""
        return await self._transport.probe(timeout)

    def declare_dead(self, why: str) -> None:
        """Drop a connection that went silent: `events()` ends as for a drop, saying `why`."""
        self._dead = why
        self._transport.abort()

    @property
    def session_id(self) -> str:
        """The service's id for this session (known once `open()` returned)."""
        return self.started.session_id if self.started is not None else ""

    def explain(self, error: ev.ServerError) -> str:
        return explain(error, self.endpoint.model, self.endpoint.choice)

    async def close(self) -> None:
        """Close the connection. A tap is its owner's to close: it may outlive this session."""
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _handshake(self, config: SessionConfig) -> None:
        if self.endpoint.choice.dialect.client_speaks_first:
            # Gemini: our setup opens the session; its `setupComplete` starts and configures it.
            # A refused key closes the connection before or while the setup goes out.
            try:
                await self.send(ConfigureSession(config, self._resume_handle))
            except TransportClosed as closed:
                message = self._ended(closed.closed).message
                raise SessionRefused(message, closed=closed.closed) from None
            self.configured = await self._await(ev.SessionConfigured)
            self.started = ev.SessionStarted(self.configured.session_id, self.endpoint.model)
            return
        self.started = await self._await(ev.SessionStarted)
        await self.send(ConfigureSession(config))
        self.configured = await self._await(ev.SessionConfigured)

    async def _await(self, wanted: type[_Wanted]) -> _Wanted:
        """Read until `wanted` arrives; an error event or a close refuses the session."""
        while True:
            try:
                frame = await self._received()
            except TransportClosed as closed:
                raise SessionRefused(
                    self._ended(closed.closed).message, closed=closed.closed
                ) from None
            for event in self._connection.receive(frame):
                self._observed(event)
                if isinstance(event, wanted):
                    return event
                if isinstance(event, ev.ServerError):
                    raise SessionRefused(
                        self.explain(event), error=event, closed=await self._close_after_error()
                    )
                self._early.append(event)

    async def _close_after_error(self) -> Closed | None:
        """A fatal refusal is an error event followed at once by a close frame; wait for that
        close briefly so callers can tell fatal refusals (e.g. code 4000) from rejected events."""
        try:
            async with asyncio.timeout(CLOSE_AFTER_ERROR_S):
                while True:
                    await self._received()
        except TransportClosed as closed:
            return closed.closed
        except TimeoutError:
            return None

    async def _received(self) -> str | bytes:
        try:
            frame = await self._transport.recv()
        except TransportClosed as closed:
            if self._capture is not None:
                self._capture.closed(closed.closed.code, closed.closed.reason)
            raise
        if self._capture is not None:
            self._capture.frame("in", frame)
        return frame

    def _observed(self, event: _Seen) -> _Seen:
        if self._tap is not None:
            self._tap.received(event)
        return event

    def _ended(self, closed: Closed) -> SessionEnded:
        if self._dead is not None:
            return SessionEnded(1006, "", True, self._dead)
        if closed.dropped:
            message = (
                "The connection dropped (no close from the service); check the network and "
                "reconnect."
            )
        elif closed.code in (1000, 1001):
            message = "The session was closed."
        elif said := self._explain_close(closed):
            message = said
        else:
            message = (
                "The service closed the session (code "
                f"{closed.code}{': ' + closed.reason if closed.reason else ''})."
            )
        return SessionEnded(closed.code, closed.reason, closed.dropped, message)

    def _explain_close(self, closed: Closed) -> str | None:
        if self.endpoint.choice.dialect.name != "gemini":
            return None  # OpenAI's dialects refuse with an error event first
        return explain_close(closed.code, redact(closed.reason), self.endpoint.model)

    def _silence_message(self, timeout: float) -> str:
        waited_for = "configuration reply" if self.started else "session"
        hint = ""
        if self.endpoint.choice.dialect.name == "beta":
            hint = (
                " Servers that do not speak the beta dialect can stay silent: try setting the "
                "dialect to GA (CLI: --api ga)."
            )
        return f"The service sent no {waited_for} within {timeout:g} s.{hint}"
