"""Stored conversations for people (Markdown, a list) and programs (JSON). Pure, but for
`remove_files`, which deletes a deleted conversation's audio files."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from talkapp.history.spend import usd
from talkapp.history.store import Conversation, ConversationSummary, StoredTurn


def iso(at: float | None) -> str | None:
    """ISO 8601 in the local time zone, to the second."""
    return (
        None
        if at is None
        else dt.datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")
    )


def summary_as_dict(s: ConversationSummary) -> dict:
    return {
        "id": s.id,
        "title": s.title,
        "started_at": iso(s.started_at),
        "ended_at": iso(s.ended_at),
        "profile": s.profile,
        "provider": s.provider,
        "model": s.model,
        "dialect": s.dialect,
        "turns": s.turns,
        "tokens_in": s.tokens_in,
        "tokens_out": s.tokens_out,
        "cost_usd": s.cost_usd,
    }


def turn_as_dict(t: StoredTurn) -> dict:
    return {
        "role": t.role,
        "text": t.text,
        "started_at": iso(t.started_at),
        "first_audio_ms": t.first_audio_ms,
        "interrupted": t.interrupted,
        "heard_ms": t.heard_ms,
        "provider": t.provider,
        "model": t.model,
        "tokens_in": t.tokens_in,
        "tokens_out": t.tokens_out,
        "usage": t.usage,
        "cost_usd": t.cost_usd,
    }


def as_dict(c: Conversation) -> dict:
    calls = [dataclasses.asdict(call) | {"at": iso(call.at)} for call in c.tool_calls]
    return summary_as_dict(c.summary) | {
        "turns": [turn_as_dict(t) for t in c.turns],
        "tool_calls": calls,
    }


def summary_lines(rows: list[ConversationSummary]) -> list[str]:
    lines = []
    for s in rows:
        when = dt.datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"{s.id:>5}  {when}  {s.model or '?':<22} {usd(s.cost_usd):>9}  {s.turns:>3} turns  "
            f"{s.title or '(untitled)'}"
        )
    return lines


def as_markdown(c: Conversation) -> str:
    s = c.summary
    when = dt.datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M")
    lines = [
        f"# {s.title or 'Conversation'} ({s.id})",
        "",
        f"{when} · {s.provider}/{s.model} · {s.dialect} · {s.turns} turns · cost {usd(s.cost_usd)}",
        "",
    ]
    for turn in c.turns:
        who = "**You**" if turn.role == "user" else "**Assistant**"
        mark = (
            f" _(interrupted after {turn.heard_ms / 1000:.1f} s)_"
            if turn.interrupted and turn.heard_ms
            else ""
        )
        mark = mark or (" _(interrupted)_" if turn.interrupted else "")
        lines += [f"{who}: {turn.text or '…'}{mark}", ""]
    for call in c.tool_calls:
        took = f", {call.duration_ms:.0f} ms" if call.duration_ms is not None else ""
        outcome = call.error or call.result
        result = f": {outcome}" if outcome else ""
        lines += [f"> 🔧 `{call.name}({call.arguments})` — {call.status}{took}{result}", ""]
    return "\n".join(lines).rstrip() + "\n"


RECORDING_FILES = ("input.wav", "reply.wav", "events.jsonl", "session.json")  # session/recording.py


def remove_files(paths: list[str]) -> int:
    """Delete the audio of deleted conversations: a recording folder's own files (and the folder
    once empty; anything else a person put there stays) or a single file. Returns how many
    recordings went."""
    removed = 0
    for path in dict.fromkeys(paths):  # many turns share one session's recording
        target = Path(path)
        try:
            if target.is_dir():
                for name in RECORDING_FILES:
                    (target / name).unlink(missing_ok=True)
                if not any(target.iterdir()):
                    target.rmdir()
            else:
                target.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError:
            pass  # what cannot be removed is left; the rows are gone either way
    return removed
