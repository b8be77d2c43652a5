"""Client-sent items (already schema-valid wire JSON) → neutral conversation items (pure)."""

from __future__ import annotations

import base64

from talkapp.simulator.conversation import Item, Part
from talkapp.simulator.dialect import Dialect
from talkapp.simulator.wire_audio import Codec, to_pcm24

_FIELDS = {
    "function_call": ("name", "call_id", "arguments"),
    "function_call_output": ("call_id", "output"),
    "mcp_approval_response": ("approval_request_id", "approve", "reason"),
}


def from_wire(wire: dict, dialect: Dialect, *, item_id: str, call_id: str, codec: Codec) -> Item:
    """`item_id` / `call_id` are used when the client did not choose its own."""
    kind = wire["type"]
    if kind == "message":
        parts = [_part(p, dialect, codec) for p in wire["content"]]
        return Item(id=wire.get("id", item_id), type=kind, role=wire["role"], parts=parts)
    fields = {k: wire[k] for k in _FIELDS[kind] if k in wire}
    if kind == "function_call":
        fields = {
            "name": wire["name"],
            "call_id": wire.get("call_id", call_id),
            "arguments": wire["arguments"],
        }
    return Item(id=wire.get("id", item_id), type=kind, fields=fields)


def _part(wire: dict, dialect: Dialect, codec: Codec) -> Part:
    neutral = {v: k for k, v in dialect.assistant_content.items()}
    kind = neutral.get(wire["type"], wire["type"])
    if kind in ("audio", "input_audio"):
        audio = to_pcm24(base64.b64decode(wire["audio"]), codec) if wire.get("audio") else b""
        return Part(kind=kind, text=wire.get("transcript"), audio=audio)
    if kind == "input_image":
        return Part(kind=kind, image_url=wire["image_url"], detail=wire.get("detail"))
    return Part(kind=kind, text=wire.get("text"))
