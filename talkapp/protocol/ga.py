"""The GA dialect (`gpt-realtime`, `gpt-realtime-2`, …): no beta header, `session.type` required,
nested `audio.input` / `audio.output`, `output_modalities`, renamed output events.

Read side by side with `beta.py`: the difference between the two files is the protocol change.
"""

from __future__ import annotations

from typing import Any

from talkapp.protocol import commands as cmd
from talkapp.protocol import decoding as d
from talkapp.protocol import encoding as enc
from talkapp.protocol.dialect import Dialect
from talkapp.protocol.models import takes_reasoning

PCM = {"type": "audio/pcm", "rate": 24000}


def session_shape(config: cmd.SessionConfig, model: str | None = None) -> dict[str, Any]:
    """`model` None: not known here (a bare dialect); `choose_dialect` binds it."""
    audio_in: dict[str, Any] = {
        "format": PCM,
        "turn_detection": enc.turn_detection(config.turn_detection),
        "transcription": enc.transcription(config),
    }
    if config.noise_reduction:
        audio_in["noise_reduction"] = {"type": config.noise_reduction}
    audio_out: dict[str, Any] = {"format": PCM}
    if config.voice:
        audio_out["voice"] = config.voice
    if config.speed is not None:
        audio_out["speed"] = config.speed
    session: dict[str, Any] = {
        "type": "realtime",
        "output_modalities": [config.output],
        "audio": {"input": audio_in, "output": audio_out},
        "tools": enc.tools(config) + enc.mcp_tools(config),
        "tool_choice": "auto",
    }
    if config.instructions is not None:
        session["instructions"] = config.instructions
    if config.max_output_tokens is not None:
        session["max_output_tokens"] = config.max_output_tokens
    if config.reasoning_effort and (
        model is None or takes_reasoning(model)
    ):  # others reject it (§2.1)
        session["reasoning"] = {"effort": config.reasoning_effort}
    return session


DECODERS = {
    "error": d.server_error,
    "session.created": d.session_started,
    "session.updated": d.session_configured,
    "conversation.created": d.ignore,
    "conversation.item.added": d.item_added,
    "conversation.item.done": d.item_done,
    # still in the GA SDK union, never seen from the GA server
    "conversation.item.created": d.item_added,
    "conversation.item.retrieved": d.ignore,
    "conversation.item.truncated": d.item_truncated,
    "conversation.item.deleted": d.ignore,
    "conversation.item.input_audio_transcription.delta": d.user_transcript_delta,
    "conversation.item.input_audio_transcription.completed": d.user_transcript_done,
    "conversation.item.input_audio_transcription.failed": d.transcription_failed,
    "conversation.item.input_audio_transcription.segment": d.ignore,
    "input_audio_buffer.committed": d.input_committed,
    "input_audio_buffer.cleared": d.input_cleared,
    "input_audio_buffer.speech_started": d.speech_started,
    "input_audio_buffer.speech_stopped": d.speech_stopped,
    "input_audio_buffer.timeout_triggered": d.ignore,
    "rate_limits.updated": d.rate_limits,
    "response.created": d.response_started,
    "response.done": d.response_done,
    "response.output_item.added": d.output_item_added,
    "response.output_item.done": d.output_item_done,
    "response.content_part.added": d.ignore,
    "response.content_part.done": d.ignore,
    "response.output_text.delta": d.assistant_delta,
    "response.output_text.done": d.assistant_text_done,
    "response.output_audio.delta": d.audio_delta,
    "response.output_audio.done": d.audio_done,
    "response.output_audio_transcript.delta": d.assistant_delta,
    "response.output_audio_transcript.done": d.assistant_transcript_done,
    "response.function_call_arguments.delta": d.tool_arguments_delta,
    "response.function_call_arguments.done": d.ignore,  # the call is announced by output_item.done
    "output_audio_buffer.started": d.ignore,  # WebRTC/SIP only
    "output_audio_buffer.stopped": d.ignore,
    "output_audio_buffer.cleared": d.ignore,
    "mcp_list_tools.in_progress": d.mcp_listing("in_progress"),  # MCP: GA only
    "mcp_list_tools.completed": d.mcp_listing("completed"),
    "mcp_list_tools.failed": d.mcp_listing("failed"),
    "response.mcp_call_arguments.delta": d.mcp_arguments_delta,
    "response.mcp_call_arguments.done": d.ignore,  # the call is announced by output_item.done
    "response.mcp_call.in_progress": d.ignore,
    "response.mcp_call.completed": d.ignore,  # the mcp_call item (output_item.done) has the output
    "response.mcp_call.failed": d.ignore,  # ... or the error
}

DIALECT = Dialect(
    name="ga",
    label="GA",
    extra_headers={},
    session_shape=session_shape,
    decoders=DECODERS,
    assistant_text="output_text",
)
