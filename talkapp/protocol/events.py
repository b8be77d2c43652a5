"""What the service tells us, normalized: one vocabulary for both dialects.

Names are past-tense facts. Nothing above `talkapp.protocol` ever sees a wire event name or
base64; a dialect module turns wire JSON into these frozen dataclasses, once, at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from talkapp.protocol.accepted import SessionSummary

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class SessionStarted:
    session_id: str
    model: str
    expires_at: int | None = None


@dataclass(frozen=True)
class SessionConfigured:
    """The service accepted our session configuration (`session.updated`). `differences`: what
    it kept otherwise than we asked, one plain sentence each (see `protocol/accepted.py`)."""

    session_id: str
    voice: str | None = None
    accepted: SessionSummary | None = None
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpeechStarted:
    item_id: str
    audio_start_ms: int | None = None  # xAI (as others model it) leaves it out


@dataclass(frozen=True)
class SpeechStopped:
    item_id: str
    audio_end_ms: int | None = None


@dataclass(frozen=True)
class InputCommitted:
    item_id: str


@dataclass(frozen=True)
class InputCleared:
    pass


@dataclass(frozen=True)
class ItemAdded:
    """A conversation item exists (user or assistant message, tool call or output)."""

    item_id: str
    kind: str  # "message", "function_call", "function_call_output", ...
    role: str | None = None
    text: str = ""  # the text parts of a message item (a typed message, history); "" for audio


@dataclass(frozen=True)
class TranscriptDelta:
    role: Role
    item_id: str
    text: str


@dataclass(frozen=True)
class TranscriptDone:
    """The final text of one side's turn. `from_deltas`: the service's `done` carried no text
    (xAI, as others model it); the connection completed it from the deltas it had seen."""

    role: Role
    item_id: str
    text: str
    from_deltas: bool = False


@dataclass(frozen=True)
class TranscriptionFailed:
    item_id: str
    message: str


@dataclass(frozen=True)
class ResponseStarted:
    response_id: str


@dataclass(frozen=True)
class AudioDelta:
    response_id: str
    item_id: str
    pcm: bytes  # 24 kHz mono PCM16


@dataclass(frozen=True)
class AudioDone:
    response_id: str
    item_id: str


@dataclass(frozen=True)
class ToolCallStarted:
    """The model began a function call (its arguments stream next, then `ToolCallRequested`)."""

    call_id: str
    name: str
    item_id: str
    response_id: str


@dataclass(frozen=True)
class ToolCallArgumentsDelta:
    call_id: str
    delta: str


@dataclass(frozen=True)
class ToolCallRequested:
    """A complete function call. Announced once per call (from `response.output_item.done`),
    although the wire also reports it through `function_call_arguments.done`."""

    call_id: str
    name: str
    arguments: str
    item_id: str
    response_id: str


# ---- MCP (GA only): the service calls the remote server itself; we show what happens ----


@dataclass(frozen=True)
class McpToolsListed:
    """The tools an MCP server offers (from its `mcp_list_tools` item; may come twice)."""

    item_id: str
    server_label: str
    tools: tuple[str, ...]


@dataclass(frozen=True)
class McpListingProgressed:
    """The service is fetching, has fetched, or failed to fetch an MCP server's tool list."""

    item_id: str
    status: Literal["in_progress", "completed", "failed"]


@dataclass(frozen=True)
class McpCallStarted:
    item_id: str
    server_label: str
    name: str
    response_id: str


@dataclass(frozen=True)
class McpCallArgumentsDelta:
    item_id: str
    delta: str


@dataclass(frozen=True)
class McpCallDone:
    """An MCP call the service made, complete: its output, or what went wrong. Announced once
    (from `response.output_item.done`), although `response.mcp_call.completed/failed` precede it."""

    item_id: str
    server_label: str
    name: str
    arguments: str
    output: str | None
    error: str | None
    response_id: str


@dataclass(frozen=True)
class McpApprovalRequested:
    """The model wants to call an MCP tool that needs the user's approval first."""

    request_id: str
    server_label: str
    name: str
    arguments: str
    response_id: str


@dataclass(frozen=True)
class Usage:
    input_text: int = 0
    input_audio: int = 0
    input_image: int = 0
    input_cached: int = 0
    input_cached_text: int = 0
    input_cached_audio: int = 0
    output_text: int = 0
    output_audio: int = 0

    @property
    def input_total(self) -> int:
        return self.input_text + self.input_audio + self.input_image

    @property
    def output_total(self) -> int:
        return self.output_text + self.output_audio

    @property
    def total(self) -> int:
        return self.input_total + self.output_total


@dataclass(frozen=True)
class ResponseDone:
    response_id: str
    status: str  # completed, cancelled, failed, incomplete
    reason: str | None = None  # turn_detected, client_cancelled, max_output_tokens, ...
    usage: Usage | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class ItemTruncated:
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    remaining: int
    reset_seconds: float


@dataclass(frozen=True)
class RateLimitsUpdated:
    limits: tuple[RateLimit, ...]


@dataclass(frozen=True)
class ToolCallCancelled:
    """The service withdrew function calls it asked for (Gemini: the user interrupted the turn
    that made them); a call still running is to be cancelled and its result not sent."""

    call_ids: tuple[str, ...]


@dataclass(frozen=True)
class GoingAway:
    """The service will close this connection soon (Gemini's `goAway`): reconnect before then,
    resuming the session with the last handle."""

    seconds_left: float | None


@dataclass(frozen=True)
class ResumptionHandle:
    """A handle that resumes this session on a new connection (Gemini's
    `sessionResumptionUpdate`); `resumable` False: the session cannot be resumed right now.
    The handle opens the conversation to whoever holds it (with the key): kept out of `repr`,
    and so out of logs and recordings."""

    handle: str | None = field(repr=False)
    resumable: bool = True


@dataclass(frozen=True)
class ServerError:
    """An `error` event. `client_event_id` names our event that caused it, when known."""

    code: str | None
    message: str
    param: str | None = None
    error_type: str = "invalid_request_error"
    client_event_id: str | None = None
    caused_by: str | None = None  # our command's name, e.g. "ConfigureSession"


@dataclass(frozen=True)
class Unrecognized:
    """A well-formed event this dialect does not know (new server features); never fatal."""

    wire_type: str


@dataclass(frozen=True)
class MalformedEvent:
    """A frame that is not a valid event: bad JSON, or a known type missing a field.
    `problem` names what is wrong without repeating the payload."""

    wire_type: str | None
    problem: str


ServerEvent = (
    SessionStarted
    | SessionConfigured
    | SpeechStarted
    | SpeechStopped
    | InputCommitted
    | InputCleared
    | ItemAdded
    | TranscriptDelta
    | TranscriptDone
    | TranscriptionFailed
    | ResponseStarted
    | AudioDelta
    | AudioDone
    | ToolCallStarted
    | ToolCallArgumentsDelta
    | ToolCallRequested
    | McpToolsListed
    | McpListingProgressed
    | McpCallStarted
    | McpCallArgumentsDelta
    | McpCallDone
    | McpApprovalRequested
    | ResponseDone
    | ItemTruncated
    | RateLimitsUpdated
    | ToolCallCancelled
    | GoingAway
    | ResumptionHandle
    | ServerError
    | Unrecognized
    | MalformedEvent
)
