"""A provider profile: where to connect, which model and dialect, and how the session behaves.

The provider names a preset (`providers.py`) that turns the profile into an endpoint: its URL,
the header that carries the key and the dialect `auto` picks. Profiles saved before presets
existed have only the fields above `deployment`; the new fields default to "" and mean "the
preset's default", so those files load and connect as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from talkapp.protocol.commands import SessionConfig
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.selection import ApiSetting, DialectChoice, choose_dialect
from talkapp.settings.providers import OPENAI_BASE_URL, Preset, preset_for, provider_for_url

__all__ = ["OPENAI_BASE_URL", "ProviderProfile", "command_line_profile", "simulator_profile"]

DEFAULT_MODEL = "gpt-realtime"
OPENAI_ENV_VAR = "OPENAI_API_KEY"
OPENAI_HOSTS = ("api.openai.com",)
SIMULATOR_PROFILE = "Offline simulator"

Provider = Literal["openai", "azure", "azure_preview", "xai", "gemini", "custom", "simulator"]

# Suggestions, not limits: every model, voice and transcription field takes any text (a service
# adds models and voices faster than TalkApp ships). The lists are what the providers' docs
# offered on this date.
SUGGESTIONS_TAKEN = "2026-12-07"
GA_VOICES = (
    "marin",
    "cedar",
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
)
BETA_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")
# xAI's built-in voices (docs.x.ai Voice Agent API; Eve is its default; any case; custom voice
# ids work too)
XAI_VOICES = ("Ara", "Rex", "Sal", "Eve", "Leo")
# Gemini Live's prebuilt voices (ai.google.dev speech generation docs; Puck is the default);
# the native-audio models have 30, these are the first the Live API docs list.
GEMINI_VOICES = ("Puck", "Charon", "Kore", "Fenrir", "Aoede", "Leda", "Orus", "Zephyr")
# Languages Gemini Live speaks (BCP-47); empty: the model picks from what it hears.
GEMINI_LANGUAGES = ("en-US", "de-DE", "fr-FR", "es-US", "it-IT", "ja-JP", "pt-BR", "hi-IN")
TRANSCRIPTION_MODELS = ("gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1")


@dataclass(frozen=True)
class ProviderProfile:
    name: str = "OpenAI"
    provider: Provider = (
        "openai"  # a preset id; "simulator": the built-in simulator, started on demand
    )
    base_url: str = OPENAI_BASE_URL  # Azure: the resource name or endpoint
    api: ApiSetting = (
        "auto"  # "auto" (the provider's dialect, else by model) | "beta" | "ga" | "xai"
    )
    model: str = DEFAULT_MODEL  # Azure: the model the deployment runs (reasoning, prices)
    session: SessionConfig = field(default_factory=SessionConfig)
    key_name: str = "openai"  # the keyring entry (username) under service "talkapp"
    allow_insecure: bool = False  # plain ws:// to a host that is not this machine
    deployment: str = ""  # Azure: the deployment's name ("" = same as the model)
    api_version: str = ""  # Azure preview: "" = the newest preview version TalkApp knows
    system_proxy: bool = True  # wss:// through the system's proxy (https_proxy …), if one is set
    # Opt-ins for sending a secret where it does not go by default (see `key_problem`,
    # `sends_mcp_servers`): the OpenAI key to a server that is not OpenAI's, and the MCP servers
    # (with their auth headers) to a provider that does not run remote MCP itself.
    share_openai_key: bool = False
    send_mcp_servers: bool = False
    sign_in: str = "key"  # Azure: "key" (api-key header) or "entra" (Entra ID bearer token)

    @property
    def uses_entra(self) -> bool:
        return self.sign_in == "entra" and self.provider in ("azure", "azure_preview")

    @property
    def preset(self) -> Preset:
        return preset_for(self.provider)

    @property
    def needs_key(self) -> bool:
        return self.preset.needs_key

    @property
    def env_var(self) -> str:
        """This provider's own variable for a key for one session, when not in the keyring."""
        return self.preset.env_var

    @property
    def env_vars(self) -> tuple[str, ...]:
        """Every variable a key for one session may come from, in order (`env_var` first).
        OPENAI_API_KEY serves another provider only when the profile opts in."""
        shared = self.provider == "openai" or self.share_openai_key
        return tuple(name for name in self.preset.env_vars if name != OPENAI_ENV_VAR or shared)

    @property
    def host(self) -> str:
        return (urlsplit(self.endpoint().url).hostname or "").lower()

    @property
    def key_problem(self) -> str | None:
        """Why this profile's key must not be looked up: an OpenAI profile whose base URL was
        pointed at another host would hand that host the OpenAI key (None: nothing wrong)."""
        if self.provider != "openai" or self.share_openai_key or self.host in OPENAI_HOSTS:
            return None
        return (
            f"This OpenAI profile points at {self.host or 'an unnamed host'}, which is not "
            "OpenAI's: TalkApp will not send your OpenAI key there. Choose the provider that "
            "server belongs to (Custom has a key of its own), or allow this profile to share "
            "the OpenAI key."
        )

    @property
    def sends_mcp_servers(self) -> bool:
        """MCP servers, with their auth headers, go only to services that run remote MCP
        themselves (OpenAI, Azure OpenAI), the built-in simulator, or where the user opted in."""
        if self.send_mcp_servers or self.provider in ("simulator", "azure", "azure_preview"):
            return True
        return self.provider == "openai" and self.host in OPENAI_HOSTS

    def choice(self) -> DialectChoice:
        return choose_dialect(self.api, self.model, self.preset.dialect)

    def endpoint(self) -> Endpoint:
        return self.preset.endpoint(self)

    def describe(self) -> str:
        """What a person reads: `gpt-realtime-2 · GA (auto)`."""
        return f"{self.model} · {self.choice().describe()}"


def command_line_profile(
    base_url: str | None, provider: str | None = None, model: str | None = None, **fields: Any
) -> ProviderProfile:
    """A profile from command-line flags: the provider is the one named, else the one the URL
    belongs to (`provider_for_url`); no URL means the provider's own endpoint, no model its
    first."""
    preset = preset_for(provider or provider_for_url(base_url))
    return ProviderProfile(
        name="command line",
        provider=cast(Provider, preset.provider),
        base_url=base_url or preset.base_url,
        key_name=preset.key_name,
        model=model or preset.default_model,
        **fields,
    )


def simulator_profile() -> ProviderProfile:
    """The profile a new user starts on: talking works at once, with no key and no network."""
    return ProviderProfile(name=SIMULATOR_PROFILE, provider="simulator", base_url="", key_name="")
