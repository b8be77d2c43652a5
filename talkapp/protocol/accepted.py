"""What the service accepted of our session configuration, compared with what we asked for.

A service may keep its own voice, drop a tool or change a setting without an error; the
`session.updated` it answers with is the truth. Both our `session.update` and its reply are
summarized the same way (any dialect: flat beta fields, GA's `audio` objects, xAI's mix), and
every difference becomes one plain sentence. Only what both sides state is compared: a reply
that leaves a field out says nothing about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SessionSummary:
    """The settings a person would notice; `stated` names those the session object carried."""

    voice: str | None = None
    turn_detection: str | None = None  # "server_vad", "semantic_vad", or None (manual turns)
    transcription: str | None = None  # the model (or Azure deployment); None: off
    output_format: str | None = None  # "audio/pcm 24000 Hz", "pcm16", …
    tools: tuple[str, ...] = ()
    stated: tuple[str, ...] = ()  # a tuple, not a set: summaries are written to recordings as JSON


def summarize(session: dict[str, Any]) -> SessionSummary:
    audio = _obj(session.get("audio"))
    audio_in, audio_out = _obj(audio.get("input")), _obj(audio.get("output"))
    found: dict[str, object] = {}
    voice = _first(("voice", session), ("voice", audio_out))
    if voice is not _ABSENT:
        found["voice"] = _voice_name(voice)
    turn = _first(("turn_detection", session), ("turn_detection", audio_in))
    if turn is not _ABSENT:
        found["turn_detection"] = _obj(turn).get("type") if turn is not None else None
    transcription = _first(("input_audio_transcription", session), ("transcription", audio_in))
    if transcription is not _ABSENT:
        found["transcription"] = (
            _obj(transcription).get("model") if transcription is not None else None
        )
    output_format = _first(("output_audio_format", session), ("format", audio_out))
    if output_format is not _ABSENT:
        found["output_format"] = _format(output_format)
    if isinstance(session.get("tools"), list):
        found["tools"] = tuple(_tool_name(t) for t in session["tools"] if isinstance(t, dict))
    clean = {
        k: (v if isinstance(v, (str, tuple)) or v is None else str(v)) for k, v in found.items()
    }
    return SessionSummary(**clean, stated=tuple(found))  # type: ignore[arg-type]


def differences(asked: SessionSummary, got: SessionSummary) -> tuple[str, ...]:
    """One sentence per setting the service dropped or changed."""
    both = set(asked.stated) & set(got.stated)
    said: list[str] = []
    if "voice" in both and asked.voice and (got.voice or "").lower() != asked.voice.lower():
        said.append(
            f"The service kept voice {got.voice or 'its default'}; {asked.voice} is not available "
            "for this model."
        )
    if "turn_detection" in both and asked.turn_detection != got.turn_detection:
        said.append(
            f"The service uses {_turns(got.turn_detection)} "
            f"instead of {_turns(asked.turn_detection)}."
        )
    if "transcription" in both and asked.transcription != got.transcription:
        said.append(
            f"The service transcribes your speech with {got.transcription} instead of "
            f"{asked.transcription}."
            if got.transcription and asked.transcription
            else f"The service turned input transcription off "
            f"({asked.transcription} was not taken)."
            if asked.transcription
            else f"The service transcribes your speech with {got.transcription}."
        )
    if "output_format" in both and asked.output_format != got.output_format:
        said.append(
            f"The service sends audio as {got.output_format} instead of {asked.output_format}."
        )
    if "tools" in both:
        dropped = [name for name in asked.tools if name not in got.tools]
        if dropped:
            said.append(
                f"The service did not take {'these tools' if len(dropped) > 1 else 'the tool'}: "
                f"{', '.join(dropped)}."
            )
    return tuple(said)


_ABSENT = object()


def _first(*places: tuple[str, dict[str, Any]]) -> object:
    for key, where in places:
        if key in where:
            return where[key]
    return _ABSENT


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _voice_name(voice: object) -> str | None:
    if isinstance(voice, dict):  # a custom voice: {"id": …}
        return str(voice.get("id")) if voice.get("id") is not None else None
    return voice if isinstance(voice, str) else None


def _format(value: object) -> str | None:
    if isinstance(value, dict):
        rate = value.get("rate")
        return f"{value.get('type')}{f' {rate} Hz' if rate else ''}"
    return value if isinstance(value, str) else None


def _tool_name(tool: dict[str, Any]) -> str:
    name = tool.get("name") or tool.get("server_label") or tool.get("type")
    return str(name)


def _turns(kind: str | None) -> str:
    return {"server_vad": "server VAD", "semantic_vad": "semantic VAD"}.get(
        kind or "", kind or "manual turns"
    )
