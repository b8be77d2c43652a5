"""`talkapp replay FILE`: a wire capture's server frames through the decoders and the turn
policy, offline, and what the app would have done — events, notices, transcript, truncates.

Audio in a capture is only its length (`capture.audio_stub`); replay puts that many bytes of
silence back, so the decoders see a well-formed delta and the policy the right durations.
A frame the decoders cannot use is what a bug report is about: it is listed, and the command
exits 1.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from talkapp.audio.pcm import duration_ms
from talkapp.protocol import events as ev
from talkapp.protocol.accepted import summarize
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.explain import explain
from talkapp.protocol.selection import DIALECTS, DialectChoice
from talkapp.session import turns
from talkapp.session.capture import is_audio_stub
from talkapp.session.refusals import explain_refusal
from talkapp.session.transcript import Transcript
from talkapp.transport.websocket import HttpRefusal


class CaptureError(Exception):
    """The file is not a capture; `str()` is one line for a person."""


@dataclass
class Replayed:
    lines: list[str] = field(default_factory=list)  # what happened, in order, for a person
    events: list[dict[str, Any]] = field(default_factory=list)  # the same, for --json
    notices: list[str] = field(default_factory=list)
    truncates: list[dict[str, Any]] = field(default_factory=list)
    undecodable: list[dict[str, Any]] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    sessions: int = 0

    def as_json(self) -> dict[str, Any]:
        turns_ = [
            {
                "role": t.role,
                "text": t.text,
                "final": t.final,
                "interrupted": t.interrupted,
                "heard_ms": t.heard_ms,
            }
            for t in self.transcript.turns()
        ]
        return {
            "sessions": self.sessions,
            "events": self.events,
            "notices": self.notices,
            "truncates": self.truncates,
            "transcript": turns_,
            "undecodable": self.undecodable,
        }


def read_capture(lines: Iterable[str]) -> list[dict[str, Any]]:
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise CaptureError(
                f"line {number} is not JSON: is this a file written by --capture?"
            ) from None
        if not isinstance(entry, dict) or "dir" not in entry:
            raise CaptureError(
                f"line {number} has no direction: is this a file written by --capture?"
            )
        entries.append(entry)
    if not entries:
        raise CaptureError("the capture is empty")
    return entries


def replay(entries: list[dict[str, Any]]) -> Replayed:
    return _Replay().run(entries)


class _Replay:
    def __init__(self) -> None:
        self.out = Replayed()
        self.connection: RealtimeConnection | None = None
        self.choice: DialectChoice | None = None
        self.model = ""
        self.url = ""
        self.policy: turns.TurnPolicy | None = None
        self.received_ms: dict[str, int] = {}  # reply audio per item: replay hears all of it
        self.malformed_told: set[str | None] = set()
        self.t = 0.0
        self._last: tuple[str, str] | None = None
        self._repeats = 1
        self._first_line = ""

    def run(self, entries: list[dict[str, Any]]) -> Replayed:
        for entry in entries:
            self.t = float(entry.get("t") or 0.0)
            match entry.get("dir"):
                case "meta":
                    self._meta(entry)
                case "out":
                    self._sent(entry)
                case "in":
                    self._received(entry)
        return self.out

    # ---- the three kinds of line ----

    def _meta(self, entry: dict[str, Any]) -> None:
        if "dialect" in entry:
            name = entry["dialect"] if entry["dialect"] in DIALECTS else "ga"
            self.model, self.url = str(entry.get("model") or ""), str(entry.get("url") or "")
            dialect = DIALECTS[name].for_model(self.model)
            self.choice = DialectChoice(dialect, entry.get("dialect_setting") or "auto")
            self.connection = RealtimeConnection(dialect)
            self.out.sessions += 1
            self._say("session", f"{self.model} · {self.choice.describe()}")
        elif isinstance(entry.get("refused"), dict):
            refused = entry["refused"]
            host = urlsplit(self.url).netloc or "the service"
            refusal = HttpRefusal(
                host, int(refused.get("status") or 0), str(refused.get("body") or "")
            )
            self._notice(explain_refusal(refusal, self.url, self.model))
        elif isinstance(entry.get("closed"), dict):
            closed = entry["closed"]
            self._say("closed", f"code {closed.get('code')} {closed.get('reason') or ''}".strip())
            if self.policy is not None:
                self._do(self.policy.connection_lost())

    def _sent(self, entry: dict[str, Any]) -> None:
        frame = entry.get("frame")
        if not isinstance(frame, dict) or self.connection is None:
            return
        self.connection.observe_sent(frame)
        if frame.get("type") == "session.update":
            self._policy_for(frame["session"] if isinstance(frame.get("session"), dict) else {})
        if frame.get("type") in (
            "input_audio_buffer.commit",
            "response.create",
            "response.cancel",
            "conversation.item.truncate",
        ):
            self._say("sent", str(frame["type"]))

    def _received(self, entry: dict[str, Any]) -> None:
        if self.connection is None:  # a capture cut before its first meta line: assume GA
            self._meta({"dialect": "ga", "model": "", "url": ""})
        assert self.connection is not None
        if "frame" in entry:
            wire: str | bytes = json.dumps(_with_audio(entry["frame"]))
        elif "binary_bytes" in entry:
            wire = bytes(int(entry["binary_bytes"] or 0))
        else:
            wire = str(entry.get("text", ""))
        for event in self.connection.receive(wire):
            self._event(event)

    # ---- what the app does with an event ----

    def _event(self, event: ev.ServerEvent) -> None:
        self.out.events.append({"t": self.t, "event": type(event).__name__, **_fields(event)})
        self._say(
            "event", _describe(event), merge=isinstance(event, (ev.AudioDelta, ev.TranscriptDelta))
        )
        match event:
            case ev.MalformedEvent(wire_type=wire_type, problem=problem):
                self.out.undecodable.append({"t": self.t, "type": wire_type, "problem": problem})
                if wire_type not in self.malformed_told:
                    self.malformed_told.add(wire_type)
                    self._notice(
                        f"Ignored a malformed event from the service "
                        f"({wire_type or 'frame'}: {problem})."
                    )
            case ev.ServerError() if (
                self.choice is not None and event.code not in turns.HANDLED_ERRORS
            ):
                self._notice(explain(event, self.model, self.choice))
            case ev.SessionConfigured(differences=differences):
                for text in differences:
                    self._notice(text)
            case ev.AudioDelta(item_id=item_id, pcm=pcm):
                self.received_ms[item_id] = self.received_ms.get(item_id, 0) + round(
                    duration_ms(pcm)
                )
        self.out.transcript.apply(event, self.t)
        if self.policy is not None:
            self._do(self.policy.on_event(event))

    def _do(self, actions: list[turns.Action]) -> None:
        for action in actions:
            match action:
                case turns.Interrupt(item_id=item_id) if item_id:
                    # Offline nothing plays: what arrived of the item stands for what was heard,
                    # where the app measures its speaker after the flush.
                    end_ms = self.received_ms.get(item_id, 0)
                    self.out.truncates.append(
                        {"t": self.t, "item_id": item_id, "audio_end_ms": end_ms}
                    )
                    self._say("action", f"truncate {item_id} at {end_ms} ms")
                    self.out.transcript.mark_interrupted(item_id, end_ms)
                case turns.Send(command=command):
                    self._say("action", f"send {type(command).__name__}")
                case turns.FlushPlayback():
                    self._say("action", "stop the reply's playback")
                case turns.Hint(text=text):
                    self._notice(text)
                case turns.PhaseChanged(phase=phase):
                    self._say("state", phase.value)

    def _policy_for(self, session: dict[str, Any]) -> None:
        if self.policy is not None:
            return
        kind = summarize(session).turn_detection
        mode = (
            turns.Mode(kind) if kind in ("server_vad", "semantic_vad") else turns.Mode.PUSH_TO_TALK
        )
        self.policy = turns.TurnPolicy(mode)
        self._do(self.policy.start())
        self._say("mode", mode.value)

    def _notice(self, text: str) -> None:
        self.out.notices.append(text)
        self._say("notice", text)

    def _say(self, kind: str, text: str, merge: bool = False) -> None:
        """One line; a run of the same delta is one line with its count."""
        key = (kind, text)
        if merge and key == self._last:
            self._repeats += 1
            self.out.lines[-1] = f"{self._first_line} ×{self._repeats}"
            return
        self._last, self._repeats = (key if merge else None), 1
        self._first_line = f"{self.t:9.3f}  {kind:<7} {text}"
        self.out.lines.append(self._first_line)


def _with_audio(value: object) -> object:
    """A capture's audio stubs back as that many bytes of silence, base64 (what the wire held)."""
    if is_audio_stub(value):
        silence = bytes(int(value["audio_bytes"]))  # type: ignore[index]
        return base64.b64encode(silence).decode("ascii")
    if isinstance(value, dict):
        return {k: _with_audio(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_audio(v) for v in value]
    return value


def _fields(event: ev.ServerEvent) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, bytes):
            out[f"{f.name}_ms"] = round(duration_ms(value))
        elif isinstance(value, (str, int, float, bool, type(None))):
            out[f.name] = value
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            out[f.name] = list(value)
    return out


def _describe(event: ev.ServerEvent) -> str:
    match event:
        case ev.AudioDelta(item_id=item_id):
            return f"AudioDelta {item_id}"
        case ev.TranscriptDelta(role=role, item_id=item_id):
            return f"TranscriptDelta {role} {item_id}"
        case ev.TranscriptDone(role=role, text=text, from_deltas=from_deltas):
            return f"TranscriptDone {role}: {text!r}{' (from its deltas)' if from_deltas else ''}"
        case ev.MalformedEvent(wire_type=wire_type, problem=problem):
            return f"MalformedEvent {wire_type or 'frame'}: {problem}"
        case ev.Unrecognized(wire_type=wire_type):
            return f"Unrecognized {wire_type}"
        case ev.ResponseDone(status=status, reason=reason):
            return f"ResponseDone {status}{f' ({reason})' if reason else ''}"
        case ev.ServerError(code=code, message=message):
            return f"ServerError {code}: {message}"
    return type(event).__name__
