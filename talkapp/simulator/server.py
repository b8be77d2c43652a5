"""The simulator as a websockets server on loopback: admission, then one `Live` per connection.

The realtime doors are `/v1/realtime` (OpenAI, and xAI's models), `/openai/v1/realtime` (Azure
GA), `/openai/realtime` (Azure's preview protocol) and Google's Gemini Live path
(`/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`, or `v1`:
`gemini_live.py`); anything else is an HTTP 404 before the upgrade. OpenAI's upgrade always
succeeds, as the service's does, and refusals follow as an `error` event plus a close frame
(reference §1.4); Azure's doors refuse at the upgrade itself, with an HTTP status and Azure's
JSON error body; Google's door refuses with a close code and reason (`gemini_door.py`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from talkapp.simulator import gemini_door
from talkapp.simulator.config import SimulatorConfig
from talkapp.simulator.engine import Engine
from talkapp.simulator.errors import error_event
from talkapp.simulator.gemini_live import GeminiLive, GeminiSessions
from talkapp.simulator.handshake import Refused, admit, is_realtime_path, rate_limited, route_of
from talkapp.simulator.ids import Ids
from talkapp.simulator.live import Live
from talkapp.simulator.recorder import ConnectionRecord, Recorder

MAX_FRAME = 32 * 1024 * 1024  # a 15 MiB append is ~20 MiB of base64 JSON


class Simulator:
    """`async with Simulator(config) as sim:` serves until the block ends."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,  # wss:// for clients that dial nothing else (tests)
    ) -> None:
        self.config = config or SimulatorConfig()
        self._tls = tls
        self.host, self._port = host, port
        self.knobs = dataclasses.replace(self.config.knobs)
        self.recorder = Recorder(enabled=self.config.record_events)
        self.gemini_sessions = GeminiSessions()  # resumption handles, across connections
        self._server: Server | None = None

    async def __aenter__(self) -> Self:
        self._server = await serve(
            self._connection,
            self.host,
            self._port,
            process_request=self._route,
            ssl=self._tls,
            compression=None,
            max_size=MAX_FRAME,
            ping_interval=self.config.ping_interval_s,
            close_timeout=1.0,  # a client that went away (or a path gone silent) ends shutdown fast
        )
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"{'wss' if self._tls else 'ws'}://{self.host}:{self._port}/v1"

    @property
    def connections(self) -> list[ConnectionRecord]:
        return self.recorder.connections

    @property
    def received(self) -> list:
        """Every client event received, all connections, in arrival order."""
        return [event for _, direction, event in self.recorder.timeline if direction == "in"]

    @property
    def timeline(self) -> list[tuple[int, str, object]]:
        return self.recorder.timeline

    async def _connection(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None  # the handler runs after the handshake
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        if gemini_door.is_gemini_path(request.path):
            await self._gemini(ws, request.path, headers)
            return
        record = self.recorder.open(request.path, request.headers.raw_items())
        decision = admit(request.path, headers, self.config)
        if isinstance(decision, Refused):
            await self._refuse(ws, record, decision)
            return
        record.dialect, record.model = decision.dialect, decision.model
        azure = route_of(request.path) in ("azure", "azure_preview")
        engine = Engine(
            decision, self.config, connection_no=record.number, now=time.time(), azure=azure
        )
        cap = self.config.cap_for(decision.dialect, azure)
        ping = self.config.xai_ping_event_s if engine.dialect.ping_events else None
        await Live(ws, engine, self.knobs, record, self.recorder, cap, ping).run()

    async def _gemini(self, ws: ServerConnection, path: str, headers: dict[str, str]) -> None:
        """Google's door: the upgrade always succeeds; a refusal is a close with a reason."""
        record = self.recorder.open(gemini_door.masked_path(path), headers.items())
        record.dialect = "gemini"
        version = gemini_door.api_version(path)
        live = GeminiLive(
            ws, self.config, self.knobs, record, self.recorder, self.gemini_sessions, version
        )
        refused = gemini_door.admit_key(path, headers, self.config)
        if refused is not None:
            await live.refuse(refused)
            return
        await live.run()

    async def _refuse(
        self, ws: ServerConnection, record: ConnectionRecord, refused: Refused
    ) -> None:
        event = error_event(Ids(self.config.seed, record.number).event(), refused.fault)
        await ws.send(json.dumps(event))
        self.recorder.sent(record, event)
        await ws.close(refused.close_code, refused.fault.close_reason())
        record.close_code, record.close_reason = refused.close_code, refused.fault.close_reason()

    def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        if gemini_door.is_gemini_path(request.path):
            return None
        if not is_realtime_path(request.path):
            return connection.respond(
                HTTPStatus.NOT_FOUND, "Not a realtime endpoint of the TalkApp simulator.\n"
            )
        route = route_of(request.path)
        if route not in ("azure", "azure_preview"):
            return None
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        decision = admit(request.path, headers, self.config)
        if not isinstance(decision, Refused) and self.knobs.azure_rate_limited_s is not None:
            decision = rate_limited(self.knobs.azure_rate_limited_s)
        if not isinstance(decision, Refused) or decision.http_status is None:
            return None
        record = self.recorder.open(request.path, request.headers.raw_items())
        record.http_status = decision.http_status
        return _http_refusal(connection, decision)


def _http_refusal(connection: ServerConnection, refused: Refused) -> Response:
    """Azure's refusal: the status, `{"error": {"code", "message"}}`, Retry-After on a 429."""
    assert refused.http_status is not None  # _route sends only a refusal that has one
    error = {"code": refused.fault.code, "message": refused.fault.message}
    response = connection.respond(HTTPStatus(refused.http_status), json.dumps({"error": error}))
    del response.headers["Content-Type"]  # respond() said text/plain
    response.headers["Content-Type"] = "application/json"
    if refused.retry_after_s is not None:
        response.headers["Retry-After"] = str(refused.retry_after_s)
    return response


async def serve_forever(
    config: SimulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    ready: Callable[[str], object] | None = None,
) -> None:
    """Serve until cancelled; `ready(url)` is called once the socket listens."""
    async with Simulator(config, host, port) as sim:
        if ready is not None:
            ready(sim.url)
        await asyncio.Future()
