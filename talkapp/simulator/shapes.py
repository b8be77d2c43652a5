"""Server events in the shapes the service sends them, per dialect (pure; see the fixtures).

Names and per-dialect differences come from the `Dialect` tables; this module only arranges
fields. Every event gets a fresh server `event_id` from the `Stamp` it is built with.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping

from talkapp.simulator.conversation import Item, Part
from talkapp.simulator.dialect import Dialect
from talkapp.simulator.ids import Ids
from talkapp.simulator.settings import ResponseParams


class Stamp:
    """Builds `{"type", "event_id", …fields}` with a fresh server event id, leaving out the
    fields the dialect's service does not send (`Dialect.omits`)."""

    def __init__(self, ids: Ids, omits: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self._ids = ids
        self._omits = omits or {}

    def __call__(self, type_: str, **fields: object) -> dict:
        for name in self._omits.get(type_, ()):
            fields.pop(name, None)
        return {"type": type_, "event_id": self._ids.event(), **fields}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- items ------------------------------------------------------------------------------------


def item(it: Item, dialect: Dialect, *, with_audio: bool = False) -> dict:
    head = {"id": it.id, **({"object": "realtime.item"} if dialect.item_object else {})}
    head.update(type=it.type)
    if not it.type.startswith("mcp_"):  # MCP items have no status (SDK realtime_mcp_*.py)
        head["status"] = it.status
    if it.type == "message":
        parts = [part(p, dialect, with_audio=with_audio) for p in it.parts]
        return {**head, "role": it.role, "content": parts}
    return {**head, **it.fields}


def part(p: Part, dialect: Dialect, *, with_audio: bool = False) -> dict:
    """An item's content entry (assistant kinds renamed per dialect)."""
    kind = dialect.assistant_content.get(p.kind, p.kind)
    if p.kind in ("audio", "input_audio"):
        audio = {"audio": b64(p.audio)} if with_audio and p.audio else {}
        return {"type": kind, **audio, "transcript": p.text}
    if p.kind == "input_image":
        return {"type": kind, "image_url": p.image_url, "detail": p.detail or "auto"}
    return {"type": kind, "text": p.text or ""}


def content_part(kind: str, text: str) -> dict:
    """The `part` of content_part events: type `audio`/`text` in both dialects."""
    return (
        {"type": "audio", "transcript": text} if kind == "audio" else {"type": "text", "text": text}
    )


def item_added(ev: Stamp, dialect: Dialect, it: Item, previous_id: str | None) -> dict:
    return ev(dialect.item_added, previous_item_id=previous_id, item=item(it, dialect))


def item_done(ev: Stamp, dialect: Dialect, it: Item, previous_id: str | None) -> list[dict]:
    """GA's second confirmation of an item; beta has none."""
    if dialect.item_done is None:
        return []
    return [ev(dialect.item_done, previous_item_id=previous_id, item=item(it, dialect))]


def item_created(ev: Stamp, dialect: Dialect, it: Item, previous_id: str | None) -> list[dict]:
    """A complete item entering the conversation: GA added + done, beta created."""
    return [item_added(ev, dialect, it, previous_id), *item_done(ev, dialect, it, previous_id)]


# --- responses --------------------------------------------------------------------------------


def _ga_tail(p: ResponseParams) -> dict:
    return {
        "output_modalities": p.modalities,
        "max_output_tokens": p.max_tokens,
        "audio": {"output": {"format": p.format, "voice": p.voice}},
    }


def _beta_tail(p: ResponseParams) -> dict:
    return {
        "modalities": p.modalities,
        "voice": p.voice,
        "output_audio_format": p.format,
        "temperature": p.temperature,
        "max_output_tokens": p.max_tokens,
    }


_TAILS: dict[str, Callable[[ResponseParams], dict]] = {
    "ga": _ga_tail,
    "beta": _beta_tail,
    "xai": _ga_tail,  # xAI reports responses GA's way
}


def response(
    dialect: Dialect,
    *,
    response_id: str,
    status: str,
    params: ResponseParams,
    conversation_id: str | None,
    output: list[Item] = (),  # type: ignore[assignment]
    details: dict | None = None,
    usage: dict | None = None,
) -> dict:
    return {
        "object": "realtime.response",
        "id": response_id,
        "status": status,
        "status_details": details,
        "output": [item(i, dialect) for i in output],
        "conversation_id": conversation_id,
        "usage": usage,
        "metadata": params.metadata,
        **_TAILS[dialect.name](params),
    }


def ref(response_id: str, it: Item, output_index: int) -> dict:
    """The fields that locate an output item: response, item, output index."""
    return {"response_id": response_id, "item_id": it.id, "output_index": output_index}


def part_ref(response_id: str, it: Item, output_index: int) -> dict:
    return {**ref(response_id, it, output_index), "content_index": 0}
