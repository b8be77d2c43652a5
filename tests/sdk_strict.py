"""Strict validation of client events against the official `openai` SDK's own types.

The SDK models accept unknown keys (`extra="allow"`), and the real service does not, so after
pydantic validation we walk the parsed models and report every extra key (reference §9.2).
Beta types come from `openai.types.beta.realtime`, which the installed SDK still ships.
"""

from __future__ import annotations

import typing
from typing import Annotated, Union

from openai.types.beta.realtime import RealtimeClientEvent as BetaClientEvent
from openai.types.realtime import RealtimeClientEvent as GAClientEvent
from pydantic import BaseModel, Field, TypeAdapter, ValidationError


def _discriminated(alias) -> TypeAdapter:
    members = typing.get_args(typing.get_args(alias)[0])  # Annotated[Union[...], PropertyInfo]
    return TypeAdapter(Annotated[Union[members], Field(discriminator="type")])  # noqa: UP007


ADAPTERS = {"ga": _discriminated(GAClientEvent), "beta": _discriminated(BetaClientEvent)}


def _extras(value, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}.{key}".lstrip(".") for key in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found += _extras(item, f"{path}[{i}]")
    return found


def problems(event: dict, dialect: str) -> list[str]:
    """Empty when the SDK's types for `dialect` accept `event` with no unknown keys."""
    try:
        parsed = ADAPTERS[dialect].validate_python(event)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return [f"unknown key {path}" for path in _extras(parsed, "")]
