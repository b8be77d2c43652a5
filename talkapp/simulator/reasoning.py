"""Reasoning is the model's, not the dialect's: the GA schemas for a model that takes no
`reasoning` (reference §2.1: the gpt-realtime-2 family takes `reasoning.effort`; other models
reject it, reported).

Derived from the GA schemas rather than written out again, so the two never drift: the same
tree without the `reasoning` key of the realtime session and of `response.create`'s
`response`. The validator then answers as for any key the schema lacks:
"Unknown parameter: 'session.reasoning'." (`unknown_parameter`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from talkapp.simulator.schema import Node, Obj, Tagged

# (event type, path to the object holding `reasoning`); a Tagged step names its variant.
_HOLDERS = (("session.update", ("session", "realtime")), ("response.create", ("response",)))


def without_reasoning(events: Mapping[str, Node]) -> dict[str, Node]:
    stripped = dict(events)
    for kind, path in _HOLDERS:
        if kind in stripped:
            stripped[kind] = _without(stripped[kind], path, "reasoning")
    return stripped


def _without(node: Node, path: tuple[str, ...], key: str) -> Node:
    if isinstance(node, Tagged):
        head, *rest = path
        return dataclasses.replace(
            node, variants={**node.variants, head: _without(node.variants[head], tuple(rest), key)}
        )
    if not isinstance(node, Obj):
        raise TypeError(f"cannot look for {key!r} inside {type(node).__name__}")
    if not path:
        return dataclasses.replace(
            node, required=_drop(node.required, key), optional=_drop(node.optional, key)
        )
    head, *rest = path
    where = "required" if head in node.required else "optional"
    children = getattr(node, where)
    return dataclasses.replace(
        node, **{where: {**children, head: _without(children[head], tuple(rest), key)}}
    )


def _drop(fields: Mapping[str, Node], key: str) -> dict[str, Node]:
    return {k: v for k, v in fields.items() if k != key}
