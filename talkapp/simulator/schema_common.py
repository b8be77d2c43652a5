"""Schema pieces both dialects share word for word (function tools, metadata, rules)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
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

MAX_ITEM_ID = 32
MAX_APPEND_BYTES = 15 * 1024 * 1024  # reference §3.1: ≤ 15 MiB per append

BETA_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse")
GA_VOICES = (*BETA_VOICES, "marin", "cedar")
STATUSES = ("completed", "incomplete", "in_progress")
EAGERNESS = ("low", "medium", "high", "auto")


def _base64_audio(value: Any, path: str) -> Fault | None:
    """Standard base64 with padding; the decoded audio must fit the 15 MiB limit."""
    try:
        size = len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return Fault("invalid_value", f"Invalid '{path}': expected base64-encoded audio.", path)
    if size > MAX_APPEND_BYTES:
        return Fault(
            "invalid_value", f"Invalid '{path}': audio exceeds the 15 MiB limit per event.", path
        )
    return None


def modalities_rule(combinations: Sequence[Sequence[str]], *, ordered: bool):
    """GA wants exactly ['audio'] or ['text']; beta ['text'] or ['audio', 'text'] in any order."""

    def rule(value: list, path: str) -> Fault | None:
        key = list(value) if ordered else sorted(value)
        if any(key == (list(c) if ordered else sorted(c)) for c in combinations):
            return None
        return errors.invalid_modalities(value, [list(c) for c in combinations], path)

    return rule


def modalities(combinations: Sequence[Sequence[str]], *, ordered: bool) -> Checked:
    return Checked(Arr(Enum(("text", "audio"))), modalities_rule(combinations, ordered=ordered))


BASE64_AUDIO = Checked(Str(), _base64_audio)
ITEM_ID = Str(max_len=MAX_ITEM_ID)
ITEM_COMMON: dict[str, Node] = {
    "id": ITEM_ID,
    "object": Enum(("realtime.item",)),
    "status": Enum(STATUSES),
}
METADATA = Nullable(Map(Str(max_len=512), max_entries=16))
# The upper bound is the model's (catalogue.max_output_tokens), checked by the engine.
MAX_TOKENS = Either((Int(1, None), Enum(("inf",))), "an integer or 'inf'")
SPEED = Num(0.25, 1.5)
INSTRUCTIONS = Str()
CONVERSATION = Enum(("auto", "none"))

FUNCTION_TOOL = Obj(
    required={"name": Str()},
    optional={"description": Str(), "parameters": AnyJson("object")},
)
FUNCTION_CHOICE = Obj(required={"name": Str()})

TRACING = Nullable(
    Either(
        (
            Enum(("auto",)),
            Obj(
                optional={"workflow_name": Str(), "group_id": Str(), "metadata": AnyJson("object")}
            ),
        ),
        "'auto' or an object",
    )
)
PROMPT = Nullable(
    Obj(required={"id": Str()}, optional={"version": Nullable(Str()), "variables": Map(AnyJson())})
)
INCLUDE = Nullable(Arr(Enum(("item.input_audio_transcription.logprobs",))))
TRUNCATION = Either(
    (
        Enum(("auto", "disabled")),
        Tagged(
            "type",
            {
                "retention_ratio": Obj(
                    required={"retention_ratio": Num(0.0, 1.0)},
                    optional={"token_limits": Obj(optional={"post_instructions": Int(min=0)})},
                )
            },
        ),
    ),
    "a string or an object",
)

SERVER_VAD: dict[str, Node] = {
    "threshold": Num(0.0, 1.0),
    "prefix_padding_ms": Int(min=0),
    "silence_duration_ms": Int(min=0),
    "idle_timeout_ms": Nullable(Int(min=0)),
    "create_response": Bool(),
    "interrupt_response": Bool(),
}
SEMANTIC_VAD: dict[str, Node] = {
    "eagerness": Enum(EAGERNESS),
    "create_response": Bool(),
    "interrupt_response": Bool(),
}
NOISE_TYPES = Enum(("near_field", "far_field"))

TRUNCATE: dict[str, Node] = {
    "item_id": Str(),
    "content_index": Int(0, 0),
    "audio_end_ms": Int(min=0),
}
ITEM_ID_EVENT: dict[str, Node] = {"item_id": Str()}


def message_content(variants: dict[str, Node]) -> Obj:
    return Obj(required={"content": Arr(Tagged("type", variants))}, optional=ITEM_COMMON)


def with_reference(item: Tagged) -> Tagged:
    """response.create `input`: the conversation items plus references to existing ones."""
    return Tagged("type", {**item.variants, "item_reference": Obj(required={"id": Str()})})
