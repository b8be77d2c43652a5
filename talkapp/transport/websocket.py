"""The client's WebSocket: the only place on the client side that imports `websockets`.

It moves text frames and reports, in plain words, why a connection could not be opened or
why it ended. It knows nothing about events or dialects.

Two rules keep the key where it belongs. A redirect at the upgrade is refused, never followed:
it would carry the key's header (`api-key` always; `Authorization` too in websockets < 16.1)
to wherever the server says, past the check on the first URL. And a proxy is used only on
purpose: never for plain ws:// nor for this machine (the key would reach the proxy in the
clear), for wss:// the system's (`https_proxy` …, as websockets reads it) unless the profile
turns it off.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from talkapp.threads.waits import within

REDIRECTS = (300, 301, 302, 303, 307, 308)

# websockets logs handshake headers (our Authorization header among them) at DEBUG; this
# logger is pinned above DEBUG so no configuration of the root logger can leak the key.
_wire_log = logging.getLogger("talkapp.transport.wire")
_wire_log.setLevel(logging.INFO)

MAX_FRAME_BYTES = 16 * 2**20  # the service allows 15 MiB appends; retrieved items can be large
# Idle keepalive: a ping every 15 s, dead after 10 s without its pong, so a path that died
# while nobody talked is noticed within 25 s (websockets' default, 20 + 20 s, took up to 40).
KEEPALIVE_INTERVAL_S = 15.0
KEEPALIVE_TIMEOUT_S = 10.0


MAX_REFUSAL_BODY = 4096  # an HTTP refusal's body is a short JSON error; keep no more than this


@dataclass(frozen=True)
class HttpRefusal:
    """The server answered the upgrade with an HTTP status instead of 101: Azure refuses keys,
    deployments and rate limits this way, OpenAI a key without access (reference: other
    services). The body is the service's own words (usually `{"error": {...}}`)."""

    host: str
    status: int
    body: str
    retry_after: str | None = None  # the Retry-After header, as sent


class TransportError(Exception):
    """The connection could not be opened; the message is for a person. `refusal` is set when
    the server answered with an HTTP status, so a caller that knows the provider can say more."""

    def __init__(self, message: str, refusal: HttpRefusal | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True)
class Closed:
    """Why the connection ended. `code` 1006 (no close frame) means the network dropped it."""

    code: int
    reason: str

    @property
    def dropped(self) -> bool:
        return self.code == 1006


class TransportClosed(Exception):
    def __init__(self, closed: Closed) -> None:
        super().__init__(f"connection closed ({closed.code} {closed.reason})".strip())
        self.closed = closed


class RedirectRefused(InvalidHandshake):
    """The server answered the upgrade with a redirect; we did not follow it."""

    def __init__(self, status: int, target: str) -> None:
        super().__init__(f"redirect {status} to {target}")
        self.status, self.target = status, target


