"""The default conversation: ordered items, kept dialect-neutral (rendering is `shapes.py`'s job).

Parts use neutral kinds: `input_text`, `input_audio`, `input_image` for what users and systems
say, `text` and `audio` for what the assistant says (GA calls those `output_text` /
`output_audio` on the wire; beta `text` / `audio`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from talkapp.audio.pcm import duration_ms

ROOT = "root"
KEEP_AUDIO_ITEMS = 16  # older items keep their length but not their samples (memory stays flat)


@dataclass
class Part:
    kind: str
    text: str | None = None  # text of text parts, transcript of audio parts
    audio: bytes = b""  # PCM16 24 kHz of audio parts
    image_url: str | None = None
    detail: str | None = None
    released_ms: float = 0.0  # audio whose samples were let go (see Conversation.insert)

    @property
    def audio_ms(self) -> float:
        return duration_ms(self.audio) + self.released_ms

    def release_audio(self) -> None:
        self.released_ms, self.audio = self.audio_ms, b""


@dataclass
class Item:
    id: str
    # message | function_call | function_call_output | mcp_list_tools | mcp_call | mcp_approval_*
    type: str
    status: str = "completed"
    role: str | None = None
    parts: list[Part] = field(default_factory=list)
    fields: dict = field(
        default_factory=dict
    )  # name / call_id / arguments / output / approve / tools …

    def audio_part(self) -> Part | None:
        return next((p for p in self.parts if p.kind in ("audio", "input_audio")), None)

    def text(self) -> str:
        """What the item says, as the simulated model reads it."""
        return " ".join(p.text for p in self.parts if p.text)


class Conversation:
    def __init__(self, conversation_id: str) -> None:
        self.id = conversation_id
        self.items: list[Item] = []

    def find(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def exists(self, item_id: str | None) -> bool:
        return item_id in (None, ROOT) or self.find(item_id) is not None

    def insert(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Insert after `previous_item_id` (None: at the end; 'root': at the start).

        Returns the id of the item now before it (None at the start), as events report it.
        """
        if previous_item_id is None:
            index = len(self.items)
        elif previous_item_id == ROOT:
            index = 0
        else:
            previous = self.find(previous_item_id)
            if previous is None:  # callers check `exists` first
                raise ValueError(f"no item {previous_item_id!r} in the conversation")
            index = self.items.index(previous) + 1
        self.items.insert(index, item)
        self._release_old_audio()
        return self.items[index - 1].id if index > 0 else None

    def _release_old_audio(self) -> None:
        """A long session must not hold every sample ever said. Old items keep their audio's
        length (usage counts it) but not its samples; only recent ones can be truncated or
        retrieved with audio, which is all a client ever does."""
        for item in self.items[:-KEEP_AUDIO_ITEMS]:
            for part in item.parts:
                if part.audio:
                    part.release_audio()

    def delete(self, item_id: str) -> None:
        self.items = [i for i in self.items if i.id != item_id]

    def call(self, call_id: str) -> Item | None:
        """The function_call item with this call_id."""
        return next(
            (
                i
                for i in self.items
                if i.type == "function_call" and i.fields.get("call_id") == call_id
            ),
            None,
        )
