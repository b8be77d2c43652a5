"""The service's error vocabulary: exact codes and messages, and the `error` event around them.

Every fault the simulator reports is the client's (`invalid_request_error`): a bad frame, an
event the schema rejects, or a state rule broken. Wording follows the protocol reference
(§1.4, §4.3, §5.2, §7.3); where the reference records no text, the message below is ours and
the report says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

INVALID_REQUEST = "invalid_request_error"


@dataclass(frozen=True)
class Fault:
    """An error as the service reports it. Nearly always the client's (`invalid_request_error`);
    `server_error` is reserved for the simulator's own bugs."""

    code: str | None
    message: str
    param: str | None = None
    type: str = INVALID_REQUEST

    def close_reason(self) -> str:
        """The close-frame reason the service uses for fatal errors: `<type>.<code>`."""
        return f"{self.type}.{self.code}" if self.code else self.type


class ClientEventRejected(Exception):
    """Raised by a state rule deep in the engine; the event is dropped and the fault reported."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.fault = fault


def reject(fault: Fault) -> NoReturn:
    raise ClientEventRejected(fault)


def error_event(event_id: str, fault: Fault, client_event_id: object = None) -> dict:
    """The `error` server event; the client's `event_id` is echoed only when it is a string."""
    echoed = client_event_id if isinstance(client_event_id, str) else None
    body = {"type": fault.type, "code": fault.code, "message": fault.message, "param": fault.param}
    return {"type": "error", "event_id": event_id, "error": {**body, "event_id": echoed}}


# --- wording helpers -------------------------------------------------------------------------


def quoted_list(values: Sequence[object]) -> str:
    """'a', 'b', and 'c' — the service's enumeration style."""
    parts = [render(v) for v in values]
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


def render(value: object) -> str:
    """A value as the service prints it inside messages: strings quoted, the rest as JSON."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value)


def mask_key(key: str) -> str:
    """sk-…XXXX: never echo a whole key, and nothing of a short one."""
    if len(key) < 12:
        return "…"
    return f"{key[:3]}…{key[-4:]}"


# --- schema faults ----------------------------------------------------------------------------


def missing(param: str) -> Fault:
    return Fault("missing_required_parameter", f"Missing required parameter: '{param}'.", param)


def unknown(param: str) -> Fault:
    return Fault("unknown_parameter", f"Unknown parameter: '{param}'.", param)


def invalid_value(value: object, supported: Sequence[object], param: str) -> Fault:
    message = f"Invalid value: {render(value)}. Supported values are: {quoted_list(supported)}."
    return Fault("invalid_value", message, param)


def invalid_type(param: str, expected: str, got: str) -> Fault:
    message = f"Invalid type for '{param}': expected {expected}, but got {got} instead."
    return Fault("invalid_type", message, param)


def out_of_range(param: str, kind: str, value: float, bound: float, *, below: bool) -> Fault:
    """kind is 'integer' or 'decimal'; codes like `decimal_below_min_value`."""
    side, word, op = ("below", "minimum", ">=") if below else ("above", "maximum", "<=")
    code = f"{kind}_{side}_{'min' if below else 'max'}_value"
    message = (
        f"Invalid '{param}': {kind} {side} {word} value. "
        f"Expected a value {op} {_number(bound)}, but got {_number(value)} instead."
    )
    return Fault(code, message, param)


def too_long(param: str, limit: int, length: int) -> Fault:
    message = (
        f"Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {length} instead."
    )
    return Fault("string_above_max_length", message, param)


def too_many(param: str, limit: int, length: int) -> Fault:
    message = (
        f"Invalid '{param}': too many entries. Expected at most {limit}, but got {length} instead."
    )
    return Fault("object_above_max_properties", message, param)


def invalid_modalities(given: list, supported: Sequence[list], param: str) -> Fault:
    shown = " and ".join(repr(c) for c in supported)
    message = f"Invalid modalities: {given!r}. Supported combinations are: {shown}."
    return Fault("invalid_value", message, param)


def _number(x: float) -> str:
    return repr(x) if isinstance(x, float) else str(x)


# --- frame faults (§3.1) ----------------------------------------------------------------------

BINARY_FRAME = Fault(
    "invalid_event", "Expected a text WebSocket message; binary frames are not supported."
)
BAD_JSON = Fault(
    "invalid_json",
    "Invalid event: failed to parse JSON value. The event must be a JSON object.",
)


def unknown_event_type(value: object, supported: Sequence[str]) -> Fault:
    return invalid_value(value, supported, "type")


# --- state faults (§4, §5, §7.3) --------------------------------------------------------------


def commit_empty(buffered_ms: float) -> Fault:
    message = (
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of "
        f"audio, but buffer only has {buffered_ms:.2f}ms of audio."
    )
    return Fault("input_audio_buffer_commit_empty", message)


def active_response(response_id: str) -> Fault:
    message = (
        f"Conversation already has an active response in progress: {response_id}. "
        "Wait until the response is finished before creating a new one."
    )
    return Fault("conversation_already_has_active_response", message)


CANCEL_NOT_ACTIVE = Fault(
    "response_cancel_not_active", "Cancellation failed: no active response found"
)


def voice_locked(param: str) -> Fault:
    message = "Cannot update a conversation's voice if assistant audio is present."
    return Fault("cannot_update_voice", message, param)


def item_not_found(code: str, item_id: str, param: str = "item_id") -> Fault:
    return Fault(code, f"Item with item_id not found: {item_id}", param)


def session_expired(minutes: int) -> Fault:
    return Fault("session_expired", f"Your session hit the maximum duration of {minutes} minutes.")


# --- state faults the reference records no wording for (ours; see the simulator report) ------


def session_kind_mismatch(given: str, actual: str, param: str) -> Fault:
    message = f"Passing a {given} session update event to a {actual} session is not allowed."
    return Fault("invalid_parameter", message, param)


def model_locked(model: object) -> Fault:
    message = f"Invalid value: {render(model)}. The model of a session cannot be changed."
    return Fault("invalid_value", message, "session.model")


def previous_item_missing(item_id: str) -> Fault:
    message = f"Previous item with item_id not found: {item_id}"
    return Fault("invalid_value", message, "previous_item_id")


def duplicate_item(item_id: str) -> Fault:
    return Fault("invalid_value", f"Item with id '{item_id}' already exists.", "item.id")


def unknown_call(call_id: str) -> Fault:
    message = f"No function call with call_id '{call_id}' found in the conversation."
    return Fault("invalid_value", message, "item.call_id")


NOT_TRUNCATABLE = Fault(
    "invalid_value", "Only assistant messages with audio can be truncated.", "item_id"
)


def audio_shorter(audio_ms: float, end_ms: int) -> Fault:
    message = f"Audio content of {audio_ms:.0f}ms is already shorter than {end_ms}ms"
    return Fault("invalid_value", message, "audio_end_ms")


NO_RESPONSES = Fault(
    "invalid_value", "Responses are not available in a transcription session.", "type"
)
