"""One response's lifecycle as a sequence of steps (pure: no clock, no socket).

`Responder.steps(response)` yields either a pause (`Think`, `Pace`) or a batch of server events
to send at once; the server's runner sleeps on pauses and sends batches, and stops pulling as
soon as the response is no longer active. State changes (the assistant item growing, the voice
lock, token counts) happen when a batch is generated, i.e. exactly when it is sent, so a cancel
or truncate that arrives mid-stream sees what the client really received. `finish` closes
whatever is open, in the service's order (reference §3.5, §5.2), for completion and cancel alike.

A response may hold several output items, produced one after another at growing
`output_index`: parallel function calls, or an MCP call followed by the message that speaks its
output (reference §5.3). Each item is closed before the next one opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from talkapp.simulator import shapes, usage, voice
from talkapp.simulator.conversation import Conversation, Item, Part
from talkapp.simulator.dialect import Dialect
from talkapp.simulator.ids import Ids
from talkapp.simulator.replies import (
    AskApproval,
    CallFunction,
    CallFunctions,
    CallMcp,
    Reply,
    Speak,
)
from talkapp.simulator.settings import ResponseParams
from talkapp.simulator.shapes import Stamp
from talkapp.simulator.usage import Tokens
from talkapp.simulator.wire_audio import from_pcm24


@dataclass(frozen=True)
class Think:
    seconds: float  # the model's latency before its first output


@dataclass(frozen=True)
class Pace:
    ms: float  # media time between two deltas; the runner divides by the audio pace


Step = Think | Pace | list


@dataclass
class Ledger:
    """Per-connection facts responses share: the voice lock, budgets, the cached prefix."""

    audio_present: bool = False
    tokens_used: int = 0
    requests: int = 0
    last_context: Tokens | None = None


@dataclass
class Response:
    id: str
    params: ResponseParams
    conversation_id: str | None  # None: out of band (`conversation: "none"`)
    reply: Reply
    input_tokens: Tokens
    cached_tokens: Tokens
    status: str = "in_progress"
    item: Item | None = None  # the output item being produced
    part: Part | None = None
    previous_id: str | None = None
    outputs: list[Item] = field(default_factory=list)  # finished output items, in order
    audio_deltas: int = 0
    truncated_by_limit: bool = False
    output_tokens: Tokens = field(default_factory=Tokens)

    @property
    def active(self) -> bool:
        return self.status == "in_progress"

    @property
    def output_index(self) -> int:
        """The index of the item being produced (items before it are finished)."""
        return len(self.outputs)


@dataclass(frozen=True)
class Style:
    """How this connection's model answers: voice seed, delta size, think time, budget."""

    seed: int
    chunk_ms: int
    think_s: float
    rate_limit: int


