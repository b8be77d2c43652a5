"""A turn's result for people (an aligned table) and for programs (one JSON object)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from talkapp.protocol.events import Usage
from talkapp.redaction import redact
from talkapp.session.one_turn import TurnResult

_TIMING_LABELS = (
    ("first_input_transcript", "first input transcript"),
    ("first_transcript", "first reply transcript"),
    ("first_audio", "first audio"),
    ("done", "done"),
)


def turn_as_dict(result: TurnResult, out_path: str | None = None) -> dict:
    endpoint = result.endpoint
    return {
        "model": endpoint.model,
        "dialect": endpoint.choice.dialect.name,
        "dialect_setting": endpoint.choice.setting,
        "url": endpoint.url,
        "status": result.status,
        "user_transcript": result.user_transcript,
        "assistant_transcript": result.assistant_transcript,
        "timings_ms": dataclasses.asdict(result.timings),
        "usage": usage_as_dict(result.usage),
        "reply_audio_ms": round(result.reply_ms, 1),
        "out": out_path,
        "notices": list(result.notices),
    }


def usage_as_dict(usage: Usage | None) -> dict | None:
    if usage is None:
        return None
    return dataclasses.asdict(usage) | {
        "input_total": usage.input_total,
        "output_total": usage.output_total,
        "total": usage.total,
    }


def turn_as_json(
    result: TurnResult, out_path: str | None = None, extra: dict[str, Any] | None = None
) -> str:
    """The turn as one JSON line (`extra`: more fields, e.g. where the history kept it)."""
    return redact(json.dumps(turn_as_dict(result, out_path) | (extra or {}), ensure_ascii=False))


def turn_as_table(result: TurnResult, out_path: str | None = None) -> str:
    t = result.timings
    after_commit = " · ".join(f"{label} {_ms(getattr(t, name))}" for name, label in _TIMING_LABELS)
    rows = [
        ("Model", result.endpoint.describe()),
        ("Endpoint", result.endpoint.url),
        ("You", result.user_transcript or "(no transcript)"),
        ("Assistant", result.assistant_transcript or "(no transcript)"),
        ("Reply audio", f"{result.reply_ms / 1000:.2f} s" + (f" → {out_path}" if out_path else "")),
        ("Connect", _ms(t.connect)),
        ("After commit", after_commit),
        ("Tokens", _tokens(result.usage)),
        *(("Note", notice) for notice in result.notices),
    ]
    width = max(len(label) for label, _ in rows)
    return redact("\n".join(f"{label:<{width}}  {value}" for label, value in rows))


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def _tokens(usage: Usage | None) -> str:
    if usage is None:
        return "(not reported)"
    return (
        f"in {usage.input_total} (text {usage.input_text}, audio {usage.input_audio}, cached "
        f"{usage.input_cached}) · "
        f"out {usage.output_total} (text {usage.output_text}, audio {usage.output_audio})"
    )
