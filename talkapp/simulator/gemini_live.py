"""One Gemini Live connection on the simulator: setup first, then turns, strictly.

What it does, as Google's service does (ai.google.dev Live API guide and reference):
- the first message must be `setup`; the answer is `setupComplete`; a second setup, an unknown
  field or a bad value closes with 1007 and Google's reason; an unknown or non-Live model 1008;
- automatic activity detection (on unless the setup disables it) hears the speech in the
  `realtimeInput.audio` stream (the simulator's webrtcvad, as the OpenAI doors use) and answers
  at its end; with detection off the client marks the turn with `activityStart`/`activityEnd`,
  and either of those while detection is on is refused;
- speech (or `activityStart`) during a reply interrupts it: `interrupted`, then `turnComplete`,
  and any tool call still unanswered is withdrawn with `toolCallCancellation`;
- a reply is `modelTurn` audio parts (24 kHz), `outputTranscription` when asked, then
  `generationComplete`, then `usageMetadata` in the same message as `turnComplete` (the SDK's
  receive loop stops at turnComplete, so usage never comes after it);
- a typed turn that names a declared function gets a `toolCall`; the reply follows the
  `toolResponse`;
- with `sessionResumption` in the setup each turn ends with a fresh handle, and a later
  connection that sets up with it continues the conversation; knobs send `goAway` and
  withhold handles.

It cannot understand speech, so it says how much it heard, like the other doors.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, pcm16_to_float, resample
from talkapp.simulator import gemini_door as door
from talkapp.simulator.config import Knobs, SimulatorConfig
from talkapp.simulator.gemini_schema import normalized, problem
from talkapp.simulator.recorder import ConnectionRecord, Recorder
from talkapp.simulator.replies import arguments
from talkapp.simulator.vad import ServerVad, SpeechStarted, SpeechStopped, VadParams
from talkapp.simulator.voice import synthesize

AUDIO_TOKENS_PER_S = 25  # Google counts 25 tokens per second of Live audio (simulator estimate)
MIN_TURN_MS = 100  # less audio than this in an activity is not a turn
_MIME = re.compile(r"^audio/pcm(?:;\s*rate=(\d+))?$")
DEFAULT_VOICE = "Puck"


@dataclass
class Turn:
    role: str  # "user" or "model"
    text: str


@dataclass
class GeminiSessions:
    """Conversations a resumption handle names, shared by every connection of one simulator."""

    by_handle: dict[str, list[Turn]] = field(default_factory=dict)

    def save(self, history: list[Turn]) -> str:
        handle = "simres-" + secrets.token_hex(8)
        self.by_handle[handle] = list(history)
        return handle


class Refuse(Exception):
    def __init__(self, close: door.Close) -> None:
        super().__init__(close.reason)
        self.close = close


class GeminiLive:
    def __init__(
        self,
        ws: ServerConnection,
        config: SimulatorConfig,
        knobs: Knobs,
        record: ConnectionRecord,
        recorder: Recorder,
        sessions: GeminiSessions,
        version: str,
    ) -> None:
        self.ws, self.config, self.knobs = ws, config, knobs
        self.record, self.recorder, self.sessions = record, recorder, sessions
        self.version = version
        self.setup: dict[str, Any] | None = None
        self.model = ""
        self.history: list[Turn] = []
        self._send_lock = asyncio.Lock()
        self._vad: ServerVad | None = None
        self._manual = False
        self._interrupts = True
        self._in_activity = False
        self._heard = bytearray()  # the user's current turn, 24 kHz
        self._reply: asyncio.Task[None] | None = None
        self._pending_calls: dict[str, str] = {}  # tool call id -> name, awaiting a response
        self._answered: list[tuple[str, Any]] = []
        self._closing: asyncio.Task[None] | None = None  # the close a goAway announced

    # ---- the connection ----

    async def run(self) -> None:
        try:
            async for frame in self.ws:
                await self._message(frame)
        except Refuse as refused:
            await self._close(refused.close)
        except ConnectionClosed:
            pass
        finally:
            for task in (self._reply, self._closing):
                if task is not None and task is not asyncio.current_task():
                    task.cancel()

    async def refuse(self, close: door.Close) -> None:
        await self._close(close)

    async def _close(self, close: door.Close) -> None:
        if self._reply is not None:
            self._reply.cancel()
        self.record.close_code, self.record.close_reason = close.code, close.wire_reason
        with contextlib.suppress(ConnectionClosed):
            await self.ws.close(close.code, close.wire_reason)

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send(json.dumps(message, separators=(",", ":")))
        self.recorder.sent(self.record, message)

    async def _message(self, frame: str | bytes) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            raise Refuse(door.Close(door.INVALID, "Invalid JSON payload received.")) from None
        self.recorder.received(self.record, message)
        said = problem(message)
        if said:
            raise Refuse(door.Close(door.INVALID, said))
        ((name, body),) = normalized(message).items()
        if self.setup is None and name != "setup":
            raise Refuse(door.Close(door.INVALID, "The first message must be a setup message."))
        match name:
            case "setup":
                await self._setup(body)
            case "realtimeInput":
                await self._realtime(body)
            case "clientContent":
                await self._client_content(body)
            case "toolResponse":
                await self._tool_response(body)

    # ---- setup ----

    async def _setup(self, setup: dict[str, Any]) -> None:
        if self.setup is not None:
            raise Refuse(door.Close(door.INVALID, "Setup may be sent only once per session."))
        refused = door.model_problem(setup.get("model"), self.version)
        if refused:
            raise Refuse(refused)
        handle = setup.get("sessionResumption", {}).get("handle")
        if handle:
            if handle not in self.sessions.by_handle:
                # The simulator's words: Google's reason for a stale handle is not documented.
                raise Refuse(door.Close(door.INVALID, "Session resumption handle is invalid."))
            self.history = list(self.sessions.by_handle[handle])
        self.setup = setup
        self.model = setup["model"].removeprefix("models/")
        self.record.dialect, self.record.model = "gemini", self.model
        realtime = setup.get("realtimeInputConfig", {})
        detection = realtime.get("automaticActivityDetection", {})
        self._manual = detection.get("disabled") is True
        self._interrupts = realtime.get("activityHandling") != "NO_INTERRUPTION"
        if not self._manual:
            self._vad = ServerVad(VadParams(silence_ms=detection.get("silenceDurationMs", 500)))
        await self._send({"setupComplete": {}})

    @property
    def _voice(self) -> str:
        config = self.setup.get("generationConfig", {}) if self.setup else {}
        voice = config.get("speechConfig", {}).get("voiceConfig", {})
        name = voice.get("prebuiltVoiceConfig", {}).get("voiceName")
        return name if isinstance(name, str) else DEFAULT_VOICE

    def _wants(self, member: str) -> bool:
        return self.setup is not None and member in self.setup

    @property
    def _text_only(self) -> bool:
        config = self.setup.get("generationConfig", {}) if self.setup else {}
        return config.get("responseModalities") == ["TEXT"]

    # ---- input ----

    async def _realtime(self, body: dict[str, Any]) -> None:
        if len(body) != 1:
            raise Refuse(
                door.Close(door.INVALID, "realtime_input carries exactly one kind of input.")
            )
        if "activityStart" in body or "activityEnd" in body:
            if not self._manual:
                raise Refuse(
                    door.Close(
                        door.INVALID,
                        "Explicit activity control is not supported when automatic activity "
                        "detection is enabled.",
                    )
                )
            if "activityStart" in body:
                if self._interrupts:
                    await self._interrupt()
                self._in_activity, self._heard = True, bytearray()
            else:
                self._in_activity = False
                await self._user_spoke()
            return
        if "audio" in body:
            await self._audio(body["audio"])
        elif "mediaChunks" in body:  # the SDK's older spelling of the same stream
            for blob in body["mediaChunks"]:
                await self._audio(blob)
        elif "text" in body:
            await self._interrupt()
            await self._answer(Turn("user", body["text"]), spoken_ms=None)
        elif "audioStreamEnd" in body and self._vad is not None and self._vad.speaking:
            await self._user_spoke()

    async def _audio(self, blob: dict[str, Any]) -> None:
        mime = _MIME.match(str(blob.get("mimeType", "")))
        if mime is None:
            raise Refuse(door.Close(door.INVALID, f"Unsupported mime type {blob.get('mimeType')}"))
        try:
            # protobuf's JSON takes standard or URL-safe base64 (Google's SDK sends the latter)
            data = str(blob.get("data", "")).replace("-", "+").replace("_", "/")
            pcm = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
        except (binascii.Error, ValueError):
            bad = (
                "Invalid value at 'realtime_input.audio.data' (TYPE_BYTES), Base64 decoding failed."
            )
            raise Refuse(door.Close(door.INVALID, bad)) from None
        rate = int(mime.group(1) or 16000)
        pcm24 = pcm if rate == WIRE_RATE else _to_wire_rate(pcm, rate)
        if self._manual:
            if self._in_activity:
                self._heard += pcm24
            return  # outside an activity the audio is not a turn
        assert self._vad is not None
        for edge in self._vad.feed(pcm24):
            if isinstance(edge, SpeechStarted):
                self._heard = bytearray()
                if self._interrupts:
                    await self._interrupt()
            elif isinstance(edge, SpeechStopped):
                await self._user_spoke()
        if self._vad.speaking:
            self._heard += pcm24

    async def _user_spoke(self) -> None:
        spoken_ms = len(self._heard) / 2 / WIRE_RATE * 1000
        self._heard = bytearray()
        if spoken_ms < MIN_TURN_MS:
            return
        await self._answer(Turn("user", f"({spoken_ms / 1000:.1f} s of speech)"), spoken_ms)

    async def _client_content(self, body: dict[str, Any]) -> None:
        turns = [
            Turn(t.get("role", "user"), " ".join(p.get("text", "") for p in t.get("parts", [])))
            for t in body.get("turns", [])
        ]
        if body.get("turnComplete") is True and turns and turns[-1].role == "user":
            await self._interrupt()
            self.history += turns[:-1]
            await self._answer(turns[-1], spoken_ms=None)
        else:
            self.history += turns

    async def _tool_response(self, body: dict[str, Any]) -> None:
        for answer in body.get("functionResponses", []):
            call_id = answer.get("id")
            if call_id not in self._pending_calls:
                raise Refuse(
                    door.Close(door.INVALID, f"Function response with unknown id {call_id}.")
                )
            name = self._pending_calls.pop(call_id)
            self._answered.append((name, answer.get("response")))
        if not self._pending_calls and self._answered:
            said = "; ".join(f"{n} returned {json.dumps(r)[:120]}" for n, r in self._answered)
            self._answered = []
            self._start(self._speak(f"The tool {said}.", prompt_tokens=0))

    # ---- replies ----

    async def _interrupt(self) -> None:
        """The user spoke over the reply: it stops, and unanswered tool calls are withdrawn."""
        if self._pending_calls:
            ids = list(self._pending_calls)
            self._pending_calls.clear()
            await self._send({"toolCallCancellation": {"ids": ids}})
        if self._reply is not None and not self._reply.done():
            self._reply.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reply
            await self._send({"serverContent": {"interrupted": True}})
            await self._send({"serverContent": {"turnComplete": True}})

    def _start(self, reply: Any) -> None:
        self._reply = asyncio.create_task(reply)

    async def _answer(self, turn: Turn, spoken_ms: float | None) -> None:
        self.history.append(turn)
        if spoken_ms is not None and self._wants("inputAudioTranscription"):
            await self._send({"serverContent": {"inputTranscription": {"text": turn.text}}})
        prompt_tokens = (
            int(spoken_ms / 1000 * AUDIO_TOKENS_PER_S) if spoken_ms else len(turn.text) // 4 + 1
        )
        calls = self._calls_for(turn.text) if spoken_ms is None else []
        if calls:
            await self._send({"toolCall": {"functionCalls": calls}})
            return
        heard = (
            f"I heard {spoken_ms / 1000:.1f} seconds of audio."
            if spoken_ms is not None
            else f'You said: "{turn.text[:200]}".'
        )
        earlier_turns = sum(1 for t in self.history if t.role == "user") - 1
        earlier = f" Earlier turns I remember: {earlier_turns}." if earlier_turns > 0 else ""
        self._start(self._speak(f"{heard}{earlier}", prompt_tokens, audio_in=spoken_ms is not None))

    def _calls_for(self, text: str) -> list[dict[str, Any]]:
        calls = []
        for tools in (self.setup or {}).get("tools", []):
            for declared in tools.get("functionDeclarations", []):
                name = declared.get("name", "")
                spelled = {name.lower(), name.lower().replace("_", " ")}
                if name and any(s in text.lower() for s in spelled):
                    schema = declared.get("parametersJsonSchema") or declared.get("parameters")
                    call_id = "call-" + secrets.token_hex(4)
                    self._pending_calls[call_id] = name
                    args = arguments({"parameters": schema or {}}, text)
                    calls.append({"id": call_id, "name": name, "args": args})
        return calls

    async def _speak(self, said: str, prompt_tokens: int, audio_in: bool = True) -> None:
        text = f"This is the TalkApp simulator speaking as {self.model} over Gemini Live. {said}"
        think = self.config.latency_for(self.model)
        if think:
            await asyncio.sleep(think)
        pace = self.knobs.audio_pace
        if self._text_only:
            await self._send({"serverContent": {"modelTurn": {"parts": [{"text": text}]}}})
            modality, answered = "TEXT", len(text) // 4 + 1
        else:
            pcm = synthesize(text, voice=self._voice, seed=self.config.seed)
            step = WIRE_RATE * 2 * self.config.audio_chunk_ms // 1000
            chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
            words = text.split()
            per_chunk = max(1, -(-len(words) // len(chunks)))
            for n, chunk in enumerate(chunks):
                data = base64.b64encode(chunk).decode()
                part = {"inlineData": {"mimeType": f"audio/pcm;rate={WIRE_RATE}", "data": data}}
                await self._send({"serverContent": {"modelTurn": {"parts": [part]}}})
                piece = words[n * per_chunk : (n + 1) * per_chunk]
                if piece and self._wants("outputAudioTranscription"):
                    said_now = (" " if n else "") + " ".join(piece)
                    await self._send({"serverContent": {"outputTranscription": {"text": said_now}}})
                if pace > 0:
                    await asyncio.sleep(self.config.audio_chunk_ms / 1000 / pace)
            seconds = len(pcm) / 2 / WIRE_RATE
            modality, answered = "AUDIO", int(seconds * AUDIO_TOKENS_PER_S)
        response = {"modality": modality, "tokenCount": answered}
        await self._send({"serverContent": {"generationComplete": True}})
        context = sum(len(t.text) // 4 + 1 for t in self.history[:-1])
        text_in = context + (0 if audio_in else prompt_tokens)
        prompt: list[dict[str, Any]] = [{"modality": "TEXT", "tokenCount": text_in}]
        if audio_in:
            prompt.append({"modality": "AUDIO", "tokenCount": prompt_tokens})
        total_in = text_in + (prompt_tokens if audio_in else 0)
        usage = {
            "promptTokenCount": total_in,
            "responseTokenCount": answered,
            "totalTokenCount": total_in + answered,
            "promptTokensDetails": prompt,
            "responseTokensDetails": [response],
        }
        self.history.append(Turn("model", text))
        await self._send({"usageMetadata": usage, "serverContent": {"turnComplete": True}})
        await self._after_turn()

    async def _after_turn(self) -> None:
        if self._wants("sessionResumption"):
            if self.knobs.gemini_withhold_handles:
                await self._send({"sessionResumptionUpdate": {"resumable": False}})
            else:
                handle = self.sessions.save(self.history)
                update = {"newHandle": handle, "resumable": True}
                await self._send({"sessionResumptionUpdate": update})
        left = self.knobs.gemini_go_away_s
        if left is not None:
            self.knobs.gemini_go_away_s = None  # one-shot, like the other fault knobs
            await self._send({"goAway": {"timeLeft": f"{left:g}s"}})
            self._closing = asyncio.create_task(self._close_in(left))

    async def _close_in(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self._close(door.Close(1000, "Session time limit reached."))


def _to_wire_rate(pcm: bytes, rate: int) -> bytes:
    return float_to_pcm16(resample(pcm16_to_float(pcm), rate, WIRE_RATE))
