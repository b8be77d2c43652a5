"""What the engine tells its owner (the GUI, the terminal): frozen facts, safe to hand across
threads. Levels and counters are not events: the owner polls `Engine.levels()`/`statistics()`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from talkapp.protocol.events import Usage
from talkapp.session.transcript import ToolCard, Turn


class State(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    RECONNECTING = "reconnecting"
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    WAITING = "waiting"
    ASSISTANT_SPEAKING = "assistant_speaking"
    ERROR = "error"


AUDIO, CONNECTION = "audio", "connection"  # topics: which settings fix a problem
PLAYBACK = "playback"  # a topic TalkApp fixed itself (the speaker ran dry): nothing to pick
# the system gives TalkApp no sound from the microphone (refused it, or it is muted): fixed in
# the system's privacy or sound settings; an "info" notice on it says sound came back
MICROPHONE = "microphone"
# a topic for what belongs in the conversation's record (a lost connection, a setting the
# service did not take): the app writes it into the transcript, not a banner
IN_TRANSCRIPT = "transcript"


@dataclass(frozen=True)
class StateChanged:
    state: State
    detail: str = ""  # for ERROR: what happened and what to do
    topic: str = ""  # for ERROR: AUDIO or CONNECTION


@dataclass(frozen=True)
class Connected:
    label: str  # e.g. "gpt-realtime-2 · GA (auto)"
    session_id: str


@dataclass(frozen=True)
class TranscriptChanged:
    turn: Turn


@dataclass(frozen=True)
class Notice:
    level: str  # "info" | "warning" | "error"
    text: str
    topic: str = ""  # AUDIO, CONNECTION, PLAYBACK, MICROPHONE, IN_TRANSCRIPT or "" (a hint)


@dataclass(frozen=True)
class TurnMeasured:
    """One reply's timings in ms, from the end of the user's speech (commit or the service's
    speech_stopped): first audio received, first audio handed to the speaker, reply done."""

    response_id: str
    first_audio_received_ms: float | None
    first_audio_played_ms: float | None
    done_ms: float | None
    usage: Usage | None
    tool_step: bool = False  # the response called tools; the reply comes in the next one

    @property
    def silent_tool_step(self) -> bool:
        """Only tool calls, no audio: a step towards the reply, not a reply to count or time."""
        return (
            self.tool_step
            and self.first_audio_received_ms is None
            and self.first_audio_played_ms is None
        )


@dataclass(frozen=True)
class ToolCardChanged:
    """A tool call appeared or changed (arguments streamed, result, error, approval)."""

    card: ToolCard


@dataclass(frozen=True)
class ApprovalRequested:
    """An MCP tool call waits for the user: answer with `Engine.answer_approval`. The prompt
    closes when the card of `request_id` is settled (answered here, elsewhere, or expired)."""

    request_id: str
    server: str
    tool: str
    arguments: str


EngineEvent = (
    StateChanged
    | Connected
    | TranscriptChanged
    | Notice
    | TurnMeasured
    | ToolCardChanged
    | ApprovalRequested
)
