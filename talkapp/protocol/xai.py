"""The xAI dialect (Grok Voice Agent, `wss://api.x.ai/v1/realtime?model=grok-voice-latest`):
a hybrid of the two OpenAI dialects (reference §1.6).

Read side by side with `ga.py` and `beta.py`:
- the session is flat like beta's (`voice`, `instructions`, `turn_detection`) but its audio
  formats are GA's objects under `audio.input` / `audio.output`; there is no `session.type`;
- server events carry GA's names, plus `conversation.created` (the first event) and a `ping`
  keep-alive event;
- no `OpenAI-Beta` header; the key travels as `Authorization: Bearer` (the provider's choice).

Only the fields xAI documents are sent (docs.x.ai "Voice Agent API"). Turn detection is
`server_vad` or off; with the profile's VAD numbers left at their defaults only the type is sent,
so xAI's own defaults apply (a semantic VAD setting becomes plain server VAD). `audio.output.speed`
carries the speed; `reasoning.effort` ("high" | "none") goes to the models that take it. Input
transcription, noise reduction, output limits and text-only output have no field we could
confirm and are left out rather than guessed.
"""

from __future__ import annotations

from typing import Any

from talkapp.protocol import commands as cmd
from talkapp.protocol import decoding as d
from talkapp.protocol import encoding as enc
from talkapp.protocol import events as ev
from talkapp.protocol import ga
from talkapp.protocol.dialect import Dialect
from talkapp.protocol.models import xai_effort, xai_takes_reasoning

PCM = {"type": "audio/pcm", "rate": 24000}  # xAI takes 8–48 kHz; TalkApp's wire rate is 24 kHz


def session_shape(config: cmd.SessionConfig, model: str | None = None) -> dict[str, Any]:
    session: dict[str, Any] = {
        "turn_detection": _turn_detection(config.turn_detection),
        "audio": {"input": {"format": PCM}, "output": {"format": PCM}},
        "tools": enc.tools(config),
    }
    if config.voice:
        session["voice"] = config.voice
    if config.instructions is not None:
        session["instructions"] = config.instructions
    if config.speed is not None:
        session["audio"]["output"]["speed"] = config.speed
    effort = xai_effort(config.reasoning_effort)
    if effort is not None and (model is None or xai_takes_reasoning(model)):
        session["reasoning"] = {"effort": effort}
    return session


_SERVER_VAD_DEFAULTS = cmd.TurnDetection()


def _turn_detection(td: cmd.TurnDetection | None) -> dict[str, Any] | None:
    if td is None:
        return None  # manual turns: we commit
    numbers = {
        "threshold": td.threshold,
        "prefix_padding_ms": td.prefix_padding_ms,
        "silence_duration_ms": td.silence_duration_ms,
    }
    defaults = {name: getattr(_SERVER_VAD_DEFAULTS, name) for name in numbers}
    if td.kind != "server_vad" or numbers == defaults:
        return {"type": "server_vad"}  # xAI's own VAD defaults, tuned for its models
    return {"type": "server_vad", **numbers}


def conversation_started(raw: dict[str, Any]) -> d.Events:
    """`conversation.created` may open an xAI session (clients configure on it, as they would on
    `session.created`); the conversation id stands for the session id. Third-party models of
    xAI disagree on which of the two comes first, so whichever does opens the session (the
    connection drops the second) and neither needs more than its type."""
    conversation = raw.get("conversation")
    conversation_id = conversation.get("id") if isinstance(conversation, dict) else None
    return (ev.SessionStarted(conversation_id if isinstance(conversation_id, str) else "", ""),)


def session_started(raw: dict[str, Any]) -> d.Events:
    session = raw.get("session")
    return d.session_started(raw) if isinstance(session, dict) else (ev.SessionStarted("", ""),)


DECODERS = {
    **ga.DECODERS,  # GA's event names …
    "conversation.created": conversation_started,  # … whichever of these two comes first …
    "session.created": session_started,  # … opens the session (RealtimeConnection drops the other)
    "ping": d.ignore,  # a keep-alive event (besides WebSocket pings)
}

DIALECT = Dialect(
    name="xai",
    label="xAI",
    extra_headers={},
    session_shape=session_shape,
    decoders=DECODERS,
    assistant_text="output_text",
)
