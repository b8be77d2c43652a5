"""Session objects as the service reports them, and how `session.update` changes them (pure).

The effective session is kept in its dialect's own wire shape, so `session.created` and
`session.updated` are the stored object itself. Update semantics (reference §2.2): only fields
present change; the nested audio objects, turn detection, transcription and noise reduction are
merged field by field (a turn detection of another `type` starts from that type's defaults);
everything else is replaced; `null` switches a feature off.
"""

from __future__ import annotations

import copy

PCM = {"type": "audio/pcm", "rate": 24000}
SERVER_VAD = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}
TURN_DEFAULTS = {"server_vad": SERVER_VAD, "semantic_vad": SEMANTIC_VAD}
# xAI's server VAD: threshold 0.85 is the reference's (§1.6); padding 333 ms is pipecat's note of
# the server default; the silence is not recorded anywhere (ours).
XAI_SERVER_VAD = {
    "type": "server_vad",
    "threshold": 0.85,
    "prefix_padding_ms": 333,
    "silence_duration_ms": 500,
}
TRANSCRIPTION_DEFAULTS: dict[str, object] = {
    "model": "whisper-1",
    "language": None,
    "prompt": None,
}

_MERGED = {"audio", "input", "output", "noise_reduction", "input_audio_noise_reduction"}
_TURN = {"turn_detection"}
_TRANSCRIPTION = {"transcription", "input_audio_transcription"}
_FIXED = frozenset(
    {"type", "model", "client_secret"}
)  # kind and model are the connection's; secrets are REST-only


def ga_realtime(session_id: str, model: str, expires_at: int) -> dict:
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": dict(PCM),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(SERVER_VAD),
            },
            "output": {"format": dict(PCM), "voice": "alloy", "speed": 1.0},
        },
        "include": None,
    }


def ga_transcription(session_id: str, model: str, expires_at: int) -> dict:
    turn = {
        k: SERVER_VAD[k] for k in ("type", "threshold", "prefix_padding_ms", "silence_duration_ms")
    }
    return {
        "type": "transcription",
        "object": "realtime.transcription_session",
        "id": session_id,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": dict(PCM),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": turn,
            }
        },
        "include": None,
    }


def beta_realtime(session_id: str, model: str, expires_at: int) -> dict:
    return {
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "expires_at": expires_at,
        "modalities": ["audio", "text"],
        "instructions": "",
        "voice": "alloy",
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_transcription": None,
        "input_audio_noise_reduction": None,
        "turn_detection": dict(SERVER_VAD),
        "tools": [],
        "tool_choice": "auto",
        "temperature": 0.8,
        "max_response_output_tokens": "inf",
        "speed": 1.0,
        "tracing": None,
        "client_secret": None,
    }


def beta_transcription(session_id: str, model: str, expires_at: int) -> dict:
    return {
        "object": "realtime.transcription_session",
        "id": session_id,
        "expires_at": expires_at,
        "modalities": ["text"],
        "input_audio_format": "pcm16",
        "input_audio_transcription": None,
        "input_audio_noise_reduction": None,
        "turn_detection": {k: v for k, v in SERVER_VAD.items() if k != "idle_timeout_ms"},
        "include": None,
        "client_secret": None,
    }


def xai_realtime(session_id: str, model: str, expires_at: int) -> dict:
    """xAI's hybrid session: flat voice, instructions and turn detection; GA's audio format
    objects; no `type`. `modalities` is reported read-only (xAI's `response.create` takes it)."""
    return {
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "expires_at": expires_at,
        "modalities": ["text", "audio"],
        "instructions": "",
        "voice": "Ara",
        "turn_detection": dict(XAI_SERVER_VAD),
        "audio": {
            "input": {"format": dict(PCM), "transcription": None},
            "output": {"format": dict(PCM)},
        },
        "tools": [],
    }


def merged(current: dict, update: dict, fixed: frozenset[str] = _FIXED) -> dict:
    """A new session: `current` with `update` applied (neither argument is modified)."""
    result = copy.deepcopy(current)
    for key, new in update.items():
        if key in fixed:
            continue
        result[key] = _merge_field(key, result.get(key), copy.deepcopy(new))
    return result


def _merge_field(key: str, cur: object, new: object) -> object:
    if key in _TURN:
        return _turn_detection(cur, new)
    if key in _TRANSCRIPTION:
        if new is None:
            return None
        # the schema lets only an object or null through; the stored value is one or the other
        assert isinstance(new, dict) and (cur is None or isinstance(cur, dict))
        return {**TRANSCRIPTION_DEFAULTS, **(cur or {}), **new}
    if key in _MERGED and isinstance(cur, dict) and isinstance(new, dict):
        return merged(cur, new, frozenset())
    return new


def _turn_detection(cur: object, new: object) -> object:
    if not isinstance(new, dict):
        return None  # null: manual turns
    current = cur if isinstance(cur, dict) else {}
    kind = new.get("type", current.get("type", "server_vad"))
    assert isinstance(kind, str)  # the schema's tag (a stored turn detection always has one)
    if current.get("type") == kind:
        return {**current, **new}
    return {**TURN_DEFAULTS[kind], **new}
