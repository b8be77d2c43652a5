"""Provider presets: each builds, from a profile, its own URL, auth header and default dialect.

A preset is a table entry, not a branch: what differs between OpenAI, Azure OpenAI (GA and the
legacy preview protocol), xAI, a custom server and the built-in simulator is data here, and
`ProviderProfile.endpoint()` reads it (reference §1.1, §1.2, §1.6). An explicit dialect setting
in the profile still wins over the preset's default. `PRESETS` below is the one source of these
facts; the README's Providers table shows them to people.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from talkapp.protocol.dialect import AuthScheme
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.selection import choose_dialect

if TYPE_CHECKING:
    from talkapp.settings.profile import ProviderProfile

OPENAI_BASE_URL = "https://api.openai.com/v1"
XAI_BASE_URL = "https://api.x.ai/v1"
# Google's Gemini API host; TalkApp appends the Live path (`/ws/google.ai.generativelanguage.
# v1beta.GenerativeService.BidiGenerateContent`), so `--base-url ws://HOST:PORT` reaches another
# server of the same shape.
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"
GEMINI_HOST = "generativelanguage.googleapis.com"
AZURE_HOST = "openai.azure.com"  # a bare resource name R means https://R.openai.azure.com
# the preview protocol's api-version (learn.microsoft.com "Use the GPT Realtime API via WebSockets";
# 2024-10-01-preview is retired). Any dated version can be typed.
AZURE_API_VERSIONS = ("2025-04-01-preview",)

GA_MODELS = (
    "gpt-realtime",
    "gpt-realtime-mini",
    "gpt-realtime-1.5",
    "gpt-realtime-2",
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
)
PREVIEW_MODELS = ("gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview")
# `grok-voice-latest` is the reference's; `grok-voice-think-fast-1.0` is pipecat's default
# (reported).
XAI_MODELS = ("grok-voice-latest", "grok-voice-think-fast-1.0")
# Google's native-audio Live models (ai.google.dev Live API docs, "Get started with Live API
# using WebSockets", on SUGGESTIONS_TAKEN in settings/profile.py); any id can be typed.
GEMINI_MODELS = (
    "gemini-2.5-flash-native-audio-preview-12-2025",
    "gemini-2.5-flash-native-audio-preview-09-2025",
)

# The form's fields a preset shows besides name, model, dialect and session settings.
# "base_url" is the base URL, or for Azure the resource name or endpoint.
BASE_URL, RESOURCE, DEPLOYMENT, API_VERSION = "base_url", "resource", "deployment", "api_version"


@dataclass(frozen=True)
class Address:
    """Where the WebSocket goes: a base URL (`/realtime` is appended) and its query (None:
    `model=<model>`)."""

    base_url: str
    query: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class Preset:
    provider: str  # the id profiles store
    label: str  # what the provider picker shows
    auth: AuthScheme
    dialect: str | None  # what `auto` speaks here; None: decided by the model id
    key_name: str  # the keyring entry a new profile of this provider gets ("" = no key)
    base_url: str  # the default of the base URL / endpoint field
    models: tuple[str, ...]  # offered in the model list (any id can be typed)
    fields: tuple[str, ...]  # which extra fields the settings form shows
    address: Callable[[ProviderProfile], Address]
    misfits: Mapping[str, str] = field(
        default_factory=dict
    )  # explicit dialect -> why it fails here
    # The environment variable that may hold this provider's key for one session: each provider
    # has its own, looked at first. OPENAI_API_KEY is the fallback wherever the service is
    # OpenAI-compatible (the documented contract of `say` and the app), never for xAI: an
    # OpenAI key must not be sent to another company's server.
    env_var: str = "OPENAI_API_KEY"
    openai_key_fallback: bool = True
    more_env_vars: tuple[str, ...] = ()  # looked at after `env_var` (Gemini: GOOGLE_API_KEY)

    @property
    def needs_key(self) -> bool:
        return bool(self.key_name)

    @property
    def env_vars(self) -> tuple[str, ...]:
        """Where a key for one session may come from, in order."""
        fallback = (
            ("OPENAI_API_KEY",)
            if self.openai_key_fallback and self.env_var != "OPENAI_API_KEY"
            else ()
        )
        return (self.env_var, *self.more_env_vars, *fallback)

    @property
    def default_model(self) -> str:
        return self.models[0]

    def endpoint(self, profile: ProviderProfile) -> Endpoint:
        address = self.address(profile)
        choice = choose_dialect(profile.api, profile.model, self.dialect)
        auth = "bearer" if profile.uses_entra else self.auth  # an Entra token is a bearer token
        return Endpoint(
            address.base_url,
            profile.model,
            choice,
            profile.allow_insecure,
            auth,
            address.query,
            system_proxy=profile.system_proxy,
        )


# ---- addresses ----


def _base_url(profile: ProviderProfile) -> Address:
    return Address(profile.base_url)


def azure_endpoint(resource: str) -> str:
    """`my-res`, `my-res.openai.azure.com` or `https://my-res.openai.azure.com/…` -> the
    endpoint `https://my-res.openai.azure.com` ("" when nothing is given). A URL keeps its
    scheme, host and any path before `/openai` (a gateway in front of Azure)."""
    text = resource.strip()
    if not text:
        return ""
    if "://" not in text:
        host = text.rstrip("/") if "." in text else f"{text}.{AZURE_HOST}"
        return f"https://{host}"
    parts = urlsplit(text)
    path = parts.path.split("/openai", 1)[0].rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _deployment(profile: ProviderProfile) -> str:
    return (
        profile.deployment.strip() or profile.model.strip()
    )  # as the SDK does: deployment or model


def _azure_ga(profile: ProviderProfile) -> Address:
    """GA on Azure: `/openai/v1/realtime?model=<deployment>`, no api-version (§1.6)."""
    return Address(
        f"{azure_endpoint(profile.base_url)}/openai/v1", (("model", _deployment(profile)),)
    )


def _azure_preview(profile: ProviderProfile) -> Address:
    """The preview (beta) protocol: `/openai/realtime?api-version=…&deployment=…` (§1.6)."""
    version = profile.api_version.strip() or AZURE_API_VERSIONS[0]
    return Address(
        f"{azure_endpoint(profile.base_url)}/openai",
        (("api-version", version), ("deployment", _deployment(profile))),
    )


# ---- the presets ----

PRESETS: dict[str, Preset] = {
    p.provider: p
    for p in (
        Preset(
            "openai",
            "OpenAI",
            "bearer",
            None,
            "openai",
            OPENAI_BASE_URL,
            GA_MODELS + PREVIEW_MODELS,
            (BASE_URL,),
            _base_url,
            {"xai": "OpenAI's endpoint does not speak xAI's dialect: choose GA or Auto."},
        ),
        Preset(
            "azure",
            "Azure OpenAI",
            "api-key",
            "ga",
            "azure",
            "",
            GA_MODELS,
            (RESOURCE, DEPLOYMENT),
            _azure_ga,
            {
                "beta": "Azure's /openai/v1 endpoint speaks GA only: for a beta deployment choose "
                "the provider “Azure OpenAI (preview)”.",
                "xai": "Azure's endpoint does not speak xAI's dialect: choose GA or Auto.",
            },
            env_var="AZURE_OPENAI_API_KEY",
        ),
        Preset(
            "azure_preview",
            "Azure OpenAI (preview, beta)",
            "api-key",
            "beta",
            "azure",
            "",
            PREVIEW_MODELS + ("gpt-realtime", "gpt-realtime-mini"),
            (RESOURCE, DEPLOYMENT, API_VERSION),
            _azure_preview,
            {
                "ga": "Azure's preview protocol speaks beta only (and is deprecated since "
                "2026-04-30): for GA choose the provider “Azure OpenAI”.",
                "xai": (
                    "Azure's preview protocol does not speak xAI's dialect: choose Beta or Auto."
                ),
            },
            env_var="AZURE_OPENAI_API_KEY",
        ),
        Preset(
            "xai",
            "xAI Grok Voice",
            "bearer",
            "xai",
            "xai",
            XAI_BASE_URL,
            XAI_MODELS,
            (BASE_URL,),
            _base_url,
            {
                "ga": (
                    "xAI speaks its own dialect (flat session fields, GA event names): choose "
                    "xAI or Auto."
                ),
                "beta": (
                    "xAI speaks its own dialect (flat session fields, GA event names): choose "
                    "xAI or Auto."
                ),
            },
            env_var="XAI_API_KEY",
            openai_key_fallback=False,
        ),
        Preset(
            "gemini",
            "Google Gemini Live",
            "x-goog-api-key",
            "gemini",
            "gemini",
            GEMINI_BASE_URL,
            GEMINI_MODELS,
            (BASE_URL,),
            _base_url,
            {
                other: "Google's Live API speaks its own protocol (setup, then realtimeInput): "
                "choose Gemini or Auto."
                for other in ("beta", "ga", "xai")
            },
            # Google's SDK reads GEMINI_API_KEY, then GOOGLE_API_KEY; never an OpenAI key.
            env_var="GEMINI_API_KEY",
            openai_key_fallback=False,
            more_env_vars=("GOOGLE_API_KEY",),
        ),
        Preset(
            "custom",
            "Custom (OpenAI-compatible)",
            "bearer",
            None,
            "custom",
            "",
            GA_MODELS + PREVIEW_MODELS,
            (BASE_URL,),
            _base_url,
            env_var="TALKAPP_CUSTOM_API_KEY",
        ),
        Preset(
            "simulator",
            "Offline simulator",
            "bearer",
            None,
            "",
            "",
            GA_MODELS + PREVIEW_MODELS + XAI_MODELS + GEMINI_MODELS,
            (),
            _base_url,
        ),
    )
}
PROVIDERS = tuple(PRESETS)
AZURE_PROVIDERS = ("azure", "azure_preview")


# On the command line the provider follows from the URL unless `--provider` names it, so a
# key is only sent to the company it belongs to: an OpenAI key never goes to a proxy or to xAI.
_HOSTS = (("api.openai.com", "openai"), ("api.x.ai", "xai"), (GEMINI_HOST, "gemini"))


def provider_for_url(url: str | None) -> str:
    """The preset a base URL belongs to: no URL or OpenAI's host -> openai, an Azure OpenAI
    resource -> azure, xAI's host -> xai, Google's Gemini API host -> gemini, anything else ->
    custom."""
    if not url:
        return "openai"
    host = (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()
    if host.endswith(f".{AZURE_HOST}"):
        return "azure"
    return next((provider for known, provider in _HOSTS if host == known), "custom")


def preset_for(provider: str) -> Preset:
    """The preset of `provider`; an id this version does not know (a newer TalkApp wrote it)
    behaves as a custom server, so the profile still loads and connects where its URL says."""
    return PRESETS.get(provider, PRESETS["custom"])


_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def api_version_problem(version: str) -> str:
    text = version.strip()
    if not text or _API_VERSION.match(text):
        return ""
    return f"the API version “{text}” is not a date like {AZURE_API_VERSIONS[0]}."
