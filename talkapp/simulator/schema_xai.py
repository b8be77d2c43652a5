"""Client events of xAI's dialect (Grok Voice Agent), as strict as the GA schemas.

The session is the hybrid of reference §1.6: flat `voice`, `instructions` and `turn_detection`
(server VAD only) plus GA-style `audio.{input,output}.format` objects (`audio/pcm` at
8000–48000 Hz, `audio/pcmu`, `audio/pcma`), and no `session.type`, so a GA session
("Unknown parameter: 'session.type'.") and a beta one ('session.input_audio_format') are both
refused. Tools add xAI's own `web_search`, `x_search` and `file_search` (§1.6; their fields
follow pipecat's xAI events module, reported). The other client events are GA's, which xAI
answers with GA's event names; `response.create` takes a beta-style `modalities` (pipecat).

The simulator's audio path runs at 24 kHz: other PCM rates pass validation, as xAI's would,
but the simulator hears them as 24 kHz.
"""

from __future__ import annotations

from talkapp.simulator import schema_ga
from talkapp.simulator.schema import Arr, Enum, Int, Nullable, Num, Obj, Str, Tagged, event
from talkapp.simulator.schema_common import FUNCTION_TOOL, INSTRUCTIONS, SPEED, modalities

FORMAT = Tagged(
    "type",
    {
        "audio/pcm": Obj(optional={"rate": Int(8000, 48000)}),
        "audio/pcmu": Obj(),
        "audio/pcma": Obj(),
    },
)
TURN_DETECTION = Nullable(
    Tagged(
        "type",
        {
            "server_vad": Obj(
                optional={
                    "threshold": Num(0.0, 1.0),
                    "prefix_padding_ms": Int(min=0),
                    "silence_duration_ms": Int(min=0),
                    "idle_timeout_ms": Nullable(Int(min=0)),
                }
            )
        },
    )
)
TOOLS = Arr(
    Tagged(
        "type",
        {
            "function": FUNCTION_TOOL,
            "web_search": Obj(),
            "x_search": Obj(optional={"allowed_x_handles": Arr(Str())}),
            "file_search": Obj(
                required={"vector_store_ids": Arr(Str())},
                optional={"max_num_results": Int(min=1)},
            ),
        },
        default="function",
    )
)
SESSION = Obj(
    optional={
        "instructions": INSTRUCTIONS,
        "voice": Str(),  # built-in voices (Ara, Rex, Sal, Eve, Leo; any case) or a custom voice id
        "turn_detection": TURN_DETECTION,
        "audio": Obj(
            optional={
                "input": Obj(optional={"format": FORMAT}),
                "output": Obj(optional={"format": FORMAT, "speed": SPEED}),
            }
        ),
        "tools": TOOLS,
        # docs.x.ai: "high" | "none" (default high), grok-voice-latest and grok-voice-think-fast-1.0
        "reasoning": Obj(optional={"effort": Enum(("high", "none"))}),
    }
)
RESPONSE = Obj(
    optional={
        "modalities": modalities((("text",), ("audio", "text")), ordered=False),
        "instructions": INSTRUCTIONS,
    }
)

_GA = schema_ga.EVENTS
EVENTS = {
    "session.update": event(required={"session": SESSION}),
    "input_audio_buffer.append": _GA["input_audio_buffer.append"],
    "input_audio_buffer.commit": _GA["input_audio_buffer.commit"],
    "input_audio_buffer.clear": _GA["input_audio_buffer.clear"],
    "conversation.item.create": _GA["conversation.item.create"],
    "conversation.item.truncate": _GA["conversation.item.truncate"],
    "conversation.item.delete": _GA["conversation.item.delete"],
    "conversation.item.retrieve": _GA["conversation.item.retrieve"],
    "response.create": event(optional={"response": RESPONSE}),
    "response.cancel": _GA["response.cancel"],
}
