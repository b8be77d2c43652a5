"""Tool calls during a conversation: run each function the model asks for exactly once, answer
it, and let the turn go on; follow the MCP calls the service makes itself; answer its MCP
approval requests (from a remembered decision, or by asking the user).

Lives on the loop beside the engine, which hands it every server event (`on_event`) and three
ways out: `send` (a protocol command), `show` (a card for the transcript) and `go_on(respond)`
(the turn policy, which owns "one reply at a time": `respond` asks for the reply that goes on
with the turn, once no reply is active; otherwise the tool round is just over).

A *round* is the function calls of one response. They run concurrently (parallel calls); each
output is sent as soon as it is ready; once the response is done and every output is in, the
round asks for exactly one reply. A call id runs once however often it is announced (the
protocol layer already announces a call once, from `response.output_item.done`).

Failures are answers, not crashes: a tool that refuses, raises or runs past `timeout_s` answers
the model with an error output and the reply still comes. On a timeout we let the model speak
rather than cancel: it can tell the user what happened, in their language, and offer another
way; a cancel would end the turn with no word, which is the silence this rule is here to avoid.
A round whose response was cancelled (the user talked over it) still sends its outputs (the
calls are in the conversation) but asks for no reply: the user's new turn gets its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.session.engine_events import ApprovalRequested
from talkapp.session.transcript import ToolCard
from talkapp.threads.waits import within
from talkapp.tools.registry import ToolFailed
from talkapp.tools.toolbox import ToolBox

MAX_OUTPUT = 16_000  # characters of one output sent to the model
_KEEP = 256  # cards and call ids remembered (a call is never run twice within this many)
DECLINED = "The user declined this tool call."


@dataclass
class _Round:
    waiting: set[str] = field(default_factory=set)  # calls whose output is not sent yet
    done: bool = False  # its response.done arrived
    respond: bool = True  # False: the response was cancelled or failed


class ToolRunner:
    def __init__(
        self,
        box: ToolBox,
        send: Callable[[cmd.Command], Awaitable[None]],
        show: Callable[[ToolCard], None],
        ask: Callable[[ApprovalRequested], None],
        go_on: Callable[[bool], Awaitable[None]],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.box = box
        self._send, self._show, self._ask, self._go_on, self._clock = send, show, ask, go_on, clock
        self._cards: OrderedDict[str, ToolCard] = OrderedDict()
        self._started: dict[str, float] = {}  # card id -> when it started (for its duration)
        self._streaming: dict[str, str] = {}  # card id -> response id, while its arguments arrive
        self._ran: OrderedDict[str, None] = OrderedDict()  # call ids already run
        self._rounds: dict[str, _Round] = {}  # by response id
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running: dict[str, asyncio.Task[Any]] = {}  # call id -> its task, while it runs
        # Remembered answers hold for a server's URL (its label can be reused by another server).
        self._remembered = {(url, tool): approve for url, tool, approve in box.remembered}
        self._urls = {server.label: server.url for server in box.mcp_servers}
        self.executions = 0  # functions run (tests count them)

    # ---- events (the engine's reader task) ----

    async def on_event(self, event: ev.ServerEvent) -> None:
        now = self._clock()
        match event:
            case ev.ToolCallStarted(call_id=call_id, name=name, response_id=response_id):
                self._open(ToolCard(call_id, "function", name, at=now), now)
                self._streaming[call_id] = response_id
            case ev.ToolCallArgumentsDelta(call_id=call_id, delta=delta):
                self._streamed(call_id, delta)
            case ev.ToolCallRequested() as call:
                self._run(call, now)
            case ev.ToolCallCancelled(call_ids=call_ids):
                await self._withdrawn(call_ids)
            case ev.ResponseDone(response_id=response_id, status=status):
                await self._response_done(response_id, status)
            case ev.McpToolsListed(item_id=item_id, server_label=server, tools=tools):
                card = self._cards.get(item_id) or self._open(
                    ToolCard(item_id, "mcp_list", server, server, status="running", at=now), now
                )
                self._put(
                    dataclasses.replace(card, name=server, server=server, result=", ".join(tools))
                )
            case ev.McpListingProgressed(item_id=item_id, status=status):
                self._listing(item_id, status, now)
            case ev.McpCallStarted(
                item_id=item_id, server_label=server, name=name, response_id=response_id
            ):
                self._open(ToolCard(item_id, "mcp", name, server, at=now), now)
                self._streaming[item_id] = response_id
            case ev.McpCallArgumentsDelta(item_id=item_id, delta=delta):
                self._streamed(item_id, delta)
            case ev.McpCallDone() as done:
                self._mcp_done(done, now)
            case ev.McpApprovalRequested() as request:
                await self._approval(request, now)

    # ---- what the user does ----

    async def answer(self, request_id: str, approve: bool, remember: bool = False) -> bool:
        """The user's answer to an approval prompt; False when it is no longer awaited (answered
        already, or the session that asked is gone)."""
        card = self._cards.get(request_id)
        if card is None or card.kind != "mcp_approval" or card.status != "awaiting":
            return False
        if remember:
            self._remembered[(self._urls.get(card.server, ""), card.name)] = approve
        await self._decide(card, approve, "remembered from now on" if remember else "")
        return True

    # ---- lifecycle ----

    def reset(self, reason: str) -> None:
        """The session is gone (a reconnect): nothing in flight can be answered there."""
        for task in self._tasks:
            task.cancel()
        self._rounds.clear()
        self._streaming.clear()
        for card in list(self._cards.values()):
            if not card.settled:
                status = "expired" if card.status == "awaiting" else "failed"
                self._put(dataclasses.replace(card, status=status, error=reason))

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- function calls ----

    def _run(self, call: ev.ToolCallRequested, now: float) -> None:
        self._streaming.pop(call.call_id, None)
        if call.call_id in self._ran:
            return  # announced again: it runs once
        self._ran[call.call_id] = None
        while len(self._ran) > _KEEP:
            self._ran.popitem(last=False)
        self._rounds.setdefault(call.response_id, _Round()).waiting.add(call.call_id)
        card = self._cards.get(call.call_id) or ToolCard(
            call.call_id, "function", call.name, at=now
        )
        self._put(
            dataclasses.replace(card, name=call.name, arguments=call.arguments, status="running")
        )
        self._started[call.call_id] = now
        task = asyncio.create_task(self._execute(call), name=f"tool {call.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._running[call.call_id] = task
        task.add_done_callback(lambda _: self._running.pop(call.call_id, None))

    async def _execute(self, call: ev.ToolCallRequested) -> None:
        self.executions += 1
        limit = self.box.timeout_s
        output, error, note = "", "", ""
        try:
            output = await within(self.box.registry.call(call.name, call.arguments), limit)
        except TimeoutError:
            error, note = (
                f"The {call.name} tool did not finish within {limit:g} s and was stopped.",
                f"timed out after {limit:g} s",
            )
        except ToolFailed as refused:
            error = str(refused)
        except Exception as exc:  # noqa: BLE001 - a tool's bug is the model's answer, never the session's end
            error = f"The {call.name} tool failed ({type(exc).__name__}: {exc})."
        wire = json.dumps({"error": error}) if error else _bounded(output)
        await self._send(cmd.SendToolResult(call.call_id, wire))
        card = self._cards.get(call.call_id) or ToolCard(
            call.call_id, "function", call.name, call.arguments
        )
        self._put(
            dataclasses.replace(
                card,
                status="failed" if error else "done",
                result="" if error else wire,
                error=error,
                note=note,
                duration_ms=self._took(call.call_id),
            )
        )
        round_ = self._rounds.get(call.response_id)
        if round_ is not None:
            round_.waiting.discard(call.call_id)
            await self._round_over(call.response_id)

    async def _withdrawn(self, call_ids: tuple[str, ...]) -> None:
        """The service withdrew calls (Gemini's `toolCallCancellation`: the user interrupted the
        turn that made them). A call still running is stopped and answers nothing: the service
        no longer waits for it, and the user's new turn is what the model answers next."""
        for call_id in call_ids:
            task = self._running.pop(call_id, None)
            if task is None or task.done():
                continue
            task.cancel()
            card = self._cards.get(call_id)
            if card is not None:
                self._put(
                    dataclasses.replace(
                        card,
                        status="failed",
                        error="The service withdrew this call (you interrupted); it was stopped.",
                        duration_ms=self._took(call_id),
                    )
                )
            for response_id, round_ in list(self._rounds.items()):
                if call_id in round_.waiting:
                    round_.waiting.discard(call_id)
                    round_.respond = False
                    await self._round_over(response_id)

    async def _response_done(self, response_id: str, status: str) -> None:
        for card_id in [c for c, r in self._streaming.items() if r == response_id]:
            del self._streaming[card_id]  # its response ended before the call was complete
            card = self._cards.get(card_id)
            if card is not None and card.status == "streaming":
                self._put(
                    dataclasses.replace(
                        card,
                        status="failed",
                        duration_ms=self._took(card_id),
                        error=(
                            "The reply was cut off before this call was complete; it did not run."
                        ),
                    )
                )
        round_ = self._rounds.get(response_id)
        if round_ is None:
            return
        round_.done = True
        round_.respond = round_.respond and status not in ("cancelled", "failed")
        await self._round_over(response_id)

    async def _round_over(self, response_id: str) -> None:
        round_ = self._rounds.get(response_id)
        if round_ is None or not round_.done or round_.waiting:
            return
        del self._rounds[response_id]
        await self._go_on(round_.respond)  # exactly one per round

    # ---- MCP: the service calls; we show it and answer approvals ----

    def _listing(self, item_id: str, status: str, now: float) -> None:
        card = self._cards.get(item_id) or self._open(
            ToolCard(item_id, "mcp_list", "MCP server", status="running", at=now), now
        )
        if status == "completed":
            self._put(dataclasses.replace(card, status="done", duration_ms=self._took(item_id)))
        elif status == "failed":
            self._put(
                dataclasses.replace(
                    card,
                    status="failed",
                    duration_ms=self._took(item_id),
                    error="The service could not get this server's tools (check its URL "
                    "and auth header in Settings → Tools & MCP).",
                )
            )

    def _mcp_done(self, done: ev.McpCallDone, now: float) -> None:
        self._streaming.pop(done.item_id, None)
        card = self._cards.get(done.item_id) or ToolCard(
            done.item_id, "mcp", done.name, done.server_label, at=now
        )
        self._put(
            dataclasses.replace(
                card,
                arguments=done.arguments,
                status="failed" if done.error else "done",
                result=done.output or "",
                error=done.error or "",
                duration_ms=self._took(done.item_id),
            )
        )

    async def _approval(self, request: ev.McpApprovalRequested, now: float) -> None:
        card = self._put(
            ToolCard(
                request.request_id,
                "mcp_approval",
                request.name,
                request.server_label,
                request.arguments,
                status="awaiting",
                at=now,
            )
        )
        url = self._urls.get(request.server_label)
        remembered = self._remembered.get((url, request.name)) if url else None
        if remembered is not None:
            await self._decide(card, remembered, "remembered")
            return
        self._ask(
            ApprovalRequested(
                request.request_id, request.server_label, request.name, request.arguments
            )
        )

    async def _decide(self, card: ToolCard, approve: bool, note: str) -> None:
        await self._send(cmd.AnswerApproval(card.id, approve, None if approve else DECLINED))
        self._put(dataclasses.replace(card, status="approved" if approve else "denied", note=note))
        await self._go_on(True)  # the model goes on: runs the call, or says it may not

    # ---- cards ----

    def _open(self, card: ToolCard, now: float) -> ToolCard:
        self._started[card.id] = now
        return self._put(card)

    def _streamed(self, card_id: str, delta: str) -> None:
        card = self._cards.get(card_id)
        if card is not None and card.status == "streaming":
            self._put(dataclasses.replace(card, arguments=card.arguments + delta))

    def _put(self, card: ToolCard) -> ToolCard:
        self._cards[card.id] = card
        self._cards.move_to_end(card.id)
        while len(self._cards) > _KEEP:
            gone, _ = self._cards.popitem(last=False)
            self._started.pop(gone, None)
        self._show(card)
        return card

    def _took(self, card_id: str) -> float | None:
        started = self._started.pop(card_id, None)
        return None if started is None else round(1000 * (self._clock() - started), 1)


def _bounded(output: str) -> str:
    if len(output) <= MAX_OUTPUT:
        return output
    return output[:MAX_OUTPUT] + f"… (cut: the tool returned {len(output)} characters)"
