"""Walk a client event against its schema and return the one error the service would report.

Evaluation order (reference §9.2, §11.3): the service reports a missing required parameter (the
GA `session.type` discriminator included) before an unknown parameter, and both before any
enum / type / bound / rule error, wherever they sit in the tree. Within a class the first in
document order wins. So the walker collects every fault with its class and picks the least;
it never raises, whatever JSON it is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from talkapp.simulator import errors
from talkapp.simulator.errors import Fault
from talkapp.simulator.schema import (
    AnyJson,
    Arr,
    Bool,
    Checked,
    Either,
    Enum,
    Int,
    Map,
    Node,
    Nullable,
    Num,
    Obj,
    Str,
    Tagged,
)

MISSING, UNKNOWN, OTHER = 0, 1, 2
Found = Iterator[tuple[int, Fault]]

_ARTICLE = {
    "null": "null",
    "boolean": "a boolean",
    "integer": "an integer",
    "decimal": "a decimal",
    "string": "a string",
    "array": "an array",
    "object": "an object",
}


def first_fault(
    schema: Node, event: dict, known: frozenset[str] = frozenset({"type"})
) -> Fault | None:
    """The error for `event` (a JSON object whose `type` was already dispatched), or None."""
    found = list(_walk(schema, event, "", known))
    if not found:
        return None
    _, _, fault = min((cls, seq, f) for seq, (cls, f) in enumerate(found))
    return fault


def kind(value: Any) -> str:
    """The JSON kind of a parsed value (bool before int: Python's bool is an int)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _walk(node: Node, value: Any, path: str, known: frozenset[str] = frozenset()) -> Found:
    match node:
        case Nullable(inner=inner):
            if value is not None:
                yield from _walk(inner, value, path, known)
        case Checked(inner=inner, rule=rule):
            yield from _checked(inner, rule, value, path, known)
        case Str() | Int() | Num() | Bool() | Enum() | AnyJson():
            yield from _scalar(node, value, path)
        case Arr() | Map():
            yield from _collection(node, value, path)
        case Obj():
            yield from _object(node, value, path, known)
        case Tagged():
            yield from _tagged(node, value, path, known)
        case Either():
            yield from _either(node, value, path)


def _checked(inner: Node, rule, value: Any, path: str, known: frozenset[str]) -> Found:
    inner_faults = list(_walk(inner, value, path, known))
    yield from inner_faults
    if not inner_faults and (fault := rule(value, path)) is not None:
        yield OTHER, fault


def _wrong_type(path: str, expected: str, value: Any) -> Found:
    yield OTHER, errors.invalid_type(path, expected, _ARTICLE[kind(value)])


def _scalar(node: Node, value: Any, path: str) -> Found:
    if not _accepts(node, value):
        yield from _wrong_type(path, _expected(node), value)
        return
    match node:
        case Str(max_len=limit) if limit is not None and len(value) > limit:
            yield OTHER, errors.too_long(path, limit, len(value))
        case Int(min=lo, max=hi) | Num(min=lo, max=hi):
            yield from _bounds(node, value, path, lo, hi)
        case Enum(values=values) if value not in values:
            yield OTHER, errors.invalid_value(value, values, path)


def _bounds(node: Node, value: float, path: str, lo: float | None, hi: float | None) -> Found:
    word = "integer" if isinstance(node, Int) else "decimal"
    if lo is not None and value < lo:
        yield OTHER, errors.out_of_range(path, word, value, lo, below=True)
    elif hi is not None and value > hi:
        yield OTHER, errors.out_of_range(path, word, value, hi, below=False)


def _collection(node: Arr | Map, value: Any, path: str) -> Found:
    if not _accepts(node, value):
        yield from _wrong_type(path, _expected(node), value)
        return
    limit = node.max_items if isinstance(node, Arr) else node.max_entries
    if limit is not None and len(value) > limit:
        yield OTHER, errors.too_many(path, limit, len(value))
    if isinstance(node, Arr):
        for i, item in enumerate(value):
            yield from _walk(node.item, item, f"{path}[{i}]")
    else:
        for key, item in value.items():
            yield from _walk(node.value, item, _join(path, key))


def _object(node: Obj, value: Any, path: str, known: frozenset[str]) -> Found:
    if not isinstance(value, dict):
        yield from _wrong_type(path, "an object", value)
        return
    for key in node.required:
        if key not in value:
            yield MISSING, errors.missing(_join(path, key))
    for key, item in value.items():
        child = node.required.get(key) or node.optional.get(key)
        if child is not None:
            yield from _walk(child, item, _join(path, key))
        elif key not in known:
            yield UNKNOWN, errors.unknown(_join(path, key))


def _tagged(node: Tagged, value: Any, path: str, known: frozenset[str]) -> Found:
    if not isinstance(value, dict):
        yield from _wrong_type(path, "an object", value)
        return
    tag = value.get(node.tag, node.default)
    if node.tag not in value and node.default is None:
        yield MISSING, errors.missing(_join(path, node.tag))
    elif not isinstance(tag, str) or tag not in node.variants:
        yield OTHER, errors.invalid_value(tag, tuple(node.variants), _join(path, node.tag))
    else:
        yield from _walk(node.variants[tag], value, path, known | {node.tag})


def _either(node: Either, value: Any, path: str) -> Found:
    for option in node.options:
        if _accepts(option, value):
            yield from _walk(option, value, path)
            return
    yield from _wrong_type(path, node.expected, value)


def _accepts(node: Node, value: Any) -> bool:
    """Whether `value` has the JSON kind `node` is about (its content is checked later)."""
    k = kind(value)
    match node:
        case Str():
            return k == "string"
        case Int():
            return k == "integer"
        case Num():
            return k in ("integer", "decimal")
        case Bool():
            return k == "boolean"
        case Enum(values=values):
            return any(kind(v) == k for v in values)
        case AnyJson(kind=want):
            return want is None or k == want
        case Arr():
            return k == "array"
        case Map() | Obj() | Tagged():
            return k == "object"
        case Nullable(inner=inner):
            return k == "null" or _accepts(inner, value)
        case Checked(inner=inner):
            return _accepts(inner, value)
        case Either(options=options):
            return any(_accepts(o, value) for o in options)
    return False


def _expected(node: Node) -> str:
    match node:
        case Enum(values=values):
            return _ARTICLE[kind(values[0])]
        case Num():
            return "a number"
        case Arr():
            return "an array"
        case Map() | AnyJson():
            return "an object"
    return _ARTICLE[{Str: "string", Int: "integer", Bool: "boolean"}[type(node)]]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
