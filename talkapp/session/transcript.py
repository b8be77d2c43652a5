"""The conversation as a person reads it: turns in order, partial text replaced by final text,
interrupted replies marked, and tool calls as compact cards between them. Pure; updated on the
loop, copied to the UI as frozen snapshots.

Cards are not turns: `turns()` holds only what the user and the assistant said (what a new
session gets again as context); `cards()` holds the tool calls, which the `ToolRunner` writes.

Storage is bounded: a long session keeps its last `max_turns` entries (older ones have been
shown and exported already; the service forgets them too as its context fills).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from talkapp.protocol import events as ev

MAX_TURNS = 2000
MAX_TURN_CHARS = 20_000  # of one turn's text: a service streaming without end is cut off here
# Speech rate of the realtime voices, to place the cut when the reply's audio length is unknown.
CHARS_PER_SECOND = 15.0


@dataclass(frozen=True)
class Turn:
    item_id: str
    role: str  # "user" | "assistant"
    text: str = ""
    final: bool = False
    interrupted: bool = False
    heard_ms: int | None = None  # for an interrupted reply: how much the user heard
    spoken_ms: int | None = None  # for an interrupted reply: its audio received by then
    untranscribed: bool = False  # the service could not transcribe it: `text` says so, not them
    at: float = 0.0  # perf_counter seconds when the turn appeared
    cut: bool = False  # its text passed MAX_TURN_CHARS; the rest was dropped


@dataclass(frozen=True)
class ToolCard:
    """One tool call as the transcript shows it: a function TalkApp ran ("function"), a call the
    service made to an MCP server ("mcp"), an MCP server's tool list ("mcp_list"), or an MCP
    call waiting for the user's approval ("mcp_approval")."""

    id: str  # the call id (function) or the item id (MCP)
    kind: str
    name: str  # the tool; for "mcp_list", the server's label
    server: str = ""  # the MCP server's label
    arguments: str = ""
    status: str = (
        "streaming"  # streaming, running, done, failed; awaiting, approved, denied, expired
    )
    result: str = ""
    error: str = ""
    duration_ms: float | None = None
    note: str = ""  # e.g. "remembered", "timed out after 8 s"
    at: float = 0.0  # perf_counter seconds when the card appeared

    @property
    def settled(self) -> bool:
        return self.status not in ("streaming", "running", "awaiting")

    def as_markdown(self) -> str:
        where = f"{self.server} · " if self.server and self.kind != "mcp_list" else ""
        call = (
            f"{where}{self.name}({self.arguments})"
            if self.kind != "mcp_list"
            else f"{self.name}: tools"
        )
        outcome = self.error or self.result
        took = f", {self.duration_ms:.0f} ms" if self.duration_ms is not None else ""
        note = f", {self.note}" if self.note else ""
        return f"> 🔧 `{call}` — {self.status}{took}{note}{': ' + outcome if outcome else ''}"


Entry = Turn | ToolCard


