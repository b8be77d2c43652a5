"""The conversation as a person reads it: turns in order, partial text replaced by final text,
interrupted replies marked. Pure; updated on the loop, copied to the UI as frozen snapshots.

Storage is bounded: a long session keeps its last `max_turns` turns (older ones have been
shown and exported already; the service forgets them too as its context fills).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from talkapp.protocol import events as ev

MAX_TURNS = 2000


@dataclass(frozen=True)
class Turn:
    item_id: str
    role: str  # "user" | "assistant"
    text: str = ""
    final: bool = False
    interrupted: bool = False
    heard_ms: int | None = None  # for an interrupted reply: how much the user heard
    at: float = 0.0  # monotonic seconds when the turn appeared


class Transcript:
    def __init__(self, max_turns: int = MAX_TURNS) -> None:
        self._turns: OrderedDict[str, Turn] = OrderedDict()
        self._max_turns = max_turns

    def apply(self, event: ev.ServerEvent, now: float) -> Turn | None:
        """Fold one event in; returns the turn it changed, if any."""
        match event:
            case ev.ItemAdded(item_id=item_id, kind="message", role=role, text=text) if role in ("user", "assistant"):
                turn = self._ensure(item_id, role, now)
                return self._put(replace(turn, text=text, final=True)) if text else turn
            case ev.TranscriptDelta(role=role, item_id=item_id, text=text):
                turn = self._ensure(item_id, role, now)
                return self._put(replace(turn, text=turn.text + text) if not turn.final else turn)
            case ev.TranscriptDone(role=role, item_id=item_id, text=text):
                return self._put(replace(self._ensure(item_id, role, now), text=text, final=True))
        return None

    def mark_interrupted(self, item_id: str, heard_ms: int) -> Turn | None:
        turn = self._turns.get(item_id)
        return self._put(replace(turn, interrupted=True, heard_ms=heard_ms)) if turn else None

    def turns(self) -> tuple[Turn, ...]:
        return tuple(self._turns.values())

    def as_markdown(self) -> str:
        lines = []
        for turn in self._turns.values():
            who = "**You**" if turn.role == "user" else "**Assistant**"
            mark = f" _(interrupted after {turn.heard_ms / 1000:.1f} s)_" if turn.interrupted else ""
            lines.append(f"{who}: {turn.text or '…'}{mark}")
        return "\n\n".join(lines) + ("\n" if lines else "")

    def _ensure(self, item_id: str, role: str, now: float) -> Turn:
        turn = self._turns.get(item_id)
        return turn if turn is not None else self._put(Turn(item_id, role, at=now))

    def _put(self, turn: Turn) -> Turn:
        self._turns[turn.item_id] = turn
        while len(self._turns) > self._max_turns:
            self._turns.popitem(last=False)
        return turn
