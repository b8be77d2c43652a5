"""The Gemini Live dialect (Google's `BidiGenerateContent` WebSocket): not an OpenAI dialect.

What differs from OpenAI's event stream, and where it is handled here:
- the URL is `…/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`
  and the key travels in `x-goog-api-key` (never `?key=`: URLs end up in logs);
- the client speaks first: `setup` (model, generation config, tools, turn detection,
  transcriptions, resumption, compression) and the service answers `setupComplete`;
- messages are objects with one member each (`realtimeInput`, `serverContent`, `toolCall` …),
  camelCase, with no event type, item or response ids: `GeminiCodec` numbers turns itself;
- input audio goes as 16 kHz blobs (`audio/pcm;rate=16000`, resampled here), replies come as
  24 kHz `inlineData` parts, which is TalkApp's wire rate;
- with automatic activity detection off the client marks the user's turn with
  `activityStart` / `activityEnd`; the reply needs no request;
- there is no truncate and no cancel: the service stops a reply itself when it hears the
  user (`interrupted`), and keeps no record of how much of it was heard;
- errors are close codes with a reason (1007, 1008, 1011), not error events (see
  `explain_close`).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.decoding import Events, WireShapeError
from talkapp.protocol.dialect import Dialect, Query
from talkapp.protocol.encoding import SessionShape
from talkapp.protocol.gemini_audio import Downsampler

_CONNECTIONS = itertools.count(1)
API_VERSION = "v1beta"  # the version Google's Live API docs and the google-genai SDK use
METHOD_PATH = "/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"
INPUT_MIME = "audio/pcm;rate=16000"
OUTPUT_RATE = 24000

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


def gemini_url(base_url: str, model: str, query: Query | None = None) -> str:
    """`https://generativelanguage.googleapis.com` -> the Live WebSocket URL. A base URL that
    already names a `/ws/…` path is kept as given; one ending in `/v1` or `/v1beta` picks that
    version. The model goes in `setup`, not in the URL."""
    parts = urlsplit(base_url.strip())
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if "/ws/" not in path:
        version = API_VERSION
        last = path.rsplit("/", 1)[-1]
        if re.fullmatch(r"v1(alpha|beta)?", last):
            version, path = last, path[: -len(last) - 1]
        path += METHOD_PATH.format(version=version)
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def model_name(model: str) -> str:
    model = model.strip()
    return model if model.startswith("models/") else f"models/{model}"


# ---- setup ----


def setup_shape(config: cmd.SessionConfig, model: str | None = None) -> dict[str, Any]:
    """The `setup` object for a configuration (without the resumption handle)."""
    setup: dict[str, Any] = {"model": model_name(model or "")}
    generation: dict[str, Any] = {
        "responseModalities": ["AUDIO" if config.output == "audio" else "TEXT"]
    }
    speech: dict[str, Any] = {}
    if config.voice:
        speech["voiceConfig"] = {"prebuiltVoiceConfig": {"voiceName": config.voice}}
    if config.speech_language:
        speech["languageCode"] = config.speech_language
    if speech and config.output == "audio":
        generation["speechConfig"] = speech
    if config.max_output_tokens is not None:
        generation["maxOutputTokens"] = config.max_output_tokens
    setup["generationConfig"] = generation
    if config.instructions:
        setup["systemInstruction"] = {"parts": [{"text": config.instructions}]}
    if config.tools:
        setup["tools"] = [{"functionDeclarations": [_declaration(t) for t in config.tools]}]
    setup["realtimeInputConfig"] = _input_config(config.turn_detection)
    if config.transcription_model is not None:
        setup["inputAudioTranscription"] = {}  # Gemini picks the transcriber: only on or off
    if config.output == "audio":
        setup["outputAudioTranscription"] = {}
    setup["sessionResumption"] = {}  # ask for handles from the start, to resume after a drop
    if config.context_compression_tokens:
        trigger = config.context_compression_tokens
        setup["contextWindowCompression"] = {
            "triggerTokens": trigger,
            "slidingWindow": {"targetTokens": trigger // 2},
        }
    return setup


def _declaration(tool: cmd.FunctionTool) -> dict[str, Any]:
    # JSON Schema as the registry writes it (lowercase types): `parametersJsonSchema`, not
    # `parameters`, which is Google's OpenAPI subset.
    return {
        "name": tool.name,
        "description": tool.description,
        "parametersJsonSchema": tool.parameters,
    }


_DEFAULT_VAD = cmd.TurnDetection()


def _input_config(td: cmd.TurnDetection | None) -> dict[str, Any]:
    if td is None:
        return {"automaticActivityDetection": {"disabled": True}}  # we mark the turns
    detection: dict[str, Any] = {"disabled": False}
    if td.kind == "server_vad":
        if td.threshold != _DEFAULT_VAD.threshold:  # a lower threshold hears speech sooner
            detection["startOfSpeechSensitivity"] = (
                "START_SENSITIVITY_HIGH" if td.threshold < 0.5 else "START_SENSITIVITY_LOW"
            )
        detection["prefixPaddingMs"] = td.prefix_padding_ms
        detection["silenceDurationMs"] = td.silence_duration_ms
    elif td.eagerness in ("high", "low"):  # an eager turn end is a sensitive one
        detection["endOfSpeechSensitivity"] = f"END_SENSITIVITY_{td.eagerness.upper()}"
    shape: dict[str, Any] = {"automaticActivityDetection": detection}
    if not td.interrupt_response:
        shape["activityHandling"] = "NO_INTERRUPTION"
    return shape


# ---- the codec ----


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


# ---- refusals ----

KEY_HELP = "set a Gemini key (keyring set talkapp gemini, or GEMINI_API_KEY for one session)"


def explain_close(code: int, reason: str, model: str) -> str | None:
    """A close from Gemini in one line, with what to do; None for a close that is not Google's
    refusal shape (the generic message then applies)."""
    said = reason.strip().rstrip(".")
    lowered = said.lower()
    if code == 1008 and ("api key" in lowered or "permission" in lowered):
        return f"Gemini refused the key: {KEY_HELP}."
    if code == 1008 and ("not found" in lowered or "not supported" in lowered):
        return (
            f"Gemini has no Live model {model}: pick a Live model such as "
            "gemini-2.5-flash-native-audio-preview-12-2025 (only Live models take "
            "bidiGenerateContent)."
        )
    if code == 1007:
        return (
            f"Gemini rejected the session setup ({said or 'invalid argument'}): check the "
            "profile's voice, language and tools."
        )
    if code == 1011:
        return f"Gemini had an internal error ({said or 'no reason given'}): reconnect."
    if code == 1008:
        return f"Gemini refused the session ({said or 'policy violation'})."
    return None


DIALECT = Dialect(
    name="gemini",
    label="Gemini",
    extra_headers={},
    session_shape=setup_shape,
    decoders={},
    assistant_text="text",
    url_builder=gemini_url,
    auth="x-goog-api-key",
    client_speaks_first=True,
    codec=GeminiCodec,
)
