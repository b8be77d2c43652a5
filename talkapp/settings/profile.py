"""A provider profile: where to connect, which model and dialect, and how the session behaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from talkapp.protocol.commands import SessionConfig
from talkapp.protocol.selection import ApiSetting, choose_dialect
from talkapp.session.client import Endpoint

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-realtime"
SIMULATOR_PROFILE = "Offline simulator"

Provider = Literal["openai", "custom", "simulator"]

# Model ids offered in the settings' editable list (any other id can be typed).
KNOWN_MODELS = (
    "gpt-realtime",
    "gpt-realtime-mini",
    "gpt-realtime-1.5",
    "gpt-realtime-2",
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-4o-realtime-preview",
    "gpt-4o-mini-realtime-preview",
)
GA_VOICES = ("marin", "cedar", "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")
BETA_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")
TRANSCRIPTION_MODELS = ("gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1")


@dataclass(frozen=True)
class ProviderProfile:
    name: str = "OpenAI"
    provider: Provider = "openai"  # "simulator": the built-in simulator, started on demand
    base_url: str = OPENAI_BASE_URL
    api: ApiSetting = "auto"  # "auto" | "beta" | "ga"
    model: str = DEFAULT_MODEL
    session: SessionConfig = field(default_factory=SessionConfig)
    key_name: str = "openai"  # the keyring entry (username) under service "talkapp"
    allow_insecure: bool = False  # plain ws:// to a host that is not this machine

    @property
    def needs_key(self) -> bool:
        return self.provider != "simulator"

    def endpoint(self) -> Endpoint:
        return Endpoint(self.base_url, self.model, choose_dialect(self.api, self.model), self.allow_insecure)

    def describe(self) -> str:
        """What a person reads: `gpt-realtime-2 · GA (auto)`."""
        return f"{self.model} · {choose_dialect(self.api, self.model).describe()}"


def simulator_profile() -> ProviderProfile:
    """The profile a new user starts on: talking works at once, with no key and no network."""
    return ProviderProfile(name=SIMULATOR_PROFILE, provider="simulator", base_url="", key_name="")
