"""What we ask of the service, normalized: imperative commands plus the session configuration.

A dialect module turns these into wire JSON; nothing here knows which dialect is speaking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TurnDetectionKind = Literal["server_vad", "semantic_vad"]
Eagerness = Literal["low", "medium", "high", "auto"]


@dataclass(frozen=True)
class TurnDetection:
    """Service-side turn detection. `None` in a SessionConfig means manual turns (we commit)."""

    kind: TurnDetectionKind = "server_vad"
    threshold: float = 0.5  # server_vad only
    prefix_padding_ms: int = 300  # server_vad only
    silence_duration_ms: int = 500  # server_vad only
    eagerness: Eagerness = "auto"  # semantic_vad only
    create_response: bool = True
    interrupt_response: bool = True


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


ApprovalPolicy = Literal["always", "never"]


@dataclass(frozen=True)
class McpServer:
    """A remote MCP server the service calls for us (GA only: the beta dialect has no MCP tools).

    `auth_value` comes from the OS keyring at connect time. It is kept out of `repr` and so out
    of logs and session recordings (which skip fields hidden from repr); only the wire sees it."""

    label: str
    url: str
    allowed_tools: tuple[str, ...] = ()  # empty: every tool the server offers
    require_approval: ApprovalPolicy = "always"
    auth_header: str = ""  # e.g. "Authorization"; sent only together with a value
    auth_value: str = field(default="", repr=False)


@dataclass(frozen=True)
class SessionConfig:
    """Everything a profile says about the conversation; `None` leaves the service default."""

    instructions: str | None = None
    voice: str | None = None
    output: Literal["audio", "text"] = "audio"
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)
    transcription_model: str | None = "gpt-4o-mini-transcribe"
    transcription_language: str | None = None
    noise_reduction: Literal["near_field", "far_field"] | None = None
    tools: tuple[FunctionTool, ...] = ()
    mcp_servers: tuple[McpServer, ...] = ()  # declared as `mcp` tools by the GA dialect only
    max_output_tokens: int | None = None
    speed: float | None = None
    reasoning_effort: str | None = (
        None  # GA reasoning models only; the beta dialect has no such field
    )
    speech_language: str | None = None  # Gemini: the language the model speaks (BCP-47)
    # Gemini: compress the context (a sliding window) once it passes this many tokens; None: off
    context_compression_tokens: int | None = None


@dataclass(frozen=True)
class ConfigureSession:
    config: SessionConfig
    # Gemini: resume the session this handle names (its conversation stays on the service)
    resume_handle: str | None = None


@dataclass(frozen=True)
class AppendAudio:
    pcm: bytes  # 24 kHz mono PCM16


@dataclass(frozen=True)
class CommitAudio:
    pass


@dataclass(frozen=True)
class ClearAudio:
    pass


@dataclass(frozen=True)
class CreateResponse:
    pass


@dataclass(frozen=True)
class CancelResponse:
    response_id: str | None = None


@dataclass(frozen=True)
class TruncateItem:
    """Tell the service how much of an assistant item the user really heard."""

    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class SendText:
    text: str


@dataclass(frozen=True)
class AddHistory:
    """Put an earlier turn back into a new session's conversation (after a reconnect)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class SendToolResult:
    call_id: str
    output: str


@dataclass(frozen=True)
class AnswerApproval:
    """The user's (or a remembered) decision on an MCP tool call the service asked about."""

    request_id: str
    approve: bool
    reason: str | None = None


Command = (
    ConfigureSession
    | AppendAudio
    | CommitAudio
    | ClearAudio
    | CreateResponse
    | CancelResponse
    | TruncateItem
    | SendText
    | AddHistory
    | SendToolResult
    | AnswerApproval
)
