"""A Realtime connection without I/O: commands in → wire text out; wire text in → events out.

The caller owns the socket (h11 style). Every frame the service sends becomes events or a
`MalformedEvent`; nothing raised here is the remote side's fault.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from typing import Any

from talkapp.protocol import events as ev
from talkapp.protocol.accepted import SessionSummary, differences, summarize
from talkapp.protocol.commands import Command, ConfigureSession
from talkapp.protocol.decoding import Decoder, WireShapeError
from talkapp.protocol.dialect import Dialect
from talkapp.protocol.encoding import encode

_REMEMBERED_EVENTS = 256  # enough to attribute an error to the command that caused it
_OPEN_TRANSCRIPTS = 64  # items whose transcript is still streaming (an interrupted one never ends)


class RealtimeConnection:
    def __init__(self, dialect: Dialect, id_prefix: str = "talkapp") -> None:
        self.dialect = dialect
        self._id_prefix = id_prefix
        self._sent = 0
        self._sent_commands: OrderedDict[str, str] = OrderedDict()
        # Deltas per (role, item) until their `done`: a `done` without text is completed from them.
        self._deltas: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._started = False  # xAI may open with conversation.created, session.created or both
        self._asked: SessionSummary | None = None  # our last session.update, to check the reply
        self._codec = dialect.codec(dialect.session_shape) if dialect.codec is not None else None

    def frames(self, command: Command) -> tuple[str, ...]:
        """The wire text for one command: one frame for OpenAI's dialects; none, one or more
        for a dialect with its own codec (Gemini: activityStart before the first audio, nothing
        for a command it has no message for)."""
        if self._codec is None:
            return (self.send(command),)
        return tuple(json.dumps(w, separators=(",", ":")) for w in self._codec.encode(command))

    def send(self, command: Command) -> str:
        """The wire text for one command, with a fresh client `event_id` (OpenAI's dialects)."""
        if self._codec is not None:
            raise TypeError(f"the {self.dialect.label} dialect sends frames(): use that")
        self._sent += 1
        event_id = f"{self._id_prefix}_{self._sent}"
        self._sent_commands[event_id] = type(command).__name__
        if len(self._sent_commands) > _REMEMBERED_EVENTS:
            self._sent_commands.popitem(last=False)
        wire = {"event_id": event_id} | encode(
            command, self.dialect.session_shape, self.dialect.assistant_text
        )
        if isinstance(command, ConfigureSession) and isinstance(wire.get("session"), dict):
            self._asked = summarize(wire["session"])
        return json.dumps(wire, separators=(",", ":"))

    def observe_sent(self, wire: dict[str, Any]) -> None:
        """A client event sent by another hand (a replayed capture): remembered as if sent."""
        if wire.get("type") == "session.update" and isinstance(wire.get("session"), dict):
            self._asked = summarize(wire["session"])

    def receive(self, frame: str | bytes) -> tuple[ev.ServerEvent, ...]:
        if isinstance(frame, bytes):
            return (ev.MalformedEvent(None, "binary frame (events are JSON text)"),)
        try:
            raw = json.loads(frame)
        except ValueError:
            return (ev.MalformedEvent(None, "not valid JSON"),)
        except RecursionError:  # hostile nesting ([[[[…]]]] 200,000 deep): data, not a crash
            return (ev.MalformedEvent(None, "JSON nested too deeply"),)
        if self._codec is not None:
            if not isinstance(raw, dict):
                return (ev.MalformedEvent(None, "not a JSON object"),)
            return self._decoded(None, self._codec.decode, raw)
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            return (ev.MalformedEvent(None, "no event type"),)
        return self._decode(raw)

    def command_for(self, client_event_id: str | None) -> str | None:
        """Name of our command that carried this `event_id` (for explaining errors)."""
        return self._sent_commands.get(client_event_id) if client_event_id else None

    def _decode(self, raw: dict[str, Any]) -> tuple[ev.ServerEvent, ...]:
        wire_type = raw["type"]
        decoder = self.dialect.decoders.get(wire_type)
        if decoder is None:
            return (ev.Unrecognized(wire_type),)
        return self._decoded(wire_type, decoder, raw)

    def _decoded(
        self, wire_type: str | None, decoder: Decoder, raw: dict[str, Any]
    ) -> tuple[ev.ServerEvent, ...]:
        try:
            decoded = decoder(raw)
        except WireShapeError as problem:
            return (ev.MalformedEvent(wire_type, str(problem)),)
        except (RecursionError, ArithmeticError, LookupError, TypeError, ValueError) as problem:
            # A shape no decoder foresaw is still the remote side's fault, not a reason to die.
            return (ev.MalformedEvent(wire_type, f"cannot be decoded ({type(problem).__name__})"),)
        opened = (event for event in decoded if self._first(event))
        return tuple(self._completed(self._attribute(event)) for event in opened)

    def _first(self, event: ev.ServerEvent) -> bool:
        """Only the first event that opens the session does (xAI: whichever comes first)."""
        if not isinstance(event, ev.SessionStarted):
            return True
        first, self._started = not self._started, True
        return first

    def _completed(self, event: ev.ServerEvent) -> ev.ServerEvent:
        match event:
            case ev.TranscriptDelta(role=role, item_id=item_id, text=text):
                self._deltas.setdefault((role, item_id), []).append(text)
                while len(self._deltas) > _OPEN_TRANSCRIPTS:
                    self._deltas.popitem(last=False)
            case ev.TranscriptDone(role=role, item_id=item_id, from_deltas=from_deltas):
                parts = self._deltas.pop((role, item_id), [])
                if from_deltas:
                    return dataclasses.replace(event, text="".join(parts))
            case ev.SessionConfigured(accepted=accepted) if accepted and self._asked:
                said = differences(self._asked, accepted)
                return dataclasses.replace(event, differences=said)
        return event

    def _attribute(self, event: ev.ServerEvent) -> ev.ServerEvent:
        if isinstance(event, ev.ServerError) and event.client_event_id:
            return dataclasses.replace(event, caused_by=self.command_for(event.client_event_id))
        return event
