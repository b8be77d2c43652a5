"""What a comparison row is: a saved profile's name or an inline spec, turned into a profile.

Inline: `MODEL[:DIALECT][,KEY=VALUE...]`, e.g. `gpt-realtime-2`, `gpt-4o-realtime-preview:beta`,
`gpt-realtime-2,voice=marin,reasoning=low`. A saved profile's name takes the same `,KEY=VALUE`
overrides. Keys: voice, reasoning, turn (server_vad | semantic_vad | none), instructions,
transcription (a model id or none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from talkapp.protocol.commands import SessionConfig, TurnDetection, TurnDetectionKind
from talkapp.protocol.models import REASONING_EFFORTS, takes_reasoning
from talkapp.protocol.selection import API_SETTINGS, ApiSetting
from talkapp.settings.profile import ProviderProfile


class ConfigError(ValueError):
    """A spec that cannot be understood; the message says why and what is allowed."""


@dataclass(frozen=True)
class CompareConfig:
    label: str  # what the user wrote: the row's name in every report
    profile: ProviderProfile


def _is_turn_kind(value: str) -> TypeGuard[TurnDetectionKind]:
    return value in ("server_vad", "semantic_vad")


def _is_api_setting(value: str) -> TypeGuard[ApiSetting]:
    return value in API_SETTINGS


def _turn(value: str) -> TurnDetection | None:
    if value == "none":
        return None
    if _is_turn_kind(value):
        return TurnDetection(kind=value)
    raise ConfigError(f"turn={value}: use server_vad, semantic_vad or none")


_SETTERS: dict[str, Callable[[SessionConfig, str], SessionConfig]] = {
    "voice": lambda c, v: dataclasses.replace(c, voice=v),
    "reasoning": lambda c, v: dataclasses.replace(c, reasoning_effort=v),
    "turn": lambda c, v: dataclasses.replace(c, turn_detection=_turn(v)),
    "instructions": lambda c, v: dataclasses.replace(c, instructions=v),
    "transcription": lambda c, v: dataclasses.replace(
        c, transcription_model=None if v == "none" else v
    ),
}


def parse_config(
    spec: str, saved: Sequence[ProviderProfile], base: ProviderProfile
) -> CompareConfig:
    """`base` supplies what an inline spec does not say (endpoint, key entry, session)."""
    head, *pairs = [part.strip() for part in spec.split(",")]
    if not head:
        raise ConfigError(f"'{spec}' names no model or profile")
    profile = next((p for p in saved if p.name == head), None) or _inline(head, base)
    session = profile.session
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in _SETTERS:
            raise ConfigError(
                f"'{pair}' in '{spec}': use KEY=VALUE with KEY one of {', '.join(_SETTERS)}"
            )
        if key == "reasoning":
            _check_reasoning(value, profile.model, spec)
        session = _SETTERS[key](session, value)
    return CompareConfig(spec, dataclasses.replace(profile, session=session))


def _check_reasoning(effort: str, model: str, spec: str) -> None:
    """Same rule as the session: only the gpt-realtime-2 models take an effort (the service
    rejects it elsewhere), so a row that asks for one elsewhere would compare nothing."""
    if effort not in REASONING_EFFORTS:
        raise ConfigError(
            f"reasoning={effort} in '{spec}': use one of {', '.join(REASONING_EFFORTS)}"
        )
    if not takes_reasoning(model):
        raise ConfigError(
            f"reasoning={effort} in '{spec}': {model} takes no reasoning effort "
            "(only the gpt-realtime-2 models do)"
        )


def _inline(head: str, base: ProviderProfile) -> ProviderProfile:
    model, sep, api = head.partition(":")
    setting: ApiSetting = "auto"
    if sep:
        if not _is_api_setting(api):
            raise ConfigError(
                f"'{head}': the dialect after ':' must be one of {', '.join(API_SETTINGS)}"
            )
        setting = api
    return dataclasses.replace(base, name=head, model=model, api=setting)
