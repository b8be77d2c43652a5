"""Commands to wire dicts: the parts both dialects share.

Only `session.update` differs between the dialects; each dialect module builds its own session
shape from the pieces here (turn detection, tools and transcription have one shape in both).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Protocol

from talkapp.protocol import commands as cmd


class SessionShape(Protocol):
    """A dialect's `session` object for a configuration; `model` (when bound) drops what that
    model does not take."""

    def __call__(self, config: cmd.SessionConfig, model: str | None = None) -> dict[str, Any]: ...


def turn_detection(td: cmd.TurnDetection | None) -> dict[str, Any] | None:
    if td is None:
        return None  # null turns the service's VAD off: we commit turns ourselves
    shape: dict[str, Any] = {"type": td.kind}
    if td.kind == "server_vad":
        shape |= {
            "threshold": td.threshold,
            "prefix_padding_ms": td.prefix_padding_ms,
            "silence_duration_ms": td.silence_duration_ms,
        }
    else:
        shape["eagerness"] = td.eagerness
    return shape | {
        "create_response": td.create_response,
        "interrupt_response": td.interrupt_response,
    }


def transcription(config: cmd.SessionConfig) -> dict[str, Any] | None:
    if config.transcription_model is None:
        return None
    shape = {"model": config.transcription_model}
    if config.transcription_language:
        shape["language"] = config.transcription_language
    return shape


def tools(config: cmd.SessionConfig) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": t.name,
            "description": t.description,
            "parameters": t.parameters,
        }
        for t in config.tools
    ]


def mcp_tools(config: cmd.SessionConfig) -> list[dict[str, Any]]:
    """`mcp` tools (GA only). The auth header goes in `headers`, the field meant for any header."""
    shapes = []
    for server in config.mcp_servers:
        tool: dict[str, Any] = {
            "type": "mcp",
            "server_label": server.label,
            "server_url": server.url,
            "require_approval": server.require_approval,
        }
        if server.allowed_tools:
            tool["allowed_tools"] = list(server.allowed_tools)
        if server.auth_header and server.auth_value:
            tool["headers"] = {server.auth_header: server.auth_value}
        shapes.append(tool)
    return shapes


def approval_item_id(request_id: str) -> str:
    """The id of our answer to an approval request. The SDK's type requires one; deriving it
    from the request makes a second answer to the same request a duplicate the service refuses
    (item ids are at most 32 characters)."""
    return "mcpa_" + hashlib.sha256(request_id.encode()).hexdigest()[:24]


def encode(
    command: cmd.Command, session_shape: SessionShape, assistant_text: str
) -> dict[str, Any]:
    """One command as a wire event (without `event_id`, which the connection assigns).
    `assistant_text` is the dialect's content type for assistant text (`text` / `output_text`)."""
    match command:
        case cmd.ConfigureSession(config=config):
            return {"type": "session.update", "session": session_shape(config)}
        case cmd.AppendAudio(pcm=pcm):
            return {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(pcm).decode("ascii"),
            }
        case cmd.CommitAudio():
            return {"type": "input_audio_buffer.commit"}
        case cmd.ClearAudio():
            return {"type": "input_audio_buffer.clear"}
        case cmd.CreateResponse():
            return {"type": "response.create"}
        case cmd.CancelResponse(response_id=response_id):
            return {"type": "response.cancel"} | (
                {"response_id": response_id} if response_id else {}
            )
        case cmd.TruncateItem(item_id=item_id, audio_end_ms=end_ms):
            return {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": max(0, int(end_ms)),
            }
        case cmd.SendText(text=text):
            content = [{"type": "input_text", "text": text}]
            return {
                "type": "conversation.item.create",
                "item": {"type": "message", "role": "user", "content": content},
            }
        case cmd.AddHistory(role=role, text=text):
            kind = "input_text" if role == "user" else assistant_text
            item = {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}
            return {"type": "conversation.item.create", "item": item}
        case cmd.SendToolResult(call_id=call_id, output=output):
            item = {"type": "function_call_output", "call_id": call_id, "output": output}
            return {"type": "conversation.item.create", "item": item}
        case cmd.AnswerApproval(request_id=request_id, approve=approve, reason=reason):
            answer: dict[str, Any] = {
                "type": "mcp_approval_response",
                "id": approval_item_id(request_id),
                "approval_request_id": request_id,
                "approve": approve,
            }
            if reason:
                answer["reason"] = reason
            return {"type": "conversation.item.create", "item": answer}
    raise TypeError(f"not a command: {command!r}")
