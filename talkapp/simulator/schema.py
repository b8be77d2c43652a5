"""Building blocks of the declarative client-event schemas (data only; `validate.py` walks them).

A schema is a tree of small frozen nodes. The per-dialect event schemas in `schema_ga.py` and
`schema_beta.py` are written with these and nothing else, so a diff of the two files shows the
protocol change and adding a field is one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from talkapp.simulator.errors import Fault


@dataclass(frozen=True)
class Str:
    max_len: int | None = None


@dataclass(frozen=True)
class Int:
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Num:
    """A JSON number (integer or decimal); bounds are reported as decimal bounds."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class Enum:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class AnyJson:
    """Free-form JSON (a tool's `parameters`, tracing `metadata`)."""

    kind: str | None = None  # "object" to insist on a JSON object


@dataclass(frozen=True)
class Arr:
    item: Node
    max_items: int | None = None


@dataclass(frozen=True)
class Map:
    """A JSON object with free keys (metadata, headers)."""

    value: Node
    max_entries: int | None = None


@dataclass(frozen=True)
class Obj:
    required: Mapping[str, Node] = field(default_factory=dict)
    optional: Mapping[str, Node] = field(default_factory=dict)


@dataclass(frozen=True)
class Tagged:
    """A union told apart by one key (`type`, `role`); `default` applies when the key is absent."""

    tag: str
    variants: Mapping[str, Node]
    default: str | None = None


@dataclass(frozen=True)
class Either:
    """Alternatives told apart by JSON kind (e.g. an integer or the string 'inf')."""

    options: tuple[Node, ...]
    expected: str  # how the invalid_type message names the alternatives


@dataclass(frozen=True)
class Nullable:
    """`null` is accepted (fields the service itself echoes as null, or documents as 'off')."""

    inner: Node


Rule = Callable[[Any, str], Fault | None]


@dataclass(frozen=True)
class Checked:
    """A node plus a rule the JSON shape cannot say (modalities combinations, exclusivity)."""

    inner: Node
    rule: Rule


Node = (
    Str | Int | Num | Bool | Enum | AnyJson | Arr | Map | Obj | Tagged | Either | Nullable | Checked
)


def event(
    required: Mapping[str, Node] | None = None, optional: Mapping[str, Node] | None = None
) -> Obj:
    """A client event: every event may carry a client-chosen `event_id`."""
    return Obj(required=dict(required or {}), optional={"event_id": Str(), **(optional or {})})


def nullable(node: Node) -> Nullable:
    return Nullable(node)
