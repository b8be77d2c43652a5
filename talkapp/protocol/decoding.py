"""Small decoder functions shared by both dialects: one wire event (a dict) in, events out.

Each dialect maps its own wire type names onto these functions (see `beta.py`, `ga.py`).
A decoder raises `WireShapeError` when a field it needs is missing or has the wrong type;
`RealtimeConnection.receive` turns that into a `MalformedEvent`, never an exception.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from talkapp.protocol import events as ev
from talkapp.protocol.accepted import summarize

Wire = dict[str, Any]  # one event as JSON decoded it
Events = tuple[ev.ServerEvent, ...]
Decoder = Callable[[Wire], Events]


class WireShapeError(Exception):
    """The remote side sent a known event type with a missing or mistyped field."""


def _get(raw: Wire, key: str, kind: type | tuple[type, ...]) -> Any:
    value = raw.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise WireShapeError(f"field '{key}' should be {expected}, got {type(value).__name__}")
    return value


def _text(raw: Wire, key: str) -> str:
    text: str = _get(raw, key, str)
    return text


def _obj(raw: Wire, key: str) -> Wire:
    """A nested object that may be absent or of another type: empty then."""
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _opt_text(raw: Wire, key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _opt_int(raw: Wire, key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(raw: Wire | None, key: str) -> int:
    """A token count that may be absent (older servers) or null: both mean zero."""
    value = (raw or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _seconds(raw: Wire, key: str) -> float:
    value = raw.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def ignore(raw: Wire) -> Events:
    """A known event that carries nothing the app acts on (e.g. content_part.added)."""
    return ()


def session_started(raw: Wire) -> Events:
    session = _get(raw, "session", dict)
    expires = session.get("expires_at")
    # An id is what a session is known by, but nothing depends on it: a service that leaves
    # it out (or opens with a bare session object) still opens the session.
    session_id = _opt_text(session, "id") or ""
    return (ev.SessionStarted(session_id, _opt_text(session, "model") or "", expires),)


def session_configured(raw: Wire) -> Events:
    session = _get(raw, "session", dict)
    audio = _obj(session, "audio")
    output = _obj(audio, "output")
    voice = session.get("voice") or output.get("voice")
    voice = voice if isinstance(voice, str) else None
    return (ev.SessionConfigured(_opt_text(session, "id") or "", voice, summarize(session)),)


def speech_started(raw: Wire) -> Events:
    return (ev.SpeechStarted(_text(raw, "item_id"), _opt_int(raw, "audio_start_ms")),)


def speech_stopped(raw: Wire) -> Events:
    return (ev.SpeechStopped(_text(raw, "item_id"), _opt_int(raw, "audio_end_ms")),)


def input_committed(raw: Wire) -> Events:
    return (ev.InputCommitted(_text(raw, "item_id")),)


def input_cleared(raw: Wire) -> Events:
    return (ev.InputCleared(),)


_TEXT_PARTS = ("input_text", "text", "output_text")


def item_added(raw: Wire) -> Events:
    item = _get(raw, "item", dict)
    content = item.get("content") if isinstance(item.get("content"), list) else []
    texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") in _TEXT_PARTS]
    text = " ".join(t for t in texts if isinstance(t, str))
    added = ev.ItemAdded(_text(item, "id"), _text(item, "type"), _opt_text(item, "role"), text)
    return (added, *_tools_listed(item))


def item_done(raw: Wire) -> Events:
    """GA's second word on an item: only an MCP tool list carries news here (its tools)."""
    return _tools_listed(_get(raw, "item", dict))


def _tools_listed(item: Wire) -> Events:
    if item.get("type") != "mcp_list_tools" or not isinstance(item.get("tools"), list):
        return ()
    names = tuple(
        t["name"] for t in item["tools"] if isinstance(t, dict) and isinstance(t.get("name"), str)
    )
    return (
        ev.McpToolsListed(
            _text(item, "id"), _opt_text(item, "server_label") or "MCP server", names
        ),
    )


def mcp_listing(status: str) -> Decoder:
    """`mcp_list_tools.in_progress` / `.completed` / `.failed`: one decoder per status."""

    def decode(raw: Wire) -> Events:
        return (ev.McpListingProgressed(_text(raw, "item_id"), status),)  # type: ignore[arg-type]

    return decode


def user_transcript_delta(raw: Wire) -> Events:
    return (ev.TranscriptDelta("user", _text(raw, "item_id"), raw.get("delta") or ""),)


def _done(role: ev.Role, raw: Wire, key: str) -> Events:
    """A `done` without its text is completed from the deltas by the connection."""
    text = _opt_text(raw, key)
    item_id = _text(raw, "item_id")
    if text is None:
        return (ev.TranscriptDone(role, item_id, "", from_deltas=True),)
    return (ev.TranscriptDone(role, item_id, text),)


def user_transcript_done(raw: Wire) -> Events:
    return _done("user", raw, "transcript")


def transcription_failed(raw: Wire) -> Events:
    error = _obj(raw, "error")
    return (
        ev.TranscriptionFailed(_text(raw, "item_id"), _opt_text(error, "message") or "unknown"),
    )


def assistant_delta(raw: Wire) -> Events:
    """Transcript of spoken output, or the text itself in text-only mode: both are what was said."""
    return (ev.TranscriptDelta("assistant", _text(raw, "item_id"), _text(raw, "delta")),)


def assistant_transcript_done(raw: Wire) -> Events:
    return _done("assistant", raw, "transcript")


def assistant_text_done(raw: Wire) -> Events:
    return _done("assistant", raw, "text")


