"""One connection of the simulated service: client frames in, server events out (sans I/O).

Every transition of session, conversation, input-buffer and response state lives here; this
file does not know which dialect is speaking (the `Dialect` table does) and never touches a
socket or a clock (the server drives it and runs the response steps it hands out).

Order per frame (reference §11): frame kind → JSON → known `type` → schema → state rules →
effect. A rule breaks by raising `ClientEventRejected` before anything changed, so a rejected
event is rejected whole and yields exactly one `error`.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable

from talkapp.simulator import errors, mcp, replies, shapes, usage
from talkapp.simulator.catalogue import max_output_tokens
from talkapp.simulator.config import SimulatorConfig
from talkapp.simulator.conversation import Conversation, Item, Part
from talkapp.simulator.dialect import dialect_for, lookup
from talkapp.simulator.errors import ClientEventRejected, Fault, reject
from talkapp.simulator.handshake import Admitted
from talkapp.simulator.ids import Ids
from talkapp.simulator.input_audio import InputAudio
from talkapp.simulator.items import from_wire
from talkapp.simulator.responses import Ledger, Responder, Response, Style
from talkapp.simulator.session_shapes import merged
from talkapp.simulator.settings import resolve, session_value
from talkapp.simulator.shapes import Stamp
from talkapp.simulator.vad import SpeechStarted, SpeechStopped, VadEdge
from talkapp.simulator.validate import first_fault
from talkapp.simulator.wire_audio import codec_of

MIN_COMMIT_MS = 100.0


def _no_constants(name: str) -> float:
    # Python's json accepts NaN and Infinity; JSON (and so the service) does not.
    raise ValueError(f"{name} is not JSON")


class Engine:
    def __init__(
        self,
        admitted: Admitted,
        config: SimulatorConfig,
        *,
        connection_no: int,
        now: float,
        azure: bool = False,  # Azure's doors cap sessions at their own limit
    ) -> None:
        self._azure_cap_minutes = round(config.azure_cap_s / 60) if azure else None
        self.dialect = dialect_for(admitted.dialect, admitted.model)
        self.model = admitted.model or ""
        self.transcription_only = admitted.intent == "transcription"
        self.ids = Ids(config.seed, connection_no)
        self.ev = Stamp(self.ids, self.dialect.omits)
        self._session_first = config.xai_opens_with == "session"
        self.session = self._initial_session(config, now, azure)
        self.conversation = Conversation(self.ids.conversation())
        self.ledger = Ledger()
        self.audio = InputAudio()
        self.responder = Responder(
            self.dialect, self.ids, self.conversation, self.ledger, self._style(config)
        )
        self.responses: list[Response] = []
        self._started: list[Response] = []
        self._speech: tuple[str, int] | None = None  # (announced user item id, audio_start_ms)
        self._mcp_listed: dict[str, str] = {}  # MCP server label -> its tool definition, as listed
        self.closing = False  # the client sent session.close
        self._follow_session()

    def _initial_session(self, config: SimulatorConfig, now: float, azure: bool) -> dict:
        dialect = self.dialect
        make = (
            dialect.transcription_session if self.transcription_only else dialect.realtime_session
        )
        cap = config.cap_for(dialect.name, azure)
        return make(self.ids.session(), self.model, int(now + cap))

    def _style(self, config: SimulatorConfig) -> Style:
        think = config.latency_for(self.model)
        return Style(config.seed, config.audio_chunk_ms, think, config.rate_limit_tokens)

    # --- frames -------------------------------------------------------------------------------

    def opening(self) -> list[dict]:
        def session() -> dict:
            return self.ev(self._session_event("created"), session=copy.deepcopy(self.session))

        if not self.dialect.conversation_first:
            return [session()]
        # xAI: accounts differ on which comes first (`SimulatorConfig.xai_opens_with`)
        conversation = {"id": self.conversation.id, "object": "realtime.conversation"}
        if self._session_first:
            return [session(), self.ev("conversation.created", conversation=conversation)]
        return [self.ev("conversation.created", conversation=conversation), session()]

    def receive_binary(self) -> list[dict]:
        return [self._error(errors.BINARY_FRAME)]

    def receive_text(self, text: str) -> list[dict]:
        try:
            event = json.loads(text, parse_constant=_no_constants)
        except (ValueError, RecursionError):
            return [self._error(errors.BAD_JSON)]
        return self.receive(event)

    def receive(self, event: object) -> list[dict]:
        """A parsed client event: validated, checked against the state rules, then applied."""
        fields = event if isinstance(event, dict) else {}
        client_id, kind = fields.get("event_id"), fields.get("type")
        if not isinstance(kind, str) or (schema := self.dialect.events.get(kind)) is None:
            return [
                self._error(errors.unknown_event_type(kind, self.dialect.client_types), client_id)
            ]
        if (fault := first_fault(schema, fields)) is not None:
            return [self._error(fault, client_id)]
        try:
            return _HANDLERS[kind](self, fields)
        except ClientEventRejected as rejected:
            return [self._error(rejected.fault, client_id)]

    def take_started(self) -> list[Response]:
        """Responses created since the last call; the server runs each one's steps."""
        started, self._started = self._started, []
        return started

    def expired(self) -> list[dict]:
        minutes = self._azure_cap_minutes or self.dialect.cap_minutes
        return [self._error(errors.session_expired(minutes))]

    def _error(self, fault: Fault, client_id: object = None) -> dict:
        return errors.error_event(self.ids.event(), fault, client_id)

    # --- session ------------------------------------------------------------------------------

    def _session_update(self, event: dict) -> list[dict]:
        update = event["session"]
        self._check_kind(update.get("type") == "transcription", "session.type")
        self._check_model(update.get("model"))
        self._check_voice(update, self.dialect.session_paths["voice"], "session")
        self._check_max_tokens(update, self.dialect.session_paths.get("max_tokens"), "session")
        return self._apply(update) + self._list_mcp_tools()

    def keep_voice(self, voice: str) -> None:
        """A service that keeps its own voice, without an error (the `keep_voice` knob)."""
        path = self.dialect.session_paths["voice"]
        node = self.session
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = voice

    def _transcription_session_update(self, event: dict) -> list[dict]:
        self._check_kind(True, "type")
        return self._apply(event["session"])

    def _apply(self, update: dict) -> list[dict]:
        self.session = merged(self.session, update)
        self._follow_session()
        return [self.ev(self._session_event("updated"), session=copy.deepcopy(self.session))]

    def _list_mcp_tools(self) -> list[dict]:
        """Each MCP server newly in the session gets its tool list at once (simulated: no
        network), as an `mcp_list_tools` item: added empty, in progress, completed, done full."""
        events: list[dict] = []
        tools = session_value(self.session, self.dialect, "tools")  # a list, or None (absent)
        for server in mcp.servers(tools if isinstance(tools, list) else []):
            label, definition = server["server_label"], json.dumps(server, sort_keys=True)
            if self._mcp_listed.get(label) == definition:
                continue
            self._mcp_listed[label] = definition
            item_id = "mcpl_" + self.ids.item().removeprefix("item_")
            fields = {"server_label": label, "tools": []}
            item = Item(id=item_id, type="mcp_list_tools", fields=fields)
            previous = self.conversation.insert(item)
            events.append(shapes.item_added(self.ev, self.dialect, item, previous))
            events.append(self.ev("mcp_list_tools.in_progress", item_id=item_id))
            fields["tools"] = mcp.listed_tools(server)
            events.append(self.ev("mcp_list_tools.completed", item_id=item_id))
            events += shapes.item_done(self.ev, self.dialect, item, previous)
        return events

    def _session_event(self, suffix: str) -> str:
        prefix = self.dialect.transcription_session_event if self.transcription_only else None
        return f"{prefix or 'session'}.{suffix}"

    def _follow_session(self) -> None:
        turn = session_value(self.session, self.dialect, "turn_detection")
        codec = codec_of(session_value(self.session, self.dialect, "input_format"))
        self.audio.configure(turn, codec)

    def _check_kind(self, wants_transcription: bool, param: str) -> None:
        if wants_transcription == self.transcription_only:
            return
        kinds = ("transcription", "realtime")
        given, actual = kinds if wants_transcription else kinds[::-1]
        reject(errors.session_kind_mismatch(given, actual, param))

    def _check_model(self, model: object) -> None:
        if model is not None and model != self.model:
            reject(errors.model_locked(model))

    def _check_max_tokens(self, given: dict, path: tuple[str, ...] | None, prefix: str) -> None:
        """The output limit is the model's (the schema checks only its type and minimum)."""
        if not path:
            return  # the dialect has no such setting here
        value = lookup(given, path)
        limit = max_output_tokens(self.model)
        if isinstance(value, int) and not isinstance(value, bool) and value > limit:
            param = ".".join((prefix, *path))
            reject(errors.out_of_range(param, "integer", value, limit, below=False))

    def _check_voice(self, overrides: dict, path: tuple[str, ...], prefix: str) -> None:
        new = lookup(overrides, path)
        current = session_value(self.session, self.dialect, "voice")
        if new is not None and new != current and self.ledger.audio_present:
            reject(errors.voice_locked(".".join((prefix, *path))))

    # --- input audio --------------------------------------------------------------------------

    def _append(self, event: dict) -> list[dict]:
        edges = self.audio.append(base64.b64decode(event["audio"]))
        return [e for edge in edges for e in self._on_edge(edge)]

    def _on_edge(self, edge: VadEdge) -> list[dict]:
        match edge:
            case SpeechStarted(audio_start_ms=start):
                return self._speech_started(start)
            case SpeechStopped(audio_end_ms=end):
                return self._speech_stopped(end)

    def _speech_started(self, start: int) -> list[dict]:
        item_id = self.ids.item()  # the user item this speech will become
        self._speech = (item_id, start)
        events = [
            self.ev("input_audio_buffer.speech_started", audio_start_ms=start, item_id=item_id)
        ]
        running = self._conversation_response()
        if running is not None and self._turn().get("interrupt_response", True):
            events += self._cancel(running, "turn_detected")
        return events

    def _speech_stopped(self, end: int) -> list[dict]:
        item_id, start = self._speech or (self.ids.item(), end)
        self._speech = None
        events = [self.ev("input_audio_buffer.speech_stopped", audio_end_ms=end, item_id=item_id)]
        events += self._commit_audio(self.audio.take_span(start, end), item_id)
        if self._turn().get("create_response", True) and self._may_respond():
            events += self._start_response({})
        return events

    def _commit(self, event: dict) -> list[dict]:
        if self.audio.buffered_ms < MIN_COMMIT_MS:
            reject(errors.commit_empty(self.audio.buffered_ms))
        item_id = self._speech[0] if self._speech else self.ids.item()  # pre-empts the VAD commit
        self._speech = None
        return self._commit_audio(self.audio.take_all(), item_id)

    def _clear(self, event: dict) -> list[dict]:
        self.audio.take_all()
        self._speech = None
        return [self.ev("input_audio_buffer.cleared")]

    def _commit_audio(self, pcm: bytes, item_id: str) -> list[dict]:
        part = Part(kind="input_audio", audio=pcm)
        item = Item(id=item_id, type="message", role="user", parts=[part])
        previous = self.conversation.insert(item)
        committed = self.ev(
            "input_audio_buffer.committed", previous_item_id=previous, item_id=item_id
        )
        created = shapes.item_created(self.ev, self.dialect, item, previous)
        return [committed, *created, *self._transcribe(item)]

    def _transcribe(self, item: Item) -> list[dict]:
        """Input transcription, when configured: an honest placeholder (no speech recognition)."""
        if session_value(self.session, self.dialect, "transcription") is None:
            return []
        part = item.parts[0]
        part.text = f"({part.audio_ms / 1000:.1f} s of speech — the simulator does not transcribe)"
        where = {"item_id": item.id, "content_index": 0}
        return [
            self.ev("conversation.item.input_audio_transcription.delta", **where, delta=part.text),
            self.ev(
                "conversation.item.input_audio_transcription.completed",
                **where,
                transcript=part.text,
                usage=usage.transcription_usage(part.audio_ms, part.text),
            ),
        ]

    def _turn(self) -> dict:
        turn = session_value(self.session, self.dialect, "turn_detection")
        return turn if isinstance(turn, dict) else {}

    # --- conversation items -------------------------------------------------------------------

    def _item_create(self, event: dict) -> list[dict]:
        wire, previous = event["item"], event.get("previous_item_id")
        self._check_new_item(wire, previous)
        item = self._from_wire(wire)
        after = self.conversation.insert(item, previous)
        return shapes.item_created(self.ev, self.dialect, item, after)

    def _check_new_item(self, wire: dict, previous: str | None) -> None:
        if previous is not None and not self.conversation.exists(previous):
            reject(errors.previous_item_missing(previous))
        if "id" in wire and self.conversation.find(wire["id"]) is not None:
            reject(errors.duplicate_item(wire["id"]))
        is_output = wire["type"] == "function_call_output"
        if is_output and self.conversation.call(wire["call_id"]) is None:
            reject(errors.unknown_call(wire["call_id"]))
        if wire["type"] == "mcp_approval_response":
            self._check_approval(wire["approval_request_id"])

    def _check_approval(self, request_id: str) -> None:
        """An answer must name an approval request of this conversation, once (our wording:
        the reference records none)."""
        request = self.conversation.find(request_id)
        if request is None or request.type != "mcp_approval_request":
            message = f"No MCP approval request with id '{request_id}' found in the conversation."
            reject(Fault("invalid_value", message, "item.approval_request_id"))
        answered = any(
            i.type == "mcp_approval_response" and i.fields.get("approval_request_id") == request_id
            for i in self.conversation.items
        )
        if answered:
            message = f"The MCP approval request '{request_id}' was already answered."
            reject(Fault("invalid_value", message, "item.approval_request_id"))

    def _from_wire(self, wire: dict) -> Item:
        ids, codec = self.ids, self.audio.codec
        return from_wire(wire, self.dialect, item_id=ids.item(), call_id=ids.call(), codec=codec)

    def _find(self, item_id: str, code: str) -> Item:
        item = self.conversation.find(item_id)
        if item is None:
            reject(errors.item_not_found(code, item_id))
        return item

    def _truncate(self, event: dict) -> list[dict]:
        item = self._find(event["item_id"], "item_truncate_invalid_item_id")
        end = event["audio_end_ms"]
        part = item.audio_part() if item.role == "assistant" else None
        if part is None:
            reject(errors.NOT_TRUNCATABLE)
        if end > part.audio_ms:
            reject(errors.audio_shorter(part.audio_ms, end))
        _cut(part, end)
        where = {"item_id": item.id, "content_index": 0, "audio_end_ms": end}
        return [self.ev("conversation.item.truncated", **where)]

    def _delete(self, event: dict) -> list[dict]:
        item = self._find(event["item_id"], "item_delete_invalid_item_id")
        self.conversation.delete(item.id)
        return [self.ev("conversation.item.deleted", item_id=item.id)]

    def _retrieve(self, event: dict) -> list[dict]:
        item = self._find(event["item_id"], "item_retrieve_invalid_item_id")
        rendered = shapes.item(item, self.dialect, with_audio=True)
        return [self.ev("conversation.item.retrieved", item=rendered)]

    # --- responses ----------------------------------------------------------------------------

    def _response_create(self, event: dict) -> list[dict]:
        overrides = event.get("response") or {}
        if self.transcription_only:
            reject(errors.NO_RESPONSES)
        self._check_voice(overrides, self.dialect.response_paths["voice"], "response")
        self._check_max_tokens(overrides, self.dialect.response_paths.get("max_tokens"), "response")
        running = self._conversation_response()
        if overrides.get("conversation", "auto") == "auto" and running is not None:
            reject(errors.active_response(running.id))
        return self._start_response(overrides, self._context(overrides.get("input")))

    def _context(self, given: list | None) -> list[Item]:
        """What the response reads: the conversation, or the response's own `input`."""
        if given is None:
            return list(self.conversation.items)
        return [self._input_item(entry, i) for i, entry in enumerate(given)]

    def _input_item(self, entry: dict, index: int) -> Item:
        if entry["type"] != "item_reference":
            return self._from_wire(entry)
        item = self.conversation.find(entry["id"])
        if item is None:
            reject(
                errors.item_not_found("invalid_value", entry["id"], f"response.input[{index}].id")
            )
        return item

    def _start_response(self, overrides: dict, context: list[Item] | None = None) -> list[dict]:
        params = resolve(self.session, overrides, self.dialect)
        context = list(self.conversation.items) if context is None else context
        tools = params.tools or []
        reply = replies.plan(
            context, tools, params.tool_choice, model=self.model, dialect=self.dialect.label
        )
        read = usage.context_tokens(params.instructions or "", tools, context)
        r = Response(
            id=self.ids.response(),
            params=params,
            reply=reply,
            input_tokens=read,
            conversation_id=self.conversation.id if params.conversation == "auto" else None,
            cached_tokens=usage.cached(self.ledger.last_context, read),
        )
        self.responses = [x for x in self.responses if x.active] + [r]
        self._started.append(r)
        return [self.responder.created(r)]

    def _response_cancel(self, event: dict) -> list[dict]:
        wanted = event.get("response_id")
        target = (
            next((r for r in self.responses if r.active and r.id == wanted), None)
            if wanted
            else self._conversation_response()
        )
        if target is None:
            reject(errors.CANCEL_NOT_ACTIVE)
        return self._cancel(target, "client_cancelled")

    def _cancel(self, r: Response, reason: str) -> list[dict]:
        return self.responder.finish(r, "cancelled", {"type": "cancelled", "reason": reason})

    def _conversation_response(self) -> Response | None:
        return next((r for r in self.responses if r.active and r.conversation_id is not None), None)

    def _may_respond(self) -> bool:
        return not self.transcription_only and self._conversation_response() is None

    def _session_close(self, event: dict) -> list[dict]:
        self.closing = True
        return []


def _cut(part: Part, end_ms: int) -> None:
    """Truncation drops the unheard audio and the matching share of the transcript."""
    words = (part.text or "").split()
    keep = round(len(words) * end_ms / part.audio_ms) if part.audio_ms else 0
    part.audio = part.audio[: int(end_ms * 24) * 2]
    part.text = " ".join(words[:keep])


_HANDLERS: dict[str, Callable[[Engine, dict], list[dict]]] = {
    "session.update": Engine._session_update,
    "transcription_session.update": Engine._transcription_session_update,
    "session.close": Engine._session_close,
    "input_audio_buffer.append": Engine._append,
    "session.input_audio_buffer.append": Engine._append,
    "input_audio_buffer.commit": Engine._commit,
    "input_audio_buffer.clear": Engine._clear,
    "conversation.item.create": Engine._item_create,
    "conversation.item.truncate": Engine._truncate,
    "conversation.item.delete": Engine._delete,
    "conversation.item.retrieve": Engine._retrieve,
    "response.create": Engine._response_create,
    "response.cancel": Engine._response_cancel,
}
