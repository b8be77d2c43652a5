"""Where and how to connect to a Realtime service: a value the settings, the session and the
compare runs share (so the settings need not import the session to describe one)."""

from __future__ import annotations

from dataclasses import dataclass

from talkapp.protocol.dialect import AuthScheme, Query
from talkapp.protocol.selection import DialectChoice


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect: the URL, the model and the dialect chosen for it."""

    base_url: str
    model: str
    choice: DialectChoice
    allow_insecure: bool = False  # plain ws:// to a non-loopback host, confirmed by the user
    auth: AuthScheme = "bearer"  # how the key travels; the provider preset decides (Azure: api-key)
    query: Query | None = (
        None  # None: `?model=<model>`; Azure's preview: api-version and deployment
    )
    system_proxy: bool = True  # wss:// through the environment's proxy, if it names one

    @property
    def url(self) -> str:
        return self.choice.dialect.url(self.base_url, self.model, self.query)

    def headers(self, api_key: str) -> dict[str, str]:
        return self.choice.dialect.headers(api_key, self.auth)

    def describe(self) -> str:
        return f"{self.model} · {self.choice.describe()}"
