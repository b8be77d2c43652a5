"""One conversation across sessions: the connection is kept up for the engine.

When the connection drops (Wi-Fi, a sleeping laptop, a server restart) it reconnects with a
capped, jittered backoff; a refusal no retry can fix (a rejected key, an unknown model, a
refused dialect) ends it at once. Before the service's time limit it renews the session,
make-before-break, while nobody is talking. A new session gets the same configuration and,
when asked, the conversation so far as context items. Gemini Live instead hands out session
resumption handles and announces its closes (`goAway`): a new session resumes the old one with
the latest handle (the service keeps the whole conversation, audio included), and a goAway
renews at the next quiet moment; only without a handle is the history replayed as text. The
events of all sessions come out of one iterator, with `Reconnecting` / `Reconnected` /
`SessionLost` between them.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.endpoint import Endpoint
from talkapp.session import liveness
from talkapp.session.capture import WireCapture
from talkapp.session.client import (
    Credential,
    RealtimeSession,
    SessionEnded,
    SessionRefused,
    Tap,
)
from talkapp.session.refusals import FINAL_STATUSES, is_azure
from talkapp.transport.websocket import TransportClosed

# Refusals that the same request will get again: retrying only hammers the service.
FATAL_CODES = {
    "invalid_api_key",
    "invalid_model",
    "missing_model",
    "beta_api_shape_disabled",
    "invalid_beta",
    "missing_required_parameter",
    "unknown_parameter",
    "invalid_value",
}
RENEW_BEFORE_S = (
    120  # renew this long before the service's limit (60 min GA, 30 min on some providers)
)
AZURE_CAP_S = 1800  # Azure OpenAI ends sessions after 30 minutes, whether or not it says when


# Gemini refuses with a close: 1007 (the setup is invalid) and 1008 (the key or the model) come
# back the same however often the same setup is sent.
GEMINI_FINAL_CLOSES = frozenset({1007, 1008})


def _final_close(endpoint: Endpoint, refused: SessionRefused) -> bool:
    return (
        endpoint.choice.dialect.client_speaks_first
        and refused.closed is not None
        and refused.closed.code in GEMINI_FINAL_CLOSES
    )


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 15.0
    jitter: float = 0.25  # ± this fraction, so many clients do not return in lockstep
    attempts: int = 8

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.cap_s, self.first_s * self.factor ** (attempt - 1))
        return base * (1 + rng.uniform(-self.jitter, self.jitter))


@dataclass(frozen=True)
class Reconnecting:
    attempt: int
    of: int
    delay_s: float
    reason: str


@dataclass(frozen=True)
class Reconnected:
    label: str
    session_id: str
    renewed: bool = False  # a planned renewal before the time limit, not a recovery


@dataclass(frozen=True)
class SessionLost:
    message: str  # what happened and what to do


KeeperEvent = ev.ServerEvent | Reconnecting | Reconnected | SessionLost


class SessionKeeper:
    def __init__(
        self,
        endpoint: Endpoint,
        api_key: Credential,
        config: Callable[[], cmd.SessionConfig],
        history: Callable[[], list[cmd.AddHistory]] = list,
        tap: Callable[[], Tap | None] = lambda: None,
        backoff: Backoff | None = None,
        seed: int | None = None,
        capture: WireCapture | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._key = api_key
        self._config = config  # current configuration (the mode may have changed since)
        self._history = history
        self._tap = tap
        self._capture = capture  # every session's frames, one file across reconnects
        self._backoff = backoff or Backoff()
        self._rng = random.Random(seed)
        self._session: RealtimeSession | None = None
        self._generation = 0  # bumped whenever the session is replaced on purpose
        self._closing = False
        self._expiring = False  # the service said the session hit its time limit
        self.reconnects = 0
        self._stall = liveness.StallWatch()
        self._watcher: asyncio.Task[Any] | None = None
        self._opened_at = time.time()  # the current session's start (wall clock, as expires_at)
        self._resume_handle: str | None = None  # Gemini: the latest handle that resumes
        self._going_away = False  # Gemini said it will close this session soon
        self.resumed = False  # the current session resumed the previous one (not replayed)

    @property
    def session(self) -> RealtimeSession | None:
        return self._session

    async def open(self, with_history: bool = False) -> RealtimeSession:
        """The first session (with `history` when continuing a stored conversation); raises
        `SessionRefused` with a plain-words message."""
        self._session = await self._open(with_history=with_history)
        self._watcher = asyncio.create_task(self._watch())
        return self._session

    async def send(self, command: cmd.Command) -> bool:
        """False when there is no live session: audio is dropped, not queued for a dead socket."""
        session = self._session
        if session is None:
            return False
        try:
            await session.send(command)
        except TransportClosed:
            return False
        if session is self._session:
            self._stall.sent(command, time.perf_counter())
        return True

    async def events(self) -> AsyncIterator[KeeperEvent]:
        while self._session is not None:
            session, generation = self._session, self._generation
            ended: SessionEnded | None = None
            async for event in session.events():
                if isinstance(event, SessionEnded):
                    ended = event
                    break
                if isinstance(event, ev.ServerError) and event.code == "session_expired":
                    self._expiring = True
                if session is self._session:
                    self._resumption(event)
                if session is self._session:
                    self._stall.received(event, time.perf_counter())
                yield event
            if self._closing:
                return
            if generation != self._generation:
                continue  # replaced on purpose (a renewal): read the new one
            async for recovered in self._recover(ended):
                yield recovered

    @property
    def can_resume(self) -> bool:
        """A handle that resumes this session on a new connection is at hand (Gemini)."""
        return self._resume_handle is not None

    def _resumption(self, event: ev.ServerEvent) -> None:
        match event:
            case ev.ResumptionHandle(handle=handle, resumable=resumable):
                # "not resumable right now" (mid-turn, a tool call pending) voids the last one
                self._resume_handle = handle if resumable and handle else None
            case ev.GoingAway():
                self._going_away = True

    def expires_soon(self, now: float | None = None) -> bool:
        if self._going_away:
            return True  # the service said so: renew at the next quiet moment
        started = self._session.started if self._session else None
        if started is None:
            return False
        expires_at: float | None = started.expires_at
        if is_azure(self.endpoint.url):  # Azure's limit holds even where the session omits it
            expires_at = min(expires_at or math.inf, self._opened_at + AZURE_CAP_S)
        if not expires_at:
            return False
        return (now or time.time()) > expires_at - RENEW_BEFORE_S

    async def renew(self) -> Reconnected | None:
        """Make-before-break: a new session (with the conversation so far), then the old one
        is closed. None when the new one could not be opened (the old one stays)."""
        try:
            fresh = await self._open(with_history=True)
        except SessionRefused:
            return None
        old, self._session = self._session, fresh
        self._generation += 1
        if old is not None:
            await old.close()
        return Reconnected(fresh.endpoint.describe(), fresh.session_id, renewed=True)

    async def close(self) -> None:
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _recover(self, ended: SessionEnded | None) -> AsyncIterator[KeeperEvent]:
        reason = (
            "the session reached its time limit"
            if self._expiring
            else (ended.message if ended else "the session ended")
        )
        old, self._session = self._session, None
        if old is not None:
            await old.close()
        for attempt in range(1, self._backoff.attempts + 1):
            delay = (
                0.0
                if (attempt == 1 and self._expiring)
                else self._backoff.delay(attempt, self._rng)
            )
            yield Reconnecting(attempt, self._backoff.attempts, delay, reason)
            await asyncio.sleep(delay)
            try:
                self._session = await self._open(with_history=True)
            except SessionRefused as refused:
                if (
                    (refused.error is not None and refused.error.code in FATAL_CODES)
                    or refused.http_status in FINAL_STATUSES
                    or _final_close(self.endpoint, refused)
                ):
                    yield SessionLost(str(refused))
                    return
                reason = str(refused)
                continue
            self._expiring = False
            self.reconnects += 1
            yield Reconnected(self._session.endpoint.describe(), self._session.session_id)
            return
        yield SessionLost(
            f"Could not reconnect after {self._backoff.attempts} attempts ({reason}). "
            "Check the network, then press Connect."
        )

    async def _watch(self) -> None:
        """While a reply is owed and the service fell silent, ping; no pong: the path is dead,
        and the reader's end of that session starts the usual reconnect."""
        # an Entra token: renewed before a reconnect needs it
        renew_key = getattr(self._key, "renew_if_due", None)
        while not self._closing:
            await asyncio.sleep(liveness.WATCH_EVERY_S)
            if renew_key is not None:
                await renew_key()
            session, now = self._session, time.perf_counter()
            if session is None or not self._stall.due(now):
                continue
            silent_s = now - (self._stall.quiet_since or now)
            self._stall.probed(now)
            if not await session.probe(liveness.PING_TIMEOUT_S) and session is self._session:
                session.declare_dead(
                    f"the service went silent mid-reply for {silent_s:.0f} s and did not "
                    f"answer a ping within {liveness.PING_TIMEOUT_S:g} s"
                )

    async def _open(self, with_history: bool) -> RealtimeSession:
        handle = self._resume_handle if with_history else None
        session = await RealtimeSession.open(
            self.endpoint,
            self._key,
            self._config(),
            tap=self._tap(),
            capture=self._capture,
            resume_handle=handle,
        )
        self._stall = liveness.StallWatch()  # a new session owes nothing yet
        self._opened_at = time.time()
        self._going_away, self.resumed = False, handle is not None
        if handle is not None:
            return session  # the service resumed the conversation: nothing to replay
        if with_history:
            try:
                for item in self._history():
                    await session.send(item)
            except TransportClosed:
                pass  # the reader of this session will find out why
        return session
