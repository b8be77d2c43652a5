"""The beta dialect (`gpt-4o-realtime-preview*`, Azure preview deployments, compatible servers):
header `OpenAI-Beta: realtime=v1`, flat session fields, `modalities`, the original event names.

Read side by side with `ga.py`: the difference between the two files is the protocol change.
OpenAI itself refuses this dialect since 2026-05-12; other servers still speak it.
"""

from __future__ import annotations

from typing import Any

from talkapp.protocol import commands as cmd
from talkapp.protocol import decoding as d
from talkapp.protocol import encoding as enc
from talkapp.protocol.dialect import Dialect

PCM = "pcm16"


def session_shape(config: cmd.SessionConfig, model: str | None = None) -> dict[str, Any]:
    # There is no reasoning field in this dialect: `config.reasoning_effort` cannot be sent;
    # nor MCP tools: `config.mcp_servers` are left out (the settings say so).
    session: dict[str, Any] = {
        "modalities": ["audio", "text"] if config.output == "audio" else ["text"],
        "input_audio_format": PCM,
        "output_audio_format": PCM,
        "turn_detection": enc.turn_detection(config.turn_detection),
        "input_audio_transcription": enc.transcription(config),
        "tools": enc.tools(config),
        "tool_choice": "auto",
    }
    if config.noise_reduction:
        session["input_audio_noise_reduction"] = {"type": config.noise_reduction}
    if config.voice:
        session["voice"] = config.voice
    if config.speed is not None:
        session["speed"] = config.speed
    if config.instructions is not None:
        session["instructions"] = config.instructions
    if config.max_output_tokens is not None:
        session["max_response_output_tokens"] = config.max_output_tokens
    return session


DECODERS = {
    "error": d.server_error,
    "session.created": d.session_started,
    "session.updated": d.session_configured,
    "conversation.created": d.ignore,
    "conversation.item.created": d.item_added,
    "conversation.item.retrieved": d.ignore,
    "conversation.item.truncated": d.item_truncated,
    "conversation.item.deleted": d.ignore,
    "conversation.item.input_audio_transcription.delta": d.user_transcript_delta,
    "conversation.item.input_audio_transcription.completed": d.user_transcript_done,
    "conversation.item.input_audio_transcription.failed": d.transcription_failed,
    "input_audio_buffer.committed": d.input_committed,
    "input_audio_buffer.cleared": d.input_cleared,
    "input_audio_buffer.speech_started": d.speech_started,
    "input_audio_buffer.speech_stopped": d.speech_stopped,
    "rate_limits.updated": d.rate_limits,
    "response.created": d.response_started,
    "response.done": d.response_done,
    "response.output_item.added": d.output_item_added,
    "response.output_item.done": d.output_item_done,
    "response.content_part.added": d.ignore,
    "response.content_part.done": d.ignore,
    "response.text.delta": d.assistant_delta,
    "response.text.done": d.assistant_text_done,
    "response.audio.delta": d.audio_delta,
    "response.audio.done": d.audio_done,
    "response.audio_transcript.delta": d.assistant_delta,
    "response.audio_transcript.done": d.assistant_transcript_done,
    "response.function_call_arguments.delta": d.tool_arguments_delta,
    "response.function_call_arguments.done": d.ignore,  # the call is announced by output_item.done
    "output_audio_buffer.started": d.ignore,  # WebRTC only
    "output_audio_buffer.stopped": d.ignore,
    "output_audio_buffer.cleared": d.ignore,
    "transcription_session.created": d.ignore,
    "transcription_session.updated": d.ignore,
}

DIALECT = Dialect(
    name="beta",
    label="beta",
    extra_headers={"OpenAI-Beta": "realtime=v1"},
    session_shape=session_shape,
    decoders=DECODERS,
    assistant_text="text",
)
