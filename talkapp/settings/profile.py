"""A provider profile: where to connect, which model and dialect, and how the session behaves."""

from __future__ import annotations

from dataclasses import dataclass, field

from talkapp.protocol.commands import SessionConfig
from talkapp.protocol.selection import ApiSetting, choose_dialect
from talkapp.session.client import Endpoint

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-realtime"


@dataclass(frozen=True)
class ProviderProfile:
    name: str = "OpenAI"
    base_url: str = OPENAI_BASE_URL
    api: ApiSetting = "auto"  # "auto" | "beta" | "ga"
    model: str = DEFAULT_MODEL
    session: SessionConfig = field(default_factory=SessionConfig)
    key_name: str = "openai"  # the keyring entry (username) under service "talkapp"

    def endpoint(self) -> Endpoint:
        return Endpoint(self.base_url, self.model, choose_dialect(self.api, self.model))
