"""The engine's outgoing events → committed turns in the history.

A turn is written when it is final (one transaction each), so a crash loses at most the turn in
progress. A reply's usage (`TurnMeasured`) may come before or after its final transcript; usage
that has no reply row yet (a tool step, an early `response.done`) waits and is added to the next
reply, so the money is always counted once. Tool calls are written when settled.

The recorder does I/O but holds no thread: its owner calls `on_event` wherever events arrive
(the UI thread in the app, the engine's loop in `talk`). A write that fails is reported once
through `problem` and the conversation goes on: history must never stop a conversation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from talkapp.compare.prices import PriceTable
from talkapp.history.store import HistoryError, HistoryStore, SessionInfo, StoredToolCall
from talkapp.protocol.events import Usage
from talkapp.session import engine_events as out
from talkapp.session.transcript import Turn


def turn_cost(prices: PriceTable, info: SessionInfo, usage: Usage | None) -> float | None:
    """USD for one response: 0 on the simulator, None when the model has no price."""
    if info.provider == "simulator":
        return 0.0
    return prices.cost(info.model, usage)


class HistoryRecorder:
    def __init__(
        self,
        store: HistoryStore,
        info: SessionInfo,
        prices: PriceTable,
        conversation_id: int | None = None,
        problem: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.store = store
        self.info = (
            info  # the session's profile, provider, model, dialect: set by the owner on changes
        )
        self.prices = prices
        self.conversation_id = conversation_id  # None: a new one starts with the first turn
        self._problem = problem
        self._told: set[str] = set()
        self._rows: dict[str, int] = {}  # item id → turn row
        self._written: dict[str, Turn] = {}  # item id → the turn as last written
        self._reply_row: int | None = None  # the reply since the user's last turn, if written
        self._reply_has_usage = False
        # Usage without its reply row yet: (usage, cost, whether it was the reply's own response)
        self._pending: list[tuple[Usage, float | None, bool]] = []
        self._first_audio: float | None = None
        self.audio_path: str | None = None  # the session's recording folder, if it is recorded
        self.on_turn: Callable[[int], None] = lambda _conversation: (
            None
        )  # after each committed turn

    def new_conversation(self) -> None:
        self.continue_conversation(None)

    def continue_conversation(self, conversation_id: int | None) -> None:
        self.conversation_id = conversation_id
        self._rows.clear()
        self._written.clear()
        self._reply_row, self._reply_has_usage, self._pending = None, False, []

    def on_event(self, event: object) -> None:
        try:
            match event:
                case out.TranscriptChanged(turn=turn):
                    self._turn(turn)
                case out.TurnMeasured() as measured:
                    self._measured(measured)
                case out.ToolCardChanged(card=card) if card.settled:
                    call = StoredToolCall(
                        card.id,
                        card.kind,
                        card.name,
                        card.server,
                        card.arguments,
                        card.result,
                        card.error,
                        card.status,
                        card.duration_ms,
                        time.time(),
                    )
                    self.store.record_tool_call(self._conversation(), call)
        except HistoryError as exc:
            self._tell(str(exc))

    # ---- turns ----

    def _turn(self, turn: Turn) -> None:
        if not turn.text.strip() and not turn.interrupted:
            return
        row = self._rows.get(turn.item_id)
        if row is None:
            if not (turn.final or turn.interrupted):
                return  # still streaming: written once it is whole
            self._insert(turn)
            return
        before = self._written[turn.item_id]
        if (before.text, before.interrupted, before.heard_ms) != (
            turn.text,
            turn.interrupted,
            turn.heard_ms,
        ):
            self.store.update_turn(
                row,
                text=turn.text if turn.text != before.text else None,
                interrupted=turn.interrupted,
                heard_ms=turn.heard_ms,
            )
            self._written[turn.item_id] = turn

    def _insert(self, turn: Turn) -> None:
        conversation = self._conversation()
        row = self.store.add_turn(
            conversation,
            turn.role,
            turn.text,
            info=self.info,
            interrupted=turn.interrupted,
            heard_ms=turn.heard_ms,
            audio_path=self.audio_path,
            paid=self.info.provider != "simulator",
            cost_usd=None if self.info.provider != "simulator" else 0.0,
        )
        self._rows[turn.item_id], self._written[turn.item_id] = row, turn
        if turn.role == "user":
            self._reply_row, self._reply_has_usage = None, False
        else:
            self._reply_row, self._reply_has_usage = row, False
            self._apply_pending()
        self.on_turn(conversation)

    # ---- usage and timings ----

    def _measured(self, measured: out.TurnMeasured) -> None:
        if measured.usage is not None:
            cost = turn_cost(self.prices, self.info, measured.usage)
            self._pending.append((measured.usage, cost, not measured.silent_tool_step))
        if (
            measured.first_audio_played_ms is not None
            or measured.first_audio_received_ms is not None
        ):
            self._first_audio = measured.first_audio_played_ms or measured.first_audio_received_ms
        # The usage belongs to the reply already written, unless that one has its own response's
        # usage (this response's reply is still to come) or this was a tool step (the reply
        # follows).
        if (
            self._reply_row is not None
            and not self._reply_has_usage
            and not measured.silent_tool_step
        ):
            self._apply_pending()

    def _apply_pending(self) -> None:
        if self._reply_row is None:
            return
        if self._first_audio is not None:
            self.store.update_turn(self._reply_row, first_audio_ms=round(self._first_audio, 1))
            self._first_audio = None
        pending, self._pending = self._pending, []
        for usage, cost, own in pending:
            self.store.add_usage(self._reply_row, dataclasses.asdict(usage), cost)
            self._reply_has_usage = self._reply_has_usage or own

    def _conversation(self) -> int:
        if self.conversation_id is None:
            self.conversation_id = self.store.start_conversation(self.info)
        return self.conversation_id

    def _tell(self, text: str) -> None:
        if text not in self._told:
            self._told.add(text)
            self._problem(f"{text} This conversation is not being saved.")
