"""What makes a dialect: its name, its headers, its session shape and its table of decoders;
and how a key and a URL are put on the wire.

OpenAI's dialects share one connection URL (`/realtime?model=…`); they differ in the
`OpenAI-Beta` header, the `session.update` shape and the server event names. How the key
travels is the provider's business, not the dialect's: `Authorization: Bearer` for OpenAI and
xAI, Azure's own `api-key` header (reference §1.2, §1.6).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from talkapp.protocol import commands as cmd
from talkapp.protocol.decoding import Decoder, Events
from talkapp.protocol.encoding import SessionShape

DialectName = Literal["beta", "ga", "xai", "gemini"]
AuthScheme = Literal["bearer", "api-key", "x-goog-api-key"]

AUTH_HEADERS: Mapping[str, str] = {  # scheme -> header name; the value is built in `auth_header`
    "bearer": "Authorization",
    "api-key": "api-key",
    "x-goog-api-key": "x-goog-api-key",  # Google's: never `?key=` (URLs end up in logs)
}


def auth_header(scheme: str, api_key: str) -> dict[str, str]:
    """The header that carries the key: `Authorization: Bearer <key>`, or Azure's
    `api-key: <key>`."""
    if scheme not in AUTH_HEADERS:
        raise ValueError(f"unknown auth scheme {scheme!r}: use one of {', '.join(AUTH_HEADERS)}")
    value = f"Bearer {api_key}" if scheme == "bearer" else api_key
    return {AUTH_HEADERS[scheme]: value}


class Codec(Protocol):
    """A dialect's own encoder and decoder, for a protocol that is not OpenAI's event stream
    (Gemini Live): stateful per connection, since ids, tool names and audio resampling carry
    from one message to the next. Wire dicts in and out; the connection does the JSON."""

    def encode(self, command: cmd.Command) -> tuple[dict[str, Any], ...]: ...
    def decode(self, raw: dict[str, Any]) -> Events: ...


Query = Sequence[tuple[str, str]]
UrlBuilder = Callable[[str, str, "Query | None"], str]


@dataclass(frozen=True)
class Dialect:
    name: DialectName
    label: str  # what a person reads: "beta", "GA", "xAI"
    extra_headers: Mapping[str, str]
    session_shape: SessionShape  # (config, model=None) -> the `session` object of session.update
    decoders: Mapping[str, Decoder]
    assistant_text: str  # content type of assistant text in conversation items
    # The rest is for dialects that are not OpenAI's event stream (Gemini):
    url_builder: UrlBuilder | None = None  # None: OpenAI's `/realtime?model=…`
    auth: AuthScheme | None = None  # the only header the service takes the key in (None: any)
    client_speaks_first: bool = False  # the client's setup opens the session (no session.created)
    codec: Callable[[SessionShape], Codec] | None = None  # None: OpenAI events (encoding.py)

    def headers(self, api_key: str, auth: AuthScheme = "bearer") -> dict[str, str]:
        return {**auth_header(self.auth or auth, api_key), **self.extra_headers}

    def url(self, base_url: str, model: str, query: Query | None = None) -> str:
        builder = self.url_builder or realtime_url
        return builder(base_url, model, query)

    def for_model(self, model: str) -> Dialect:
        """This dialect speaking to `model`: its session shape leaves out what the model does not
        take (a reasoning effort for a model without reasoning). A bare dialect, not bound to a
        model, shapes the configuration as given."""
        return dataclasses.replace(
            self, session_shape=functools.partial(self.session_shape, model=model)
        )


def realtime_url(base_url: str, model: str, query: Query | None = None) -> str:
    """`https://api.openai.com/v1` + model -> `wss://api.openai.com/v1/realtime?model=…`.

    `query` replaces the `model=…` parameter for endpoints that name things otherwise (Azure's
    preview protocol: `api-version=…&deployment=…`). http(s) base URLs are accepted because that
    is how people copy them from docs.
    """
    parts = urlsplit(base_url.strip())
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/realtime"):
        path += "/realtime"
    ours = urlencode(
        list(query if query is not None else [("model", model)]), quote_via=quote, safe=""
    )
    return urlunsplit(
        (scheme, parts.netloc, path, "&".join(q for q in (parts.query, ours) if q), "")
    )