class _NoRedirects(connect):
    """websockets' `connect`, refusing every redirect instead of following it."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        if isinstance(exc, InvalidStatus) and exc.response.status_code in REDIRECTS:
            location = exc.response.headers.get("Location", "")
            return RedirectRefused(exc.response.status_code, _origin(urljoin(self.uri, location)))
        return exc


class WebSocketTransport:
    def __init__(self, connection: ClientConnection) -> None:
        self._ws = connection

    @classmethod
    async def open(
        cls, url: str, headers: dict[str, str], timeout: float = 10.0, system_proxy: bool = True
    ) -> WebSocketTransport:
        """`system_proxy`: for wss:// to another machine, use the proxy the environment names
        (`https_proxy`, …); never for ws:// nor this machine, whatever it says."""
        host = urlsplit(url).netloc or url
        try:
            connection = await _NoRedirects(
                url,
                additional_headers=headers,
                proxy=proxy_for(url, system_proxy),
                ssl=tls_context() if urlsplit(url).scheme == "wss" else None,
                open_timeout=timeout,
                compression=None,  # base64 audio barely compresses; deflate only adds latency
                max_size=MAX_FRAME_BYTES,
                close_timeout=2.0,  # a dead peer must not hold a closing app for websockets' 10 s
                ping_interval=KEEPALIVE_INTERVAL_S,
                ping_timeout=KEEPALIVE_TIMEOUT_S,
                logger=_wire_log,
            )
        except RedirectRefused as exc:
            raise TransportError(
                f"{host} tried to redirect the connection to {exc.target} (HTTP {exc.status}); "
                "refused, nothing was sent there. Point the profile's base URL at the service"
            ) from None
        except InvalidURI:
            raise TransportError(
                f"'{url}' is not a WebSocket URL; check the profile's base URL"
            ) from None
        except InvalidStatus as exc:
            refusal = _refusal(host, exc)
            message = f"{host} answered HTTP {refusal.status} instead of opening a Realtime session"
            raise TransportError(f"{message}; check the base URL", refusal) from None
        except InvalidHandshake as exc:
            raise TransportError(
                f"{host} did not complete the WebSocket handshake ({exc})"
            ) from None
        except TimeoutError:
            raise TransportError(
                f"{host} did not answer within {timeout:g} s; check the network or the base URL"
            ) from None
        except socket.gaierror:  # the name could not be looked up: offline, most of the time
            raise TransportError(
                f"No internet connection: {host} could not be found. Check that this computer "
                "is online (Wi-Fi or cable), then try again; if it is, check the base URL."
            ) from None
        except OSError as exc:
            raise TransportError(f"cannot reach {host}: {exc.strerror or exc}") from None
        return cls(connection)

    async def send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            raise TransportClosed(_closed(exc)) from None

    async def recv(self) -> str | bytes:
        try:
            return await self._ws.recv()
        except ConnectionClosed as exc:
            raise TransportClosed(_closed(exc)) from None

    async def probe(self, timeout: float) -> bool:
        """One ping: True when its pong came within `timeout` (or the connection already ended,
        which its reader reports), False when the peer is silent: the path is dead."""
        try:
            pong = await self._ws.ping()
            await within(pong, timeout)
        except TimeoutError:
            return False
        except (ConnectionClosed, OSError):
            return True
        return True

    def abort(self) -> None:
        """Drop a dead connection at once, without a closing handshake nobody would answer:
        the reader then ends as for any drop (1006)."""
        self._ws.transport.abort()

    async def close(self) -> None:
        try:
            await within(self._ws.close(), 2.0)
        except (TimeoutError, OSError, websockets.WebSocketException):
            pass  # closing a dead socket has nothing left to report

    @property
    def closed(self) -> Closed | None:
        if self._ws.close_code is None and self._ws.state.name != "CLOSED":
            return None
        return Closed(self._ws.close_code or 1006, self._ws.close_reason or "")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """What wss:// trusts: the OS's certificate store through truststore (the Keychain on
    macOS, the Windows store, the distribution's roots on Linux), so a company CA installed
    there (a TLS-inspecting proxy) is trusted as the browser trusts it. Without truststore,
    Python's default context: OpenSSL's paths, which the frozen app points at certifi's bundle
    when the system has none (packaging/hooks/rthook_tls.py). One per process (loading the
    roots takes a while)."""
    try:
        import truststore
    except ImportError:
        return ssl.create_default_context()
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def insecure_url_problem(url: str, allowed: bool = False) -> str | None:
    """Plain ws:// would send the API key and the user's voice unencrypted. Loopback is fine
    (a local simulator or proxy); anywhere else only when the user said so for that profile."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or allowed or is_loopback_host(parts.hostname or ""):
        return None
    return (
        f"Refusing to connect to {parts.hostname} over unencrypted ws://: your API key and voice "
        "would cross "
        "the network in the clear. Use wss://, or allow unencrypted connections for this profile "
        "in Settings."
    )


def proxy_for(url: str, system_proxy: bool = True) -> Literal[True] | None:
    """websockets' `proxy=`: True (the system's, if any) or None (none). A proxy may carry only
    encrypted traffic to another machine: through a proxy, ws:// would hand it the key in the
    clear, and this machine's traffic has no business leaving it."""
    parts = urlsplit(url)
    if system_proxy and parts.scheme == "wss" and not is_loopback_host(parts.hostname or ""):
        return True
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else host + port


def is_loopback_host(host: str) -> bool:
    """This machine: `localhost` or a loopback address (never a name that merely resolves there)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refusal(host: str, exc: InvalidStatus) -> HttpRefusal:
    response = exc.response
    body = bytes(response.body or b"")[:MAX_REFUSAL_BODY].decode("utf-8", "replace")
    return HttpRefusal(host, response.status_code, body, response.headers.get("Retry-After"))


def _closed(exc: ConnectionClosed) -> Closed:
    frame = exc.rcvd or exc.sent
    return Closed(frame.code, frame.reason) if frame else Closed(1006, "")
