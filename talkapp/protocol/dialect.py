"""What makes a dialect: its name, its headers, its session shape and its table of decoders.

The two dialects share one connection URL (`/realtime?model=…`); they differ in the
`OpenAI-Beta` header, the `session.update` shape and the server event names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from talkapp.protocol.decoding import Decoder
from talkapp.protocol.encoding import SessionShape

DialectName = Literal["beta", "ga"]


@dataclass(frozen=True)
class Dialect:
    name: DialectName
    label: str  # what a person reads: "beta", "GA"
    extra_headers: Mapping[str, str]
    session_shape: SessionShape
    decoders: Mapping[str, Decoder]
    assistant_text: str  # content type of assistant text in conversation items

    def headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}", **self.extra_headers}


def realtime_url(base_url: str, model: str) -> str:
    """`https://api.openai.com/v1` + model -> `wss://api.openai.com/v1/realtime?model=…`.

    http(s) base URLs are accepted because that is how people copy them from docs.
    """
    parts = urlsplit(base_url.strip())
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/realtime"):
        path += "/realtime"
    query = "&".join(q for q in (parts.query, f"model={quote(model, safe='')}") if q)
    return urlunsplit((scheme, parts.netloc, path, query, ""))