class Transcript:
    def __init__(self, max_turns: int = MAX_TURNS) -> None:
        self._turns: OrderedDict[str, Entry] = (
            OrderedDict()
        )  # turns by item id, cards by "tool:<id>"
        self._max_turns = max_turns

    def apply(self, event: ev.ServerEvent, now: float) -> Turn | None:
        """Fold one event in; returns the turn it changed, if any."""
        match event:
            case ev.ItemAdded(item_id=item_id, kind="message", role=role, text=text) if role in (
                "user",
                "assistant",
            ):
                turn = self._ensure(item_id, role, now)
                return self._put(_with_text(turn, text, final=True)) if text else turn
            case ev.TranscriptDelta(role=role, item_id=item_id, text=text):
                turn = self._ensure(item_id, role, now)
                if turn.final or turn.cut:
                    return turn
                return self._put(_with_text(turn, turn.text + text))
            case ev.TranscriptDone(role=role, item_id=item_id, text=text):
                return self._put(_with_text(self._ensure(item_id, role, now), text, final=True))
            case ev.TranscriptionFailed(item_id=item_id, message=message):
                # the turn was heard and answered; only its text is missing: say so, not nothing
                turn = self._ensure(item_id, "user", now)
                text = turn.text or f"(not transcribed: {message})"
                return self._put(replace(turn, text=text, final=True, untranscribed=not turn.text))
        return None

    def mark_interrupted(
        self, item_id: str, heard_ms: int, spoken_ms: int | None = None
    ) -> Turn | None:
        turn = self._turns.get(item_id)
        return (
            self._put(replace(turn, interrupted=True, heard_ms=heard_ms, spoken_ms=spoken_ms))
            if isinstance(turn, Turn)
            else None
        )

    def put_card(self, card: ToolCard) -> ToolCard:
        """A new or changed tool card (its place stays where it first appeared)."""
        key = f"tool:{card.id}"
        self._turns[key] = card
        while len(self._turns) > self._max_turns:
            self._turns.popitem(last=False)
        return card

    def turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self._turns.values() if isinstance(t, Turn))

    def cards(self) -> tuple[ToolCard, ...]:
        return tuple(c for c in self._turns.values() if isinstance(c, ToolCard))

    def as_markdown(self) -> str:
        lines = []
        for turn in self._turns.values():
            if isinstance(turn, ToolCard):
                lines.append(turn.as_markdown())
                continue
            who = "**You**" if turn.role == "user" else "**Assistant**"
            lines.append(f"{who}: {heard_markdown(turn)}")
        return "\n\n".join(lines) + ("\n" if lines else "")

    def _ensure(self, item_id: str, role: str, now: float) -> Turn:
        turn = self._turns.get(item_id)
        return turn if isinstance(turn, Turn) else self._put(Turn(item_id, role, at=now))

    def _put(self, turn: Turn) -> Turn:
        self._turns[turn.item_id] = turn
        while len(self._turns) > self._max_turns:
            self._turns.popitem(last=False)
        return turn


def heard_split(turn: Turn) -> tuple[str, str]:
    """An interrupted reply's text as (what the user heard, the rest they did not hear).

    The transcript arrives ahead of the audio, so the cut is placed by time: the share of the
    reply's audio that was played, applied to its text (the audio received by the interrupt,
    or an estimate from the text's length when that is unknown), moved to the nearest word
    boundary. Anything else is all heard."""
    text = turn.text
    if not turn.interrupted or turn.heard_ms is None or not text:
        return text, ""
    estimated = 1000 * len(text) / CHARS_PER_SECOND
    spoken = turn.spoken_ms if turn.spoken_ms and turn.spoken_ms >= turn.heard_ms else estimated
    share = min(1.0, turn.heard_ms / spoken) if spoken > 0 else 0.0
    cut = round(len(text) * share)
    if 0 < cut < len(text) and not text[cut - 1].isspace() and not text[cut].isspace():
        before, after = text.rfind(" ", 0, cut), text.find(" ", cut)
        after = len(text) if after < 0 else after
        cut = before + 1 if before >= 0 and cut - before <= after - cut else after
    return text[:cut].rstrip(), text[cut:].lstrip()


def heard_markdown(turn: Turn) -> str:
    """A turn's text in Markdown: an interrupted reply's unheard rest struck out."""
    if not turn.interrupted:
        return turn.text or "…"
    heard, rest = heard_split(turn)
    after = f" after {turn.heard_ms / 1000:.1f} s" if turn.heard_ms is not None else ""
    if not rest:
        return f"{heard or '…'} _(interrupted{after})_"
    return f"{heard or '…'} ~~{rest}~~ _(interrupted{after}; struck out: not heard)_"


def _with_text(turn: Turn, text: str, final: bool | None = None) -> Turn:
    final = turn.final if final is None else final
    if len(text) <= MAX_TURN_CHARS:
        return replace(turn, text=text, final=final)
    return replace(turn, text=text[:MAX_TURN_CHARS] + "…", final=final, cut=True)