def audio_delta(raw: Wire) -> Events:
    try:
        pcm = base64.b64decode(_text(raw, "delta"), validate=True)
    except (binascii.Error, ValueError):
        raise WireShapeError("field 'delta' is not valid base64") from None
    return (ev.AudioDelta(_text(raw, "response_id"), _text(raw, "item_id"), pcm),)


def audio_done(raw: Wire) -> Events:
    return (ev.AudioDone(_text(raw, "response_id"), _text(raw, "item_id")),)


def tool_arguments_delta(raw: Wire) -> Events:
    return (ev.ToolCallArgumentsDelta(_text(raw, "call_id"), _text(raw, "delta")),)


def output_item_added(raw: Wire) -> Events:
    """A tool call begins (its card can show while the arguments stream)."""
    item, response_id = _get(raw, "item", dict), _text(raw, "response_id")
    match item.get("type"):
        case "function_call":
            return (
                ev.ToolCallStarted(
                    _text(item, "call_id"), _text(item, "name"), _text(item, "id"), response_id
                ),
            )
        case "mcp_call":
            return (
                ev.McpCallStarted(
                    _text(item, "id"), _text(item, "server_label"), _text(item, "name"), response_id
                ),
            )
    return ()


def output_item_done(raw: Wire) -> Events:
    """Announce a tool call exactly once: here, when its item is complete. A call cut short
    (`incomplete`: the response was cancelled mid-arguments) is not a call to run."""
    item, response_id = _get(raw, "item", dict), _text(raw, "response_id")
    match item.get("type"):
        case "function_call" if item.get("status") != "incomplete":
            return (
                ev.ToolCallRequested(
                    call_id=_text(item, "call_id"),
                    name=_text(item, "name"),
                    arguments=_text(item, "arguments"),
                    item_id=_text(item, "id"),
                    response_id=response_id,
                ),
            )
        case "mcp_call":
            return (
                ev.McpCallDone(
                    item_id=_text(item, "id"),
                    server_label=_text(item, "server_label"),
                    name=_text(item, "name"),
                    arguments=_opt_text(item, "arguments") or "",
                    output=_opt_text(item, "output"),
                    error=_mcp_error(item.get("error")),
                    response_id=response_id,
                ),
            )
        case "mcp_approval_request":
            return (
                ev.McpApprovalRequested(
                    request_id=_text(item, "id"),
                    server_label=_text(item, "server_label"),
                    name=_text(item, "name"),
                    arguments=_opt_text(item, "arguments") or "",
                    response_id=response_id,
                ),
            )
    return ()


def _mcp_error(error: object) -> str | None:
    """`protocol_error{code,message}`, `tool_execution_error{message}`,
    `http_error{code,message}`."""
    if error is None:
        return None
    if not isinstance(error, dict):
        return str(error)
    kind = (_opt_text(error, "type") or "error").replace("_", " ")
    code = error.get("code")
    message = _opt_text(error, "message") or "no message"
    return f"{kind}{f' {code}' if code is not None else ''}: {message}"


def mcp_arguments_delta(raw: Wire) -> Events:
    return (ev.McpCallArgumentsDelta(_text(raw, "item_id"), _text(raw, "delta")),)


def response_started(raw: Wire) -> Events:
    return (ev.ResponseStarted(_text(_get(raw, "response", dict), "id")),)


def response_done(raw: Wire) -> Events:
    response = _get(raw, "response", dict)
    details = _obj(response, "status_details")
    error = _obj(details, "error")
    usage = response.get("usage")
    return (
        ev.ResponseDone(
            response_id=_text(response, "id"),
            status=_text(response, "status"),
            reason=_opt_text(details, "reason"),
            usage=_usage(usage) if isinstance(usage, dict) else None,
            error_code=_opt_text(error, "code"),
            error_message=_opt_text(error, "message"),
        ),
    )


def _usage(usage: Wire) -> ev.Usage:
    given = usage.get("input_token_details")
    inputs = given if isinstance(given, dict) else {}
    cached = inputs.get("cached_tokens_details")
    cached = cached if isinstance(cached, dict) else {}
    outputs = usage.get("output_token_details")
    return ev.Usage(
        input_text=_count(inputs, "text_tokens"),
        input_audio=_count(inputs, "audio_tokens"),
        input_image=_count(inputs, "image_tokens"),
        input_cached=_count(inputs, "cached_tokens"),
        input_cached_text=_count(cached, "text_tokens"),
        input_cached_audio=_count(cached, "audio_tokens"),
        output_text=_count(outputs if isinstance(outputs, dict) else None, "text_tokens"),
        output_audio=_count(outputs if isinstance(outputs, dict) else None, "audio_tokens"),
    )


def item_truncated(raw: Wire) -> Events:
    return (ev.ItemTruncated(_text(raw, "item_id"), _get(raw, "audio_end_ms", int)),)


def rate_limits(raw: Wire) -> Events:
    limits = []
    for entry in _get(raw, "rate_limits", list):
        if isinstance(entry, dict):
            limits.append(
                ev.RateLimit(
                    name=_opt_text(entry, "name") or "",
                    limit=_count(entry, "limit"),
                    remaining=_count(entry, "remaining"),
                    reset_seconds=_seconds(entry, "reset_seconds"),
                )
            )
    return (ev.RateLimitsUpdated(tuple(limits)),)


def server_error(raw: Wire) -> Events:
    error = _get(raw, "error", dict)
    return (
        ev.ServerError(
            code=_opt_text(error, "code"),
            message=_opt_text(error, "message") or "(no message)",
            param=_opt_text(error, "param"),
            error_type=_opt_text(error, "type") or "invalid_request_error",
            client_event_id=_opt_text(error, "event_id"),
        ),
    )
