"""Client events of the GA dialect, as the GA server accepts them (strict: no unknown keys).

Sources: the GA SDK models (openai 3.57.0 `types/realtime`), tightened where the service is
stricter than the SDK (reference §1.5, §2.1, §7.3, §9.2): a format object needs `type` and
`rate`, a function tool needs `name`, voices and transcription models are closed lists.
"""

from __future__ import annotations

from talkapp.simulator import errors
from talkapp.simulator.schema import (
    Arr,
    Bool,
    Checked,
    Either,
    Enum,
    Int,
    Map,
    Nullable,
    Num,
    Obj,
    Str,
    Tagged,
    event,
)
from talkapp.simulator.schema_common import (
    BASE64_AUDIO,
    CONVERSATION,
    FUNCTION_CHOICE,
    FUNCTION_TOOL,
    GA_VOICES,
    INCLUDE,
    INSTRUCTIONS,
    ITEM_COMMON,
    ITEM_ID,
    ITEM_ID_EVENT,
    MAX_TOKENS,
    METADATA,
    NOISE_TYPES,
    PROMPT,
    SEMANTIC_VAD,
    SERVER_VAD,
    SPEED,
    TRACING,
    TRUNCATE,
    TRUNCATION,
    message_content,
    modalities,
    with_reference,
)

TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
)

FORMAT = Tagged(
    "type",
    {
        "audio/pcm": Obj(required={"rate": Int(24000, 24000)}),
        "audio/pcmu": Obj(),
        "audio/pcma": Obj(),
    },
)
TURN_DETECTION = Nullable(
    Tagged(
        "type", {"server_vad": Obj(optional=SERVER_VAD), "semantic_vad": Obj(optional=SEMANTIC_VAD)}
    )
)
TRANSCRIPTION = Nullable(
    Obj(
        optional={
            # any model id (new transcribe models; on Azure, a deployment's name);
            # TRANSCRIPTION_MODELS are the ones OpenAI listed when this was written
            "model": Str(),
            "language": Nullable(Str()),
            "prompt": Nullable(Str()),
            "languages": Arr(Str()),
            "keywords": Arr(Str()),
            "delay": Enum(("minimal", "low", "medium", "high", "xhigh")),
        }
    )
)
NOISE_REDUCTION = Nullable(Obj(optional={"type": NOISE_TYPES, "strength": Num(0.0, 1.0)}))
VOICE = Either((Enum(GA_VOICES), Obj(required={"id": Str()})), "a string or an object")

AUDIO_INPUT = Obj(
    optional={
        "format": FORMAT,
        "noise_reduction": NOISE_REDUCTION,
        "transcription": TRANSCRIPTION,
        "turn_detection": TURN_DETECTION,
    }
)
AUDIO_OUTPUT = Obj(optional={"format": FORMAT, "voice": VOICE, "speed": SPEED})

CONNECTORS = tuple(
    f"connector_{name}"
    for name in [
        "dropbox",
        "gmail",
        "googlecalendar",
        "googledrive",
        "microsoftteams",
        "outlookcalendar",
        "outlookemail",
        "sharepoint",
    ]
)
FILTER = Obj(optional={"read_only": Bool(), "tool_names": Arr(Str())})


def _one_mcp_source(value: dict, path: str):
    """An MCP tool names where it lives: server_url, connector_id or tunnel_id."""
    if any(key in value for key in ("server_url", "connector_id", "tunnel_id")):
        return None
    return errors.missing(f"{path}.server_url")


MCP_TOOL = Checked(
    Obj(
        required={"server_label": Str()},
        optional={
            "allowed_callers": Arr(Enum(("direct", "programmatic"))),
            "allowed_tools": Either((Arr(Str()), FILTER), "an array or an object"),
            "authorization": Str(),
            "connector_id": Enum(CONNECTORS),
            "defer_loading": Bool(),
            "headers": Nullable(Map(Str())),
            "require_approval": Either(
                (Enum(("always", "never")), Obj(optional={"always": FILTER, "never": FILTER})),
                "a string or an object",
            ),
            "server_description": Str(),
            "server_url": Str(),
            "tunnel_id": Str(),
        },
    ),
    _one_mcp_source,
)
TOOLS = Arr(Tagged("type", {"function": FUNCTION_TOOL, "mcp": MCP_TOOL}, default="function"))
TOOL_CHOICE = Either(
    (
        Enum(("none", "auto", "required")),
        Tagged(
            "type",
            {
                "function": FUNCTION_CHOICE,
                "mcp": Obj(required={"server_label": Str()}, optional={"name": Nullable(Str())}),
            },
        ),
    ),
    "a string or an object",
)
OUTPUT_MODALITIES = modalities((("text",), ("audio",)), ordered=True)
REASONING = Obj(optional={"effort": Enum(("minimal", "low", "medium", "high", "xhigh"))})

