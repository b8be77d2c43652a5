"""Microsoft Entra ID sign-in for Azure OpenAI: a bearer token instead of an API key.

Azure's realtime quickstarts sign in with `azure-identity` (`DefaultAzureCredential`: the Azure
CLI's login, a managed identity, environment credentials …) for the scope
`https://cognitiveservices.azure.com/.default`, and send the token as `Authorization: Bearer`.
`azure-identity` is optional (`pip install 'talkapp[azure]'`); without it the profile says what
is missing instead of failing later.

An `EntraToken` hands each new session (first connect, reconnect, renewal) a token that is
valid for a while yet: it renews `RENEW_BEFORE_S` before expiry, and `renew_if_due` lets the
session keeper renew in the background so a reconnect does not wait for the sign-in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"
RENEW_BEFORE_S = 300.0  # five minutes of margin: a token is never sent with less left
SIGN_IN_METHODS = ("key", "entra")  # a profile's `sign_in`
MISSING = (
    "Microsoft Entra ID sign-in needs the azure-identity package: install it with "
    "pip install 'talkapp[azure]' (or choose “API key” for this profile)."
)


class EntraUnavailable(Exception):
    """No token can be had; `str()` is one line for a person."""


class TokenProvider(Protocol):
    """What azure-identity's credentials offer: `get_token(scope)` → `.token`, `.expires_on`."""

    def get_token(self, *scopes: str) -> Any: ...


def identity_available() -> bool:
    try:
        import azure.identity  # noqa: F401
    except ImportError:
        return False
    return True


def default_token_provider() -> TokenProvider:
    """azure-identity's default chain (Azure CLI login, managed identity, environment …)."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise EntraUnavailable(MISSING) from None
    credential: TokenProvider = DefaultAzureCredential()
    return credential


class EntraToken:
    """A key source for `RealtimeSession.open`: `await current()` is a token with time left."""

    def __init__(
        self,
        provider: TokenProvider,
        scope: str = AZURE_SCOPE,
        renew_before_s: float = RENEW_BEFORE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._provider = provider
        self._scope = scope
        self._renew_before_s = renew_before_s
        self._clock = clock
        self._token: str | None = None
        self._expires_on = 0.0
        self._lock = asyncio.Lock()
        self.renewals = 0  # tokens fetched so far

    @property
    def auth(self) -> str:
        return "bearer"

    def due(self) -> bool:
        return self._token is None or self._clock() >= self._expires_on - self._renew_before_s

    async def current(self) -> str:
        async with self._lock:
            if self.due():
                await self._fetch()
            assert self._token is not None
            return self._token

    async def renew_if_due(self) -> None:
        """Renew ahead of time (the keeper calls this while a session runs)."""
        if self.due():
            try:
                await self.current()
            except EntraUnavailable:
                pass  # the next connect reports it, with the session it was for

    async def _fetch(self) -> None:
        try:
            got = await asyncio.to_thread(self._provider.get_token, self._scope)
        except Exception as exc:  # noqa: BLE001 - azure-identity raises its own kinds; the first line says why
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EntraUnavailable(
                f"Microsoft Entra ID sign-in failed ({first}): sign in with `az login`, or "
                "check the identity's access to this Azure resource."
            ) from None
        self._token, self._expires_on = str(got.token), float(got.expires_on)
        self.renewals += 1
