"""The settings one response runs with: the session's, overridden by `response.create` (pure).

Values stay in wire form (a GA format object, a beta format string) so the response object
reports them back exactly; the dialect's path tables say where each one lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from talkapp.simulator.dialect import Dialect, lookup
from talkapp.simulator.wire_audio import Codec, codec_of


@dataclass(frozen=True)
class ResponseParams:
    modalities: list[str]
    voice: object  # a voice name, or {"id": …} for a custom GA voice
    format: object
    max_tokens: object  # an int or "inf"
    temperature: float | None
    instructions: str
    tools: list[dict]
    tool_choice: object
    speed: float
    conversation: str  # "auto" | "none"
    input: list[dict] | None  # items / references replacing the conversation as context
    metadata: dict | None

    @property
    def audio(self) -> bool:
        return "audio" in self.modalities

    @property
    def codec(self) -> Codec:
        return codec_of(self.format)

    @property
    def voice_name(self) -> str:
        return self.voice["id"] if isinstance(self.voice, dict) else str(self.voice)

    @property
    def token_limit(self) -> int | None:
        return self.max_tokens if isinstance(self.max_tokens, int) else None


_SETTINGS = (
    "modalities",
    "voice",
    "format",
    "max_tokens",
    "temperature",
    "instructions",
    "tools",
    "tool_choice",
    "speed",
)


def resolve(session: dict, overrides: dict, dialect: Dialect) -> ResponseParams:
    """Session settings, each replaced by the response's own when it gives one."""
    values: dict[str, Any] = {}  # wire values, as the schema let them through
    for name in _SETTINGS:
        value = lookup(session, dialect.session_paths.get(name, ("-",)))
        override = lookup(overrides, dialect.response_paths.get(name, ("-",)))
        values[name] = value if override is None else override
    return ResponseParams(
        **values,
        conversation=overrides.get("conversation", "auto"),
        input=overrides.get("input"),
        metadata=overrides.get("metadata"),
    )


def session_value(session: dict, dialect: Dialect, name: str) -> object:
    return lookup(session, dialect.session_paths[name])
