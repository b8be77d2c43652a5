"""The window's history: records the conversation, shows the last one on start (read-only until
continued), the side panel (list, search, open, continue, delete, export), the spend under the
meters and the monthly budget (a banner at 80 %, a refusal before dialing at 100 % unless the
user connects anyway for that session).

Threads: everything here runs on the Qt main thread, the store's writes included (each is one
short WAL transaction). The controller's budget gate runs on the loop thread and only reads two
numbers kept here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QWidget,
)

from talkapp.compare.prices import PriceTable, load_prices
from talkapp.controller import BudgetRefused, Controller
from talkapp.history import export, spend
from talkapp.history.context import context_for
from talkapp.history.recorder import HistoryRecorder, turn_cost
from talkapp.history.store import Conversation, HistoryError, HistoryStore, SessionInfo
from talkapp.session import engine_events as out
from talkapp.session.engine_events import State
from talkapp.session.transcript import Turn
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.ui.main.history_panel import HistoryPanel
from talkapp.ui.main.turn_stats import first_audio_ms

PANEL_WIDTH = 280  # the history panel's first width, taken from the transcript
RAISE_BUDGET = "raise it with “Raise the budget…” or connect anyway for this session"


def session_info(profile: ProviderProfile) -> SessionInfo:
    return SessionInfo(profile.name, profile.provider, profile.model, profile.choice().dialect.name)


class ConversationHistory(QObject):
    def __init__(
        self, window, controller: Controller, store: HistoryStore | None, prices_file: Path | None
    ) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.store = store
        self.prices: PriceTable = load_prices(prices_file)[0]
        self.viewing: int | None = None  # a conversation shown read-only
        self.recorder: HistoryRecorder | None = None
        self._allow_once = False  # "Connect anyway": one paid session over the budget
        self._refused = False  # the budget banner is a refusal (not the 80 % warning)
        self._month_usd = 0.0
        self._session_usd = 0.0
        self._keep_days = window.settings.history.keep_days  # the retention last applied
        self._build()
        if store is not None:
            self.recorder = HistoryRecorder(
                store,
                session_info(window.settings.active_profile()),
                self.prices,
                problem=self._problem,
            )
            self.recorder.on_turn = lambda _conversation: self._turn_saved()
        controller.budget_gate = self._gate

    # ---- building (into the window, without changing its layout code) ----

    def _build(self) -> None:
        w = self.window
        self.panel = HistoryPanel()
        self.panel.hide()
        splitter = w.transcript.parentWidget()
        assert isinstance(splitter, QSplitter)
        splitter.addWidget(self.panel)
        self.toggle = QPushButton("&History")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Show or hide the saved conversations")
        self.new_button = QPushButton("Ne&w conversation")
        self.new_button.setToolTip("Start over: a fresh session, saved as a new conversation")
        top = w.transcript.layout().itemAt(0).layout()
        top.insertWidget(2, self.new_button)
        top.insertWidget(3, self.toggle)
        self.strip = QWidget()
        strip = QHBoxLayout(self.strip)
        strip.setContentsMargins(0, 0, 0, 0)
        self.strip_label = QLabel()
        self.strip_label.setWordWrap(True)
        self.continue_button = QPushButton("&Continue")
        self.continue_button.setToolTip(
            "A new session with this conversation as context; new turns are added to it"
        )
        strip.addWidget(self.strip_label, 1)
        strip.addWidget(self.continue_button)
        self.strip.hide()
        w.transcript.layout().insertWidget(1, self.strip)
        self.spend_line = QLabel()
        self.spend_line.setAccessibleName("Spend")
        self.spend_line.setWordWrap(True)
        self.budget_button = QPushButton("Monthly bud&get…")
        self.budget_button.setToolTip("Set or clear the monthly budget for paid sessions")
        spend_row = QHBoxLayout()
        spend_row.addWidget(self.spend_line, 1)
        spend_row.addWidget(self.budget_button)
        w.talk.layout().insertLayout(w.talk.layout().count() - 1, spend_row)
        self.toggle.toggled.connect(self.show_panel)
        self.new_button.clicked.connect(self.new_conversation)
        self.budget_button.clicked.connect(self.ask_budget)
        self.continue_button.clicked.connect(
            lambda: self.viewing and self.continue_conversation(self.viewing)
        )
        self.panel.search_changed.connect(lambda _text: self.refresh_list())
        self.panel.open_requested.connect(self.open_conversation)
        self.panel.continue_requested.connect(self.continue_conversation)
        self.panel.delete_requested.connect(self.delete_conversation)
        self.panel.export_requested.connect(self.export_conversation)
        self.panel.rename_requested.connect(self.rename_conversation)
        self.panel.delete_all_requested.connect(self.delete_everything)
        self.panel.keep_changed.connect(self.keep_for)
        self.panel.set_keep(w.settings.history.keep_days)
        w.settings_changed.connect(self._settings_changed)

    # ---- start ----

    def start(self) -> None:
        """Retention, then the last conversation (read-only), the spend and the budget."""
        if self.store is None:
            self.spend_line.setText("History is off.")
            return
        days = self.window.settings.history.keep_days
        try:
            if days:
                export.remove_files(self.store.delete_before(time.time() - days * 86400))
            last = self.store.last_conversation_id()
        except HistoryError as exc:
            self._problem(str(exc))
            return
        if last is not None:
            self.open_conversation(last)
        self._refresh_spend()

    # ---- engine events (connected before the window's: a view is cleared before it draws) ----

    @Slot(object)
    def on_event(self, event: object) -> None:
        match event:
            case out.Connected():
                self._session_usd = 0.0
                if self.recorder is not None:
                    self.recorder.info = session_info(self._live_profile())
                    engine = self.controller.engine
                    folder = engine.recording_folder if engine is not None else None
                    self.recorder.audio_path = str(folder) if folder is not None else None
            case out.TranscriptChanged() if self.viewing is not None:
                self._leave_read_only()  # talking over an old conversation starts a new one
            case out.TurnMeasured(usage=usage) as measured if usage is not None:
                cost = turn_cost(self.prices, session_info(self._live_profile()), usage)
                self._session_usd += cost or 0.0
                if not measured.silent_tool_step:
                    # after the window has drawn this event (its slot comes next): add the cost
                    QTimer.singleShot(0, self, lambda: self._annotate_cost(measured, cost))
            case BudgetRefused(message=message):
                self._budget_refused(message)
        if self.recorder is not None:
            self.recorder.on_event(event)
        if isinstance(event, out.TurnMeasured):
            self._refresh_spend()

    # ---- what the user does ----

    @Slot(bool)
    def show_panel(self, visible: bool) -> None:
        self.panel.setVisible(visible)
        if self.toggle.isChecked() != visible:
            self.toggle.setChecked(visible)
        splitter = self.panel.parentWidget()
        assert isinstance(splitter, QSplitter)
        sizes = splitter.sizes()
        if visible and len(sizes) == 3 and sizes[2] < PANEL_WIDTH // 2:  # first shown: make it room
            # Widen the window when the transcript has no room to spare (as the screen allows).
            spare = sizes[1] - self.window.transcript.minimumSizeHint().width()
            screen = self.window.screen().availableGeometry().width()
            grow = max(0, min(PANEL_WIDTH - spare, screen - self.window.width()))
            if grow:
                self.window.resize(self.window.width() + grow, self.window.height())
            total = sum(sizes) + grow
            splitter.setSizes([sizes[0], total - sizes[0] - PANEL_WIDTH, PANEL_WIDTH])
        if visible:
            self.refresh_list()
            self.panel.search.setFocus()

    def refresh_list(self) -> None:
        if self.store is None or self.panel.isHidden():
            return
        text = self.panel.search.text()
        try:
            rows = self.store.conversations(search=text)
        except HistoryError as exc:
            self._problem(str(exc))
            return
        self.panel.show_conversations(rows, bool(text.strip()))

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        conversation = self._load(conversation_id)
        if conversation is None:
            return
        self._show(conversation)
        self.viewing = conversation_id
        s = conversation.summary
        when = dt.datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M")
        self.strip_label.setText(
            f"“{s.title or 'Untitled'}” from {when} · read-only. Continue it, or just talk "
            "to start a new conversation."
        )
        self.strip.show()

    @Slot(int)
    def continue_conversation(self, conversation_id: int) -> None:
        conversation = self._load(conversation_id)
        if conversation is None or self.recorder is None:
            return
        context = context_for(conversation)
        self._show(conversation)
        self.viewing = None
        self.strip.hide()
        self.recorder.continue_conversation(conversation_id)
        self.controller.context = context.items
        if context.note():
            self.window.transcript.view.add_note(context.note())
        self.window.reconnect()  # a new session, with the conversation as context

    @Slot()
    def new_conversation(self) -> None:
        had_context = bool(self.controller.context) or bool(self.window.transcript.view.turns())
        self._leave_read_only()
        self.controller.context = ()
        if had_context and self.window.state not in (State.IDLE, State.ERROR):
            self.window.reconnect()  # the live session still holds the old conversation

    @Slot(int)
    def delete_conversation(self, conversation_id: int) -> None:
        if self.store is None:
            return
        answer = QMessageBox.question(
            self.window,
            "Delete conversation",
            "Delete this conversation and its audio files? This cannot be undone.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            export.remove_files(self.store.delete(conversation_id))
        except HistoryError as exc:
            self._problem(str(exc))
            return
        if self.viewing == conversation_id or (
            self.recorder and self.recorder.conversation_id == conversation_id
        ):
            self._leave_read_only()
        self.refresh_list()
        self._refresh_spend()

    @Slot(int)
    def rename_conversation(self, conversation_id: int) -> None:
        conversation = self._load(conversation_id)
        if conversation is None or self.store is None:
            return
        title, ok = QInputDialog.getText(
            self.window, "Rename conversation", "Title:", text=conversation.summary.title
        )
        if not ok or not title.strip():
            return
        try:
            self.store.rename(conversation_id, title)
        except HistoryError as exc:
            self._problem(str(exc))
            return
        self.refresh_list()
        if self.viewing == conversation_id:
            self.open_conversation(conversation_id)

    @Slot()
    def delete_everything(self) -> None:
        if self.store is None:
            return
        answer = QMessageBox.question(
            self.window,
            "Delete all conversations",
            "Delete every saved conversation and its audio files? This cannot be undone.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._delete_before(float("inf"))

    @Slot(object)
    def keep_for(self, days: int | None) -> None:
        """Retention: kept in the settings; older conversations go now and at each start."""
        history = dataclasses.replace(self.window.settings.history, keep_days=days)
        self.window.apply_settings(dataclasses.replace(self.window.settings, history=history))

    def _delete_before(self, cutoff: float) -> None:
        assert self.store is not None
        try:
            export.remove_files(self.store.delete_before(cutoff))
            left = {s.id for s in self.store.conversations()}
        except HistoryError as exc:
            self._problem(str(exc))
            return
        if self.viewing is not None and self.viewing not in left:
            self._leave_read_only()
        if self.recorder is not None and self.recorder.conversation_id not in left:
            self.recorder.new_conversation()
        self.refresh_list()
        self._refresh_spend()

    @Slot(int)
    def export_conversation(self, conversation_id: int) -> None:
        conversation = self._load(conversation_id)
        if conversation is None:
            return
        title = conversation.summary.title or f"conversation {conversation_id}"
        safe = "".join(c for c in title if c.isalnum() or c in " -_")[:40].strip() or "conversation"
        suggested = str(Path.home() / f"TalkApp {safe}.md")
        path, chosen = QFileDialog.getSaveFileName(
            self.window, "Export conversation", suggested, "Markdown (*.md);;JSON (*.json)"
        )
        if not path:
            return
        as_json = path.lower().endswith(".json") or (
            chosen.startswith("JSON") and not path.lower().endswith(".md")
        )
        text = (
            json.dumps(export.as_dict(conversation), ensure_ascii=False, indent=2) + "\n"
            if as_json
            else export.as_markdown(conversation)
        )
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            self.window.banners.show_message(
                "export",
                "error",
                f"The conversation could not be saved to {path} ({exc.strerror or exc}).",
            )

    # ---- budget ----

    def _gate(self, profile: ProviderProfile) -> str | None:
        """Loop thread, before dialing a paid session: a refusal line at 100 % of the budget."""
        if self._allow_once:
            self._allow_once = False
            return None
        state = spend.BudgetState(self.window.settings.history.monthly_budget_usd, self._month_usd)
        return spend.refusal(state, RAISE_BUDGET)

    def _budget_refused(self, message: str) -> None:
        self._refused = True
        self.window.banners.show_message(
            "budget",
            "error",
            message,
            [
                ("Connect an&yway", self._connect_anyway),
                ("Raise the &budget…", self.ask_budget),
            ],
        )

    def _connect_anyway(self) -> None:
        self._allow_once, self._refused = True, False
        self.window.banners.clear("budget")
        self.window.reconnect()

    def ask_budget(self) -> None:
        current = self.window.settings.history.monthly_budget_usd
        text, ok = QInputDialog.getText(
            self.window,
            "Monthly budget",
            "Monthly budget in US dollars (empty or none: no budget):",
            text="" if current is None else f"{current:g}",
        )
        if not ok:
            return
        try:
            budget = spend.parse_budget(text)
        except ValueError as exc:
            self.window.banners.show_message(
                "budget",
                "error",
                f"{str(exc)[0].upper()}{str(exc)[1:]}.",
                [("Raise the &budget…", self.ask_budget)],
            )
            return
        history = dataclasses.replace(self.window.settings.history, monthly_budget_usd=budget)
        self.window.apply_settings(dataclasses.replace(self.window.settings, history=history))

    def _settings_changed(self, settings: Settings) -> None:
        days = settings.history.keep_days
        if days != self._keep_days:  # Settings → History, the panel or the command line
            self._keep_days = days
            self.panel.set_keep(days)
            if days is not None and self.store is not None:
                self._delete_before(time.time() - days * 86400)
        if self.recorder is not None and self.window.state in (State.IDLE, State.ERROR):
            self.recorder.info = session_info(settings.active_profile())
        self._refresh_spend()

    def _refresh_spend(self) -> None:
        if self.store is None:
            return
        budget = self.window.settings.history.monthly_budget_usd
        try:
            now = spend.local_now()
            month = spend.spend(
                self.store.costs_since(spend.month_start(now).timestamp()), now
            ).month
        except HistoryError as exc:
            self._problem(str(exc))
            return
        self._month_usd = month.cost_usd
        free = self._live_profile().provider == "simulator"
        session = (
            "This session: free (the simulator costs nothing)"
            if free
            else f"This session: {spend.usd(self._session_usd)}"
        )
        unknown = f" (+{month.unknown} replies without a price)" if month.unknown else ""
        limit = f" of {spend.usd(budget)}" if budget is not None else ""
        self.spend_line.setText(
            f"{session} · this month: {spend.usd(month.cost_usd)}{limit}{unknown}"
        )
        state = spend.BudgetState(budget, month.cost_usd)
        if self._refused and state.reached:
            return  # the refusal's banner (with "Connect anyway") stays
        self._refused = False
        if state.warn:
            self.window.banners.show_message(
                "budget", "warning", state.banner(), [("Raise the &budget…", self.ask_budget)]
            )
        else:
            self.window.banners.clear("budget")

    # ---- showing ----

    def _annotate_cost(self, measured: out.TurnMeasured, cost: float | None) -> None:
        view = self.window.transcript.view
        item = view.last_assistant_turn()
        latency = first_audio_ms(measured)
        parts = [
            f"first audio {latency:.0f} ms" if latency is not None else "",
            "free" if cost == 0.0 else spend.usd(cost),
        ]
        if item is not None:
            view.annotate(item, " · ".join(p for p in parts if p))

    def _turn_saved(self) -> None:
        self.refresh_list()

    def _leave_read_only(self) -> None:
        if self.viewing is not None or self.window.transcript.view.turns():
            self.window.transcript.view.clear_entries()
        self.viewing = None
        self.strip.hide()
        if self.recorder is not None:
            self.recorder.new_conversation()
        self.controller.context = ()

    def _show(self, conversation: Conversation) -> None:
        view = self.window.transcript.view
        view.clear_entries()
        to_perf_counter = time.perf_counter() - time.time()
        for t in conversation.turns:
            view.show_turn(
                Turn(
                    f"stored-{t.id}",
                    t.role,
                    t.text,
                    final=True,
                    interrupted=t.interrupted,
                    heard_ms=t.heard_ms,
                    at=t.started_at + to_perf_counter,
                )
            )
            if t.role == "assistant" and (t.cost_usd or t.first_audio_ms):
                parts = [
                    f"first audio {t.first_audio_ms:.0f} ms" if t.first_audio_ms else "",
                    spend.usd(t.cost_usd) if t.cost_usd else "",
                ]
                view.annotate(f"stored-{t.id}", " · ".join(p for p in parts if p))
        self.panel.select(conversation.summary.id)

    def _load(self, conversation_id: int) -> Conversation | None:
        if self.store is None:
            return None
        try:
            return self.store.conversation(conversation_id)
        except HistoryError as exc:
            self._problem(str(exc))
            self.refresh_list()
            return None

    def _live_profile(self) -> ProviderProfile:
        engine = self.controller.engine
        return engine.profile if engine is not None else self.window.settings.active_profile()

    def _problem(self, text: str) -> None:
        self.window.banners.show_message("history", "warning", text)
