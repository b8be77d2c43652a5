"""Everything that differs between the beta, GA and xAI dialects, as table entries.

The engine and the shape builders never ask "which dialect?"; they look up a name, a path or
a flag here. A diff of `GA` against `BETA` below is the protocol change (reference §12); `XAI`
is GA's events with a flat session (§1.6). Whether `reasoning` is accepted depends on the
model, not the dialect: `dialect_for` hands GA sessions of other models a GA table without it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from talkapp.simulator import schema_beta, schema_ga, schema_xai, session_shapes
from talkapp.simulator.catalogue import takes_reasoning
from talkapp.simulator.reasoning import without_reasoning
from talkapp.simulator.schema import Node

Path = tuple[str, ...]
SessionBuilder = Callable[[str, str, int], dict]  # (session id, model, expires_at) → session object


@dataclass(frozen=True)
class Dialect:
    name: str  # "ga" | "beta" | "xai"
    label: str  # how the reply text names it
    events: Mapping[str, Node]  # client event schemas, in the service's "Supported values" order
    cap_minutes: int
    realtime_session: SessionBuilder
    transcription_session: SessionBuilder
    # server event names
    item_added: str
    item_done: str | None  # GA confirms every item twice (added, done); beta once (created)
    audio_delta: str
    audio_done: str
    transcript_delta: str
    transcript_done: str
    text_delta: str
    text_done: str
    transcription_session_event: str | None  # beta names transcription sessions apart
    # item shapes
    assistant_content: Mapping[str, str]  # "audio"/"text" → the item content type
    item_object: bool  # beta items say "object": "realtime.item"
    args_done_has_name: bool
    image_tokens: bool  # GA usage counts image tokens
    rate_limit_names: tuple[str, ...]
    # where settings live in a session object and in a response.create `response`
    session_paths: Mapping[str, Path]
    response_paths: Mapping[str, Path]
    # the connection's manners
    conversation_first: bool = False  # xAI opens with `conversation.created`, then the session
    ping_events: bool = False  # xAI sends `ping` events besides WebSocket pings
    # server event type -> fields this service leaves out of it (xAI as third parties model it)
    omits: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    @property
    def client_types(self) -> tuple[str, ...]:
        return tuple(self.events)


_COMMON_PATHS: dict[str, Path] = {
    "instructions": ("instructions",),
    "tools": ("tools",),
    "tool_choice": ("tool_choice",),
}

GA = Dialect(
    name="ga",
    label="GA",
    events=schema_ga.EVENTS,
    cap_minutes=60,
    realtime_session=session_shapes.ga_realtime,
    transcription_session=session_shapes.ga_transcription,
    item_added="conversation.item.added",
    item_done="conversation.item.done",
    audio_delta="response.output_audio.delta",
    audio_done="response.output_audio.done",
    transcript_delta="response.output_audio_transcript.delta",
    transcript_done="response.output_audio_transcript.done",
    text_delta="response.output_text.delta",
    text_done="response.output_text.done",
    transcription_session_event=None,
    assistant_content={"audio": "output_audio", "text": "output_text"},
    item_object=False,
    args_done_has_name=True,
    image_tokens=True,
    rate_limit_names=("tokens",),
    session_paths={
        **_COMMON_PATHS,
        "voice": ("audio", "output", "voice"),
        "speed": ("audio", "output", "speed"),
        "format": ("audio", "output", "format"),
        "modalities": ("output_modalities",),
        "max_tokens": ("max_output_tokens",),
        "turn_detection": ("audio", "input", "turn_detection"),
        "transcription": ("audio", "input", "transcription"),
        "input_format": ("audio", "input", "format"),
    },
    response_paths={
        **_COMMON_PATHS,
        "voice": ("audio", "output", "voice"),
        "format": ("audio", "output", "format"),
        "modalities": ("output_modalities",),
        "max_tokens": ("max_output_tokens",),
    },
)

BETA = Dialect(
    name="beta",
    label="beta",
    events=schema_beta.EVENTS,
    cap_minutes=30,
    realtime_session=session_shapes.beta_realtime,
    transcription_session=session_shapes.beta_transcription,
    item_added="conversation.item.created",
    item_done=None,
    audio_delta="response.audio.delta",
    audio_done="response.audio.done",
    transcript_delta="response.audio_transcript.delta",
    transcript_done="response.audio_transcript.done",
    text_delta="response.text.delta",
    text_done="response.text.done",
    transcription_session_event="transcription_session",
    assistant_content={"audio": "audio", "text": "text"},
    item_object=True,
    args_done_has_name=False,
    image_tokens=False,
    rate_limit_names=("requests", "tokens"),
    session_paths={
        **_COMMON_PATHS,
        "voice": ("voice",),
        "speed": ("speed",),
        "format": ("output_audio_format",),
        "modalities": ("modalities",),
        "max_tokens": ("max_response_output_tokens",),
        "turn_detection": ("turn_detection",),
        "transcription": ("input_audio_transcription",),
        "input_format": ("input_audio_format",),
        "temperature": ("temperature",),
    },
    response_paths={
        **_COMMON_PATHS,
        "voice": ("voice",),
        "format": ("output_audio_format",),
        "modalities": ("modalities",),
        "max_tokens": ("max_response_output_tokens",),
        "temperature": ("temperature",),
    },
)

# GA's events and item shapes with a flat session: only what differs from GA is written here.
XAI = dataclasses.replace(
    GA,
    name="xai",
    label="xAI",
    events=schema_xai.EVENTS,
    realtime_session=session_shapes.xai_realtime,
    transcription_session=session_shapes.xai_realtime,  # no transcription intent on xAI's door
    image_tokens=False,
    session_paths={
        **GA.session_paths,
        "voice": ("voice",),
        "modalities": ("modalities",),
        "turn_detection": ("turn_detection",),
    },
    response_paths={
        **_COMMON_PATHS,
        "voice": ("voice",),
        "format": ("audio", "output", "format"),
        "modalities": ("modalities",),
    },
    conversation_first=True,
    ping_events=True,
    # pipecat's `services/xai` and tau2-bench's xAI events: speech edges carry only `item_id`,
    # and the transcript's `done` no `transcript` (a client completes it from the deltas)
    omits={
        "input_audio_buffer.speech_started": ("audio_start_ms",),
        "input_audio_buffer.speech_stopped": ("audio_end_ms",),
        "response.output_audio_transcript.done": ("transcript",),
    },
)

DIALECTS = {"ga": GA, "beta": BETA, "xai": XAI}
GA_WITHOUT_REASONING = dataclasses.replace(GA, events=without_reasoning(GA.events))


def dialect_for(name: str, model: str | None) -> Dialect:
    """The table for a connection: its dialect, with `reasoning` only where the model takes it."""
    if name == "ga" and not takes_reasoning(model):
        return GA_WITHOUT_REASONING
    return DIALECTS[name]


def lookup(tree: Mapping, path: Path, default: object = None) -> object:
    """The value at `path` in nested dicts, or `default` when any step is missing."""
    node: object = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node