class Responder:
    def __init__(
        self, dialect: Dialect, ids: Ids, conversation: Conversation, ledger: Ledger, style: Style
    ) -> None:
        self.dialect, self.ids, self.conversation, self.ledger = dialect, ids, conversation, ledger
        self.style = style
        self.chunk_ms = style.chunk_ms
        self.ev = Stamp(ids, dialect.omits)

    def created(self, r: Response) -> dict:
        return self.ev("response.created", response=self._object(r))

    def steps(self, r: Response) -> Iterator[Step]:
        yield Think(self.style.think_s)
        for i, output in enumerate(_outputs(r.reply)):
            if i:
                yield self._close_item(r, "completed")
            yield from self._output_steps(r, output)
        yield self.finish(r, *self._ending(r))

    def _output_steps(self, r: Response, output: Reply) -> Iterator[Step]:
        """One output item's events; the item is left open (the next step closes it)."""
        match output:
            case CallFunction():
                yield from self._call_steps(r, output)
            case AskApproval():
                yield self._approval_request(r, output)
            case CallMcp():
                yield from self._mcp_steps(r, output)
            case Speak(text=text) if r.params.audio:
                yield from self._audio_steps(r, self._fit(r, text, audio=True))
            case Speak(text=text):
                yield from self._text_steps(r, self._fit(r, text, audio=False))

    # --- messages -----------------------------------------------------------------------------

    def _audio_steps(self, r: Response, words: list[str]) -> Iterator[Step]:
        pcm = self._voice(r, words)
        step = 48 * self.chunk_ms  # bytes of PCM16 24 kHz per delta
        chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
        schedule = _spread(words, len(chunks))
        yield self._open(r, "audio")
        for i, chunk in enumerate(chunks):
            if i:
                yield Pace(self.chunk_ms)
            yield self._audio_delta(r, chunk, schedule[i])

    def _voice(self, r: Response, words: list[str]) -> bytes:
        if not words:
            return b""
        speed = r.params.speed or 1.0
        return voice.synthesize(
            " ".join(words), voice=r.params.voice_name, speed=speed, seed=self.style.seed
        )

    def _text_steps(self, r: Response, words: list[str]) -> Iterator[Step]:
        yield self._open(r, "text")
        for i in range(0, len(words), 3):
            if i:
                yield Pace(self.chunk_ms / 2)
            yield [self._text_delta(r, words[i : i + 3], self.dialect.text_delta)]

    def _open(self, r: Response, kind: str) -> list[dict]:
        item = Item(id=self.ids.item(), type="message", status="in_progress", role="assistant")
        events = self._announce(r, item)
        r.part = Part(kind=kind, text="")
        item.parts.append(r.part)
        part = shapes.content_part(kind, "")
        return [*events, self.ev("response.content_part.added", **self._part_ref(r), part=part)]

    def _announce(self, r: Response, item: Item) -> list[dict]:
        """output_item.added, then the conversation's own announcement (in-conversation only)."""
        r.item = item
        events = [
            self.ev(
                "response.output_item.added",
                response_id=r.id,
                output_index=r.output_index,
                item=shapes.item(item, self.dialect),
            )
        ]
        if r.conversation_id is not None:
            r.previous_id = self.conversation.insert(item)
            events.append(shapes.item_added(self.ev, self.dialect, item, r.previous_id))
        return events

    def _audio_delta(self, r: Response, pcm: bytes, words: list[str]) -> list[dict]:
        events = [self._text_delta(r, words, self.dialect.transcript_delta)] if words else []
        assert r.part is not None  # _open made it; a batch is made only while it is open
        r.part.audio += pcm
        r.audio_deltas += 1
        self.ledger.audio_present = True
        delta = shapes.b64(from_pcm24(pcm, r.params.codec))
        return [*events, self.ev(self.dialect.audio_delta, **self._part_ref(r), delta=delta)]

    def _text_delta(self, r: Response, words: list[str], name: str) -> dict:
        part = r.part
        assert part is not None and part.text is not None  # _open made it, with text ""
        delta = (" " if part.text else "") + " ".join(words)
        part.text += delta
        return self.ev(name, **self._part_ref(r), delta=delta)

    # --- function calls -----------------------------------------------------------------------

    def _call_steps(self, r: Response, call: CallFunction) -> Iterator[Step]:
        fields = {"name": call.name, "call_id": self.ids.call(), "arguments": ""}
        item = Item(id=self.ids.item(), type="function_call", status="in_progress", fields=fields)
        yield self._announce(r, item)
        half = max(1, len(call.arguments) // 2)
        for i, chunk in enumerate((call.arguments[:half], call.arguments[half:])):
            if i:
                yield Pace(self.chunk_ms / 2)
            if chunk:
                item.fields["arguments"] += chunk
                ref = shapes.ref(r.id, item, r.output_index)
                yield [
                    self.ev(
                        "response.function_call_arguments.delta",
                        **ref,
                        call_id=fields["call_id"],
                        delta=chunk,
                    )
                ]

    # --- MCP (GA only): the service runs the call itself -----------------------------------------

    def _approval_request(self, r: Response, ask: AskApproval) -> list[dict]:
        fields = {"server_label": ask.server, "name": ask.name, "arguments": ask.arguments}
        item_id = "mcpr_" + self.ids.item().removeprefix("item_")
        return self._announce(r, Item(id=item_id, type="mcp_approval_request", fields=fields))

    def _mcp_steps(self, r: Response, call: CallMcp) -> Iterator[Step]:
        fields = {"server_label": call.server, "name": call.name, "arguments": ""}
        if call.approval_request_id:
            fields["approval_request_id"] = call.approval_request_id
        item_id = "mcp_" + self.ids.item().removeprefix("item_")
        item = Item(id=item_id, type="mcp_call", status="in_progress", fields=fields)
        yield self._announce(r, item)
        ref = shapes.ref(r.id, item, r.output_index)
        half = max(1, len(call.arguments) // 2)
        for chunk in (call.arguments[:half], call.arguments[half:]):
            if chunk:
                item.fields["arguments"] += chunk
                yield [self.ev("response.mcp_call_arguments.delta", **ref, delta=chunk)]
        where = {"item_id": item.id, "output_index": r.output_index}
        yield [
            self.ev("response.mcp_call_arguments.done", **ref, arguments=item.fields["arguments"]),
            self.ev("response.mcp_call.in_progress", **where),
        ]
        yield Pace(self.chunk_ms)  # the remote server at work
        item.fields["output"] = call.output
        yield [self.ev("response.mcp_call.completed", **where)]

    # --- endings ------------------------------------------------------------------------------

    def finish(self, r: Response, status: str, details: dict | None = None) -> list[dict]:
        """Close the open part and item, then response.done and rate_limits.updated."""
        events: list[dict] = []
        if r.item is not None:
            events += self._close_item(r, "completed" if status == "completed" else "incomplete")
        r.status = status
        r.output_tokens = _produced(r)
        self.ledger.tokens_used += r.input_tokens.total + r.output_tokens.total
        self.ledger.requests += 1
        self.ledger.last_context = r.input_tokens
        done = self.ev("response.done", response=self._object(r, details))
        limits = usage.rate_limits(
            self.dialect.rate_limit_names,
            self.style.rate_limit,
            self.ledger.tokens_used,
            self.ledger.requests,
        )
        return [*events, done, self.ev("rate_limits.updated", rate_limits=limits)]

    def _close_item(self, r: Response, item_status: str) -> list[dict]:
        item, events = r.item, []
        assert item is not None  # callers close only an open item
        if item.type == "function_call":
            events.append(self._args_done(r, item))
        elif item.type == "mcp_call" and "output" not in item.fields:
            item.fields["error"] = {
                "type": "tool_execution_error",
                "message": "The call was cancelled.",
            }
        elif r.part is not None:
            events += self._close_part(r)
        item.status = item_status
        if r.conversation_id is not None:
            events += shapes.item_done(self.ev, self.dialect, item, r.previous_id)
        rendered = shapes.item(item, self.dialect)
        done = self.ev(
            "response.output_item.done",
            response_id=r.id,
            output_index=r.output_index,
            item=rendered,
        )
        r.outputs.append(item)
        r.item, r.part = None, None
        return [*events, done]

    def _close_part(self, r: Response) -> list[dict]:
        part = r.part
        assert part is not None  # _close_item checked
        text, ref = part.text or "", self._part_ref(r)
        if part.kind == "audio":
            closing = [
                self.ev(self.dialect.audio_done, **ref),
                self.ev(self.dialect.transcript_done, **ref, transcript=text),
            ]
        else:
            closing = [self.ev(self.dialect.text_done, **ref, text=text)]
        return [
            *closing,
            self.ev("response.content_part.done", **ref, part=shapes.content_part(part.kind, text)),
        ]

    def _args_done(self, r: Response, item: Item) -> dict:
        name = {"name": item.fields["name"]} if self.dialect.args_done_has_name else {}
        ref = shapes.ref(r.id, item, r.output_index)
        return self.ev(
            "response.function_call_arguments.done",
            **ref,
            call_id=item.fields["call_id"],
            arguments=item.fields["arguments"],
            **name,
        )

    def _ending(self, r: Response) -> tuple[str, dict | None]:
        if r.truncated_by_limit:
            return "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        return "completed", None

    def _object(self, r: Response, details: dict | None = None) -> dict:
        done = not r.active
        use = (
            usage.response_usage(
                r.input_tokens,
                r.cached_tokens,
                r.output_tokens,
                image_tokens=self.dialect.image_tokens,
            )
            if done
            else None
        )
        output = list(r.outputs) if done else []
        return shapes.response(
            self.dialect,
            response_id=r.id,
            status=r.status,
            params=r.params,
            conversation_id=r.conversation_id,
            output=output,
            details=details,
            usage=use,
        )

    def _part_ref(self, r: Response) -> dict:
        assert r.item is not None  # a part is always in the open item
        return shapes.part_ref(r.id, r.item, r.output_index)

    def _fit(self, r: Response, text: str, *, audio: bool) -> list[str]:
        """The words that fit `max_output_tokens`; fewer than all marks the response incomplete."""
        words, limit = text.split(), r.params.token_limit
        while (
            limit is not None and words and _estimate(words, audio, r.params.speed or 1.0) > limit
        ):
            words, r.truncated_by_limit = words[:-1], True
        return words


def _estimate(words: list[str], audio: bool, speed: float) -> int:
    text = " ".join(words)
    ms = voice.speech_seconds(text, speed) * 1000 if audio else 0.0
    return usage.text_tokens(text) + usage.audio_tokens(ms, assistant=True)


def _produced(r: Response) -> Tokens:
    total = Tokens()
    for item in r.outputs:
        total += _item_output(item)
    return total


def _item_output(item: Item) -> Tokens:
    if item.type != "message":  # a call: its name and arguments are what the model wrote
        written = item.fields.get("name", "") + item.fields.get("arguments", "")
        return Tokens(text=usage.text_tokens(written))
    total = Tokens()
    for part in item.parts:
        total += Tokens(
            text=usage.text_tokens(part.text),
            audio=usage.audio_tokens(part.audio_ms, assistant=True),
        )
    return total


def _outputs(reply: Reply) -> tuple[Reply, ...]:
    """The output items of a reply, in order."""
    match reply:
        case CallFunctions(calls=calls):
            return calls
        case CallMcp(then=then):
            return (reply, then)
    return (reply,)


def _spread(words: list[str], n_chunks: int) -> list[list[str]]:
    """Which words' transcript goes with which audio chunk (evenly, never after the audio)."""
    schedule: list[list[str]] = [[] for _ in range(max(n_chunks, 1))]
    for i, word in enumerate(words):
        schedule[i * len(schedule) // max(len(words), 1)].append(word)
    return schedule
