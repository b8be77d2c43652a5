"""Gemini Live messages to TalkApp's events and back, for one connection (sans-I/O, stdlib).

Gemini names no items or responses, so the codec numbers them; it remembers what the next
message needs (the tool names a `toolResponse` repeats, whether we mark the user's activity,
the resampler's state). `gemini.py` holds the dialect, its URL and its setup.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from typing import Any

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.decoding import Events, WireShapeError
from talkapp.protocol.encoding import SessionShape
from talkapp.protocol.gemini_audio import Downsampler

_CONNECTIONS = itertools.count(1)
INPUT_MIME = "audio/pcm;rate=16000"

# The messages a server sends; one message may carry several (usage beside the turn's end).
SERVER_MESSAGES = (
    "setupComplete",
    "usageMetadata",
    "serverContent",
    "toolCall",
    "toolCallCancellation",
    "goAway",
    "sessionResumptionUpdate",
    "voiceActivity",
    "voiceActivityDetectionSignal",
)


class GeminiCodec:
    """Commands to Gemini messages and Gemini messages to events, for one connection.

    Gemini names no items or responses, so this numbers them: each stretch of model output
    (up to a tool call or the turn's end) is one response with one item; the user's side of a
    turn is one item until `turnComplete`."""

    def __init__(self, shape: SessionShape) -> None:
        # Ids unique across connections: a reconnect's items must not overwrite the transcript
        # turns of the session before it.
        self.prefix = f"gemini{next(_CONNECTIONS)}"
        self._shape = shape
        self._manual = False  # automatic activity detection off: we send activityStart/End
        self._in_activity = False
        # A new user turn may begin (the first, or after ClearAudio, which the turn policy sends
        # as each turn starts): audio then opens an activity. Audio that trails a commit (the
        # mic's last block in flight) must not: Gemini would take it for the user talking over
        # the reply and stop it.
        self._armed = True
        self._downsampler = Downsampler()
        self._tool_names: dict[str, str] = {}  # call id -> function name, for toolResponse
        self._responses = 0
        self._user_turns = 1
        self._response: str | None = None  # the open response, if any
        self._audio_done = False
        self._heard_user = False
        self._heard_assistant = False
        self._usage: ev.Usage | None = None
        self._user_turn_open = True  # no reply yet since the user's turn began
        self._typed: str | None = None  # a typed turn, told as an item when the reply begins

    # -- commands --

    def encode(self, command: cmd.Command) -> tuple[dict[str, Any], ...]:
        match command:
            case cmd.ConfigureSession(config=config, resume_handle=handle):
                self._manual = config.turn_detection is None
                setup = self._shape(config)
                if handle:
                    setup["sessionResumption"] = {"handle": handle}
                return ({"setup": setup},)
            case cmd.AppendAudio(pcm=pcm):
                audio = {
                    "realtimeInput": {
                        "audio": {
                            "data": base64.b64encode(self._downsampler.convert(pcm)).decode(),
                            "mimeType": INPUT_MIME,
                        }
                    }
                }
                if self._manual and not self._in_activity:
                    if not self._armed:
                        return ()  # trails the last turn: not the start of a new one
                    self._in_activity, self._armed = True, False
                    return ({"realtimeInput": {"activityStart": {}}}, audio)
                return (audio,)
            case cmd.CommitAudio():
                if self._manual and self._in_activity:
                    self._in_activity = False
                    return ({"realtimeInput": {"activityEnd": {}}},)
                return ()  # automatic detection decides when the user finished
            case cmd.ClearAudio():
                # A turn starts (or a half-said one is dropped). Gemini cannot take back audio
                # already in an open activity: that stays, and the next commit ends it.
                self._armed = True
                return ()
            case cmd.SendText(text=text):
                self._typed = text
                turn = {"role": "user", "parts": [{"text": text}]}
                return ({"clientContent": {"turns": [turn], "turnComplete": True}},)
            case cmd.AddHistory(role=role, text=text):
                turn = {"role": "user" if role == "user" else "model", "parts": [{"text": text}]}
                return ({"clientContent": {"turns": [turn], "turnComplete": False}},)
            case cmd.SendToolResult(call_id=call_id, output=output):
                answer = {
                    "id": call_id,
                    "name": self._tool_names.pop(call_id, ""),
                    "response": _tool_response(output),
                }
                return ({"toolResponse": {"functionResponses": [answer]}},)
            case cmd.CreateResponse() | cmd.CancelResponse():
                # Gemini answers at the end of the user's activity without being asked, and
                # stops a reply itself when it hears the user: nothing to send.
                return ()
            case cmd.TruncateItem():
                # Gemini has no truncate: the service cannot be told how much of an interrupted
                # reply was heard, so its context keeps the whole reply.
                return ()
            case cmd.AnswerApproval():
                return ()  # no remote MCP tools on Gemini, so no approvals to answer
        raise TypeError(f"not a command: {command!r}")

    # -- messages --

    def decode(self, raw: dict[str, Any]) -> Events:
        known = [key for key in SERVER_MESSAGES if key in raw]
        if not known:
            return (ev.Unrecognized(next(iter(raw), "(empty message)")),)
        out: list[ev.ServerEvent] = []
        usage = raw.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = _usage(usage)  # before serverContent: it may end the turn
        if "setupComplete" in raw:
            done = raw["setupComplete"] if isinstance(raw["setupComplete"], dict) else {}
            session_id = done.get("sessionId")
            session_id = session_id if isinstance(session_id, str) else ""
            out += [ev.SessionStarted(session_id, ""), ev.SessionConfigured(session_id)]
        if "serverContent" in raw:
            out += self._content(_member(raw, "serverContent"))
        if "toolCall" in raw:
            out += self._tool_call(_member(raw, "toolCall"))
        if "toolCallCancellation" in raw:
            ids = _member(raw, "toolCallCancellation").get("ids")
            ids = ids if isinstance(ids, list) else []
            out.append(ev.ToolCallCancelled(tuple(i for i in ids if isinstance(i, str))))
        if "goAway" in raw:
            out.append(ev.GoingAway(_duration_s(_member(raw, "goAway").get("timeLeft"))))
        if "sessionResumptionUpdate" in raw:
            update = _member(raw, "sessionResumptionUpdate")
            handle = update.get("newHandle")
            out.append(
                ev.ResumptionHandle(
                    handle if isinstance(handle, str) and handle else None,
                    update.get("resumable") is True,
                )
            )
        if "voiceActivity" in raw:
            kind = _member(raw, "voiceActivity").get("voiceActivityType")
            if kind == "ACTIVITY_START":
                out.append(ev.SpeechStarted(self._user_item))
            elif kind == "ACTIVITY_END":
                out.append(ev.SpeechStopped(self._user_item))
        return tuple(out)

    @property
    def _user_item(self) -> str:
        return f"{self.prefix}-user-{self._user_turns}"

    @property
    def _item(self) -> str:
        return f"{self.prefix}-item-{self._responses}"

    def _open(self, out: list[ev.ServerEvent]) -> str:
        if self._response is None:
            if self._typed is not None:
                # Gemini echoes no user item: the typed turn joins the transcript as OpenAI's
                # conversation.item.created would put it there, before the reply.
                out.append(ev.ItemAdded(self._user_item, "message", "user", self._typed))
                self._typed = None
            if self._user_turn_open and not self._manual:
                # Google's API reports no speech edges (its explicit VAD signal is Vertex AI's
                # only): its detection ended the user's turn when the reply begins, so that is
                # when the user's speech is known to have stopped.
                out.append(ev.SpeechStopped(self._user_item))
            self._user_turn_open = False
            self._responses += 1
            self._response = f"{self.prefix}-response-{self._responses}"
            self._audio_done = False
            out.append(ev.ResponseStarted(self._response))
        return self._response

    def _close(self, out: list[ev.ServerEvent], status: str, reason: str | None = None) -> None:
        if self._response is None:
            return
        if not self._audio_done:
            out.append(ev.AudioDone(self._response, self._item))
        out.append(ev.ResponseDone(self._response, status, reason, self._usage))
        self._response, self._usage = None, None

    def _content(self, content: dict[str, Any]) -> Events:
        out: list[ev.ServerEvent] = []
        heard = _transcript(content, "inputTranscription")
        if heard:
            self._heard_user = True
            out.append(ev.TranscriptDelta("user", self._user_item, heard))
        turn = content.get("modelTurn")
        if isinstance(turn, dict):
            parts = turn.get("parts")
            for part in parts if isinstance(parts, list) else []:
                out += self._part(part)
        said = _transcript(content, "outputTranscription")
        if said:
            self._open(out)
            self._heard_assistant = True
            out.append(ev.TranscriptDelta("assistant", self._item, said))
        if content.get("interrupted") is True:
            # The service heard the user and dropped the rest of its reply: flush playback now.
            out.append(ev.SpeechStarted(self._user_item))
            self._close(out, "cancelled", "turn_detected")
            self._user_turn_open = True
        generated = content.get("generationComplete") is True
        if generated and self._response is not None and not self._audio_done:
            out.append(ev.AudioDone(self._response, self._item))
            self._audio_done = True
        if content.get("turnComplete") is True:
            out += self._turn_complete()
        return tuple(out)

    def _part(self, part: object) -> Events:
        if not isinstance(part, dict) or part.get("thought") is True:
            return ()  # a model's thoughts are not what it says
        out: list[ev.ServerEvent] = []
        blob = part.get("inlineData")
        if isinstance(blob, dict) and str(blob.get("mimeType", "")).startswith("audio/pcm"):
            data = blob.get("data")
            if not isinstance(data, str):
                raise WireShapeError("field 'inlineData.data' should be str")
            try:
                pcm = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise WireShapeError("field 'inlineData.data' is not valid base64") from None
            response = self._open(out)
            out.append(ev.AudioDelta(response, self._item, pcm))
        text = part.get("text")
        if isinstance(text, str) and text:  # text-only replies (responseModalities TEXT)
            self._open(out)
            self._heard_assistant = True
            out.append(ev.TranscriptDelta("assistant", self._item, text))
        return tuple(out)

    def _turn_complete(self) -> list[ev.ServerEvent]:
        out: list[ev.ServerEvent] = []
        if self._heard_user:
            out.append(ev.TranscriptDone("user", self._user_item, "", from_deltas=True))
        if self._heard_assistant and self._response is not None:
            out.append(ev.TranscriptDone("assistant", self._item, "", from_deltas=True))
        self._close(out, "completed")
        self._heard_user = self._heard_assistant = False
        self._user_turns += 1
        self._user_turn_open = True
        return out

    def _tool_call(self, call: dict[str, Any]) -> Events:
        """Tool calls end the stretch of output that made them: the engine answers them as it
        answers OpenAI's (result, then a request for more, which Gemini needs not)."""
        calls = call.get("functionCalls")
        if not isinstance(calls, list):
            raise WireShapeError("field 'functionCalls' should be list")
        out: list[ev.ServerEvent] = []
        response = self._open(out)
        for fc in calls:
            if not isinstance(fc, dict):
                raise WireShapeError("a function call should be an object")
            call_id, name = fc.get("id"), fc.get("name")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise WireShapeError("a function call needs 'id' and 'name' strings")
            args = fc.get("args") if isinstance(fc.get("args"), dict) else {}
            self._tool_names[call_id] = name
            out.append(ev.ToolCallRequested(call_id, name, json.dumps(args), self._item, response))
        if self._heard_assistant:
            out.append(ev.TranscriptDone("assistant", self._item, "", from_deltas=True))
            self._heard_assistant = False
        self._close(out, "completed")
        return tuple(out)


def _member(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise WireShapeError(f"field '{key}' should be dict, got {type(value).__name__}")
    return value


def _transcript(content: dict[str, Any], key: str) -> str:
    value = content.get(key)
    text = value.get("text") if isinstance(value, dict) else None
    return text if isinstance(text, str) else ""


def _tool_response(output: str) -> dict[str, Any]:
    """A function's result as Gemini's `response` object: a JSON object as it is, anything else
    under `output` (Google's documented key for a function's output)."""
    try:
        value = json.loads(output)
    except ValueError:
        return {"output": output}
    return value if isinstance(value, dict) else {"output": value}


_MODALITY_FIELDS = {"TEXT": "text", "AUDIO": "audio", "IMAGE": "image", "VIDEO": "image"}


def _by_modality(details: object) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in details if isinstance(details, list) else []:
        if not isinstance(entry, dict):
            continue
        field = _MODALITY_FIELDS.get(str(entry.get("modality", "")))
        count = entry.get("tokenCount")
        if field and isinstance(count, int) and not isinstance(count, bool):
            counts[field] = counts.get(field, 0) + count
    return counts


def _usage(usage: dict[str, Any]) -> ev.Usage:
    """`usageMetadata` in the fields OpenAI's usage fills: prompt tokens by modality as input,
    response tokens by modality as output (a response without details counts as audio, what a
    Live model answers in), cached content as cached input."""
    prompt = _by_modality(usage.get("promptTokensDetails"))
    response = _by_modality(usage.get("responseTokensDetails"))
    cached = _by_modality(usage.get("cacheTokensDetails"))
    if not response:
        total = usage.get("responseTokenCount")
        response = {"audio": total} if isinstance(total, int) and total > 0 else {}
    if not prompt:
        total = usage.get("promptTokenCount")
        prompt = {"audio": total} if isinstance(total, int) and total > 0 else {}
    cached_total = usage.get("cachedContentTokenCount")
    return ev.Usage(
        input_text=prompt.get("text", 0),
        input_audio=prompt.get("audio", 0),
        input_image=prompt.get("image", 0),
        input_cached=cached_total if isinstance(cached_total, int) else sum(cached.values()),
        input_cached_text=cached.get("text", 0),
        input_cached_audio=cached.get("audio", 0),
        output_text=response.get("text", 0),
        output_audio=response.get("audio", 0),
    )


def _duration_s(value: object) -> float | None:
    """Google's Duration in JSON: `"12.5s"`."""
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            return None
    return None