REALTIME_SESSION = Obj(
    optional={
        "audio": Obj(optional={"input": AUDIO_INPUT, "output": AUDIO_OUTPUT}),
        "include": INCLUDE,
        "instructions": INSTRUCTIONS,
        "max_output_tokens": MAX_TOKENS,
        "model": Str(),
        "output_modalities": OUTPUT_MODALITIES,
        "parallel_tool_calls": Bool(),
        "prompt": PROMPT,
        "reasoning": REASONING,
        "tool_choice": TOOL_CHOICE,
        "tools": TOOLS,
        "tracing": TRACING,
        "truncation": TRUNCATION,
    }
)
TRANSCRIPTION_SESSION = Obj(
    optional={"audio": Obj(optional={"input": AUDIO_INPUT}), "include": INCLUDE}
)
SESSION = Tagged("type", {"realtime": REALTIME_SESSION, "transcription": TRANSCRIPTION_SESSION})

CONTENT_TEXT = Obj(required={"text": Str()})
CONTENT_AUDIO = Obj(optional={"audio": BASE64_AUDIO, "transcript": Nullable(Str())})
MESSAGE = Tagged(
    "role",
    {
        "system": message_content({"input_text": CONTENT_TEXT}),
        "user": message_content(
            {
                "input_text": CONTENT_TEXT,
                "input_audio": CONTENT_AUDIO,
                "input_image": Obj(
                    required={"image_url": Str()},
                    optional={"detail": Enum(("auto", "low", "high"))},
                ),
            }
        ),
        "assistant": message_content({"output_text": CONTENT_TEXT, "output_audio": CONTENT_AUDIO}),
    },
)
ITEM = Tagged(
    "type",
    {
        "message": MESSAGE,
        "function_call": Obj(
            required={"name": Str(), "arguments": Str()}, optional={"call_id": Str(), **ITEM_COMMON}
        ),
        "function_call_output": Obj(
            required={"call_id": Str(), "output": Str()}, optional=ITEM_COMMON
        ),
        "mcp_approval_response": Obj(
            required={"approval_request_id": Str(), "approve": Bool()},
            optional={"id": ITEM_ID, "reason": Nullable(Str())},
        ),
    },
)

RESPONSE = Obj(
    optional={
        "audio": Obj(optional={"output": Obj(optional={"format": FORMAT, "voice": VOICE})}),
        "conversation": CONVERSATION,
        "input": Arr(with_reference(ITEM)),
        "instructions": INSTRUCTIONS,
        "max_output_tokens": MAX_TOKENS,
        "metadata": METADATA,
        "output_modalities": OUTPUT_MODALITIES,
        "parallel_tool_calls": Bool(),
        "prompt": PROMPT,
        "reasoning": REASONING,
        "tool_choice": TOOL_CHOICE,
        "tools": TOOLS,
    }
)

# Order = the order of the service's own "Supported values are: …" list (reference §3.1).
EVENTS = {
    "session.update": event(required={"session": SESSION}),
    "session.close": event(),
    "input_audio_buffer.append": event(required={"audio": BASE64_AUDIO}),
    "session.input_audio_buffer.append": event(required={"audio": BASE64_AUDIO}),
    "input_audio_buffer.commit": event(),
    "input_audio_buffer.clear": event(),
    "conversation.item.create": event(
        required={"item": ITEM}, optional={"previous_item_id": Nullable(Str())}
    ),
    "conversation.item.truncate": event(required=TRUNCATE),
    "conversation.item.delete": event(required=ITEM_ID_EVENT),
    "conversation.item.retrieve": event(required=ITEM_ID_EVENT),
    "response.create": event(optional={"response": RESPONSE}),
    "response.cancel": event(optional={"response_id": Str()}),
}
