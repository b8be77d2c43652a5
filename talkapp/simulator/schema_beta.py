"""Client events of the beta dialect (header `OpenAI-Beta: realtime=v1`), strict.

Sources: the beta SDK models (openai 3.57.0 `types/beta/realtime`), plus what the late beta
server echoed and therefore accepted back (`include`, `prompt`, `truncation`,
`turn_detection.idle_timeout_ms`; reference §9.2) and the beta `tool_choice` object.
Compare with `schema_ga.py`: flat session, string formats, `modalities`, `temperature`.
"""

from __future__ import annotations

from talkapp.simulator.schema import Arr, Either, Enum, Int, Nullable, Num, Obj, Str, Tagged, event
from talkapp.simulator.schema_common import (
    BASE64_AUDIO,
    BETA_VOICES,
    CONVERSATION,
    FUNCTION_CHOICE,
    FUNCTION_TOOL,
    INCLUDE,
    INSTRUCTIONS,
    ITEM_COMMON,
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

TRANSCRIPTION_MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")

FORMAT = Enum(("pcm16", "g711_ulaw", "g711_alaw"))
TURN_DETECTION = Nullable(
    Tagged(
        "type",
        {"server_vad": Obj(optional=SERVER_VAD), "semantic_vad": Obj(optional=SEMANTIC_VAD)},
        default="server_vad",
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
        }
    )
)
NOISE_REDUCTION = Nullable(Obj(optional={"type": NOISE_TYPES}))
MODALITIES = modalities((("text",), ("audio", "text")), ordered=False)
TEMPERATURE = Num(0.6, 1.2)
TOOLS = Arr(Tagged("type", {"function": FUNCTION_TOOL}, default="function"))
TOOL_CHOICE = Either(
    (Enum(("auto", "none", "required")), Tagged("type", {"function": FUNCTION_CHOICE})),
    "a string or an object",
)
CLIENT_SECRET = Nullable(
    Obj(
        optional={
            "expires_after": Nullable(
                Obj(required={"anchor": Enum(("created_at",))}, optional={"seconds": Int(10, 7200)})
            )
        }
    )
)

SESSION = Obj(
    optional={
        "client_secret": CLIENT_SECRET,
        "input_audio_format": FORMAT,
        "input_audio_noise_reduction": NOISE_REDUCTION,
        "input_audio_transcription": TRANSCRIPTION,
        "instructions": INSTRUCTIONS,
        "max_response_output_tokens": MAX_TOKENS,
        "modalities": MODALITIES,
        "model": Str(),
        "output_audio_format": FORMAT,
        "speed": SPEED,
        "temperature": TEMPERATURE,
        "tool_choice": TOOL_CHOICE,
        "tools": TOOLS,
        "tracing": TRACING,
        "turn_detection": TURN_DETECTION,
        "voice": Enum(BETA_VOICES),
        # echoed by the late beta server, so accepted back
        "include": INCLUDE,
        "prompt": PROMPT,
        "truncation": TRUNCATION,
    }
)
TRANSCRIPTION_SESSION = Obj(
    optional={
        "client_secret": CLIENT_SECRET,
        "include": INCLUDE,
        "input_audio_format": FORMAT,
        "input_audio_noise_reduction": NOISE_REDUCTION,
        "input_audio_transcription": TRANSCRIPTION,
        "modalities": MODALITIES,
        "turn_detection": TURN_DETECTION,
    }
)

CONTENT_TEXT = Obj(required={"text": Str()})
CONTENT_AUDIO = Obj(optional={"audio": BASE64_AUDIO, "transcript": Nullable(Str())})
MESSAGE = Tagged(
    "role",
    {
        "system": message_content({"input_text": CONTENT_TEXT}),
        "user": message_content({"input_text": CONTENT_TEXT, "input_audio": CONTENT_AUDIO}),
        "assistant": message_content({"text": CONTENT_TEXT, "audio": CONTENT_AUDIO}),
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
    },
)

RESPONSE = Obj(
    optional={
        "conversation": CONVERSATION,
        "input": Arr(with_reference(ITEM)),
        "instructions": INSTRUCTIONS,
        "max_response_output_tokens": MAX_TOKENS,
        "metadata": METADATA,
        "modalities": MODALITIES,
        "output_audio_format": FORMAT,
        "temperature": TEMPERATURE,
        "tool_choice": TOOL_CHOICE,
        "tools": TOOLS,
        "voice": Enum(BETA_VOICES),
    }
)

# Order = the beta-era "Supported values are: 'session.update', 'transcription_session.update', …".
EVENTS = {
    "session.update": event(required={"session": SESSION}),
    "transcription_session.update": event(required={"session": TRANSCRIPTION_SESSION}),
    "input_audio_buffer.append": event(required={"audio": BASE64_AUDIO}),
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
