"""The main window: renders what the engine reports and forwards what the user does.

Threads: everything here runs on the Qt main thread. Engine events arrive at `on_event`
through the UI bridge (a queued connection); commands go to the `Controller`, whose methods
return at once; a command's failure comes back as an error notice through the bridge, like any
engine event. Levels are polled by a ~30 Hz timer, only while a meter can move (`level_poll`).
Nothing here waits on a future.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import html
import itertools
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from talkapp.controller import Controller, NeedsKey, mode_for, vad_kind, with_mode
from talkapp.platform import microphone
from talkapp.session import engine_events as out
from talkapp.session.engine_events import ApprovalRequested, State
from talkapp.session.turns import Mode
from talkapp.settings.model import Settings
from talkapp.settings.profile import SIMULATOR_PROFILE
from talkapp.ui.compare.window import CompareWindow
from talkapp.ui.main import status_text
from talkapp.ui.main.access import WindowAccess
from talkapp.ui.main.approval import ApprovalStack
from talkapp.ui.main.banner import BannerStack
from talkapp.ui.main.header import Header
from talkapp.ui.main.hold_key import HoldKey
from talkapp.ui.main.level_poll import LevelPoll, needed
from talkapp.ui.main.talk_panel import TalkPanel
from talkapp.ui.main.transcript_panel import TranscriptPanel
from talkapp.ui.main.turn_stats import SessionStats, first_audio_ms
from talkapp.ui.settings.dialog import SettingsDialog


class MainWindow(QMainWindow):
    settings_changed = Signal(
        object
    )  # Settings: the user changed them here or in the settings pane
    _clipboard_settled = Signal(str)  # a clipboard prompt's id: its call ended (timed out, or gone)

    def __init__(
        self, settings: Settings, controller: Controller, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._controller = controller
        self.state = State.IDLE
        self._detail = ""  # the error state's explanation
        self._needs_key: str | None = None  # the profile waiting for a key
        self._interrupted: str | None = None  # "Reply interrupted after …", until the next reply
        self._lost_at = ""  # hh:mm the connection was lost, while reconnecting
        self.platform = sys.platform  # which system's settings page fixes a silent microphone
        self.muted = False  # hands-free: the microphone muted (the session stays)
        self._holding: set[str] = (
            set()
        )  # what holds the talk button down: "button", "key", "global"
        self._stats = SessionStats()
        self.settings_dialog: SettingsDialog | None = None
        self.compare_window: CompareWindow | None = None
        # prompt id -> the Future awaiting the answer
        self._clipboard_asks: dict[str, concurrent.futures.Future[bool]] = {}
        self._clipboard_settled.connect(
            self._clipboard_call_ended, Qt.ConnectionType.QueuedConnection
        )
        self.level_poll = LevelPoll(
            self, controller.levels, self._show_levels, self._levels_may_move
        )
        self._build()
        self._wire()
        self._show_settings(settings)
        self._offer_a_key(settings)
        self._refresh()
        self.resize(1000, 660)

    # ---- building ----

    def _build(self) -> None:
        self.header = Header()
        self.banners = BannerStack()
        self.approvals = (
            ApprovalStack()
        )  # MCP approval prompts: non-blocking, above the conversation
        self.talk = TalkPanel()
        self.transcript = TranscriptPanel()
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.talk)
        splitter.addWidget(self.transcript)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 620])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.addWidget(self.header)
        layout.addWidget(self.banners)
        layout.addWidget(self.approvals)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        quit_action = QAction("Quit", self)
        # The platform's Quit key, else Ctrl+Q: Windows and some platforms bind none.
        quit_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)
        quit_action.setShortcuts(quit_keys or [QKeySequence("Ctrl+Q")])
        quit_action.triggered.connect(self.close)
        self.addAction(quit_action)
        self.mute_action = QAction("Mute the microphone", self, shortcut=QKeySequence("Ctrl+M"))
        self.mute_action.triggered.connect(lambda: self.set_muted(not self.muted))
        self.addAction(self.mute_action)
        self.hold_key = HoldKey(self)
        self.hold_key.watch(self.transcript.view, self.talk.button)
        self.talk.button.setFocus()
        self.access = WindowAccess(self)  # names, Tab order, focus ring, Enter, announcements

    def _wire(self) -> None:
        self.header.profile_chosen.connect(self.choose_profile)
        self.header.connect_button.clicked.connect(self._connect_clicked)
        self.header.settings_button.clicked.connect(self._settings_clicked)
        self.header.compare_button.clicked.connect(self.open_compare)
        self.talk.button.pressed.connect(self._button_pressed)
        self.talk.button.released.connect(self._button_released)
        self.hold_key.pressed.connect(self._key_pressed)
        self.hold_key.released.connect(self._key_released)
        self.talk.modes.mode_changed.connect(self.choose_mode)
        self.talk.mute_button.clicked.connect(self.set_muted)
        self.transcript.message.send.connect(self.send_text)
        self.transcript.problem.connect(self._export_failed)
        self.approvals.answered.connect(self.answer_approval)

    # ---- engine events (main thread, via the bridge) ----

    @Slot(object)
    def on_event(self, event: object) -> None:
        self.level_poll.wake()  # whatever happened may move a level
        match event:
            case out.StateChanged(state=state, detail=detail, topic=topic):
                self._state_changed(state, detail, topic)
            case out.Connected(label=label):
                self._needs_key = None
                self._lost_at = ""
                self.banners.clear("connection")
                self.header.model.set(label)
                self._stats = SessionStats()
                self.talk.show_stats(self._stats.lines())
                self.transcript.view.add_note(
                    f"{time.strftime('%H:%M')} · session started · {label}"
                )
            case out.TranscriptChanged(turn=turn):
                if turn.interrupted:
                    self._interrupted = status_text.interrupted(turn.heard_ms)
                    self._refresh()
                self.transcript.view.show_turn(turn)
            case out.TurnMeasured() as measured:
                self._measured(measured)
            case out.ToolCardChanged(card=card):
                self.transcript.view.show_card(card)
                if card.settled:
                    self.approvals.close_prompt(
                        card.id
                    )  # answered (maybe by a remembered answer) or expired
            case out.ApprovalRequested() as request:
                self.approvals.ask(request)
            case out.Notice(level=level, text=text, topic=out.MICROPHONE):
                self._microphone_notice(level, text)
            case out.Notice(text=text, topic=out.IN_TRANSCRIPT):
                self.transcript.view.add_note(f"{time.strftime('%H:%M')} · {text}")
            case out.Notice(level="info", text=text):
                self.talk.show_hint(text)
            case out.Notice(level=level, text=text, topic=topic):
                self._notice(level, text, topic)
            case NeedsKey(profile=profile, message=message):
                self._needs_key = profile
                self._refresh()
                self.banners.show_message(
                    "connection",
                    "error",
                    message,
                    [
                        ("&Add a key…", lambda: self.add_a_key(profile)),
                        (
                            "Use the offline simu&lator",
                            lambda: self.choose_profile(SIMULATOR_PROFILE),
                        ),
                    ],
                )

    def _state_changed(self, state: State, detail: str, topic: str = "") -> None:
        if state is State.RECONNECTING and self.state is not State.RECONNECTING:
            self._lost_at = time.strftime("%H:%M")
        self.state, self._detail = state, status_text.for_the_window(detail)
        if state in (State.WAITING, State.CONNECTING):
            self._interrupted = None
        if state not in status_text.LIVE:
            self._let_go_everything()
        if state is State.ERROR:
            # the time shows that a Reconnect that failed again did try
            tried = f" (Tried at {time.strftime('%H:%M:%S')}.)"
            self.banners.show_message(
                "connection",
                "error",
                (self._detail or "The session failed.") + tried,
                self._error_fixes(self._detail, topic),
            )
        self._refresh()

    def _error_fixes(self, detail: str, topic: str) -> list[tuple[str, Callable[[], None]]]:
        """The buttons that can fix an error: a refused dialect is not fixed by reconnecting."""
        # no Alt key (Alt+F is Hands-free's, the other letters taken too); Tab reaches it
        settings = ("Profile settings…", lambda: self.open_settings("profiles"))
        if status_text.needs_ga(detail):
            if self.settings.active_profile().api == "beta":
                return [("Sw&itch to GA", self.switch_to_ga), settings]
            return [settings]
        if topic == out.AUDIO:
            return [("&Reconnect", self.reconnect), ("Audio setti&ngs…", self._audio_settings)]
        return [("&Reconnect", self.reconnect), settings]

    def _audio_settings(self) -> None:
        self.open_settings("audio")

    def switch_to_ga(self) -> None:
        """The one-click fix for a beta session refused: the profile speaks GA from now on."""
        profile = dataclasses.replace(self.settings.active_profile(), api="ga")
        self.apply_settings(self.settings.with_profile(profile, replacing=profile.name))

    def set_muted(self, muted: bool) -> None:
        """Hands-free mute (the button, Ctrl+M): the session stays, nothing is sent."""
        if muted and not Mode(self.settings.mode).hands_free:
            muted = False  # push-to-talk sends only while held: nothing to mute
        self.muted = muted
        self._controller.set_muted(muted)
        self._refresh()

    def _measured(self, measured: out.TurnMeasured) -> None:
        self._stats.add(measured)
        self.talk.show_stats(self._stats.lines())
        latency = first_audio_ms(measured)
        item = self.transcript.view.last_assistant_turn()
        if latency is not None and item is not None:
            self.transcript.view.annotate(item, f"first audio {latency:.0f} ms")

    def _notice(self, level: str, text: str, topic: str = "") -> None:
        if topic == out.PLAYBACK:  # TalkApp already did the fix: the notice only tells
            self.banners.show_message("audio", level, text)
        elif topic == out.AUDIO:
            self.banners.show_message(
                "audio",
                level,
                text,
                [("Pick another de&vice…", lambda: self.open_settings("audio"))],
            )
        else:
            self.banners.show_message(
                "service",
                level,
                text,
                [("Profile settings…", lambda: self.open_settings("profiles"))],
            )

    def _microphone_notice(self, level: str, text: str) -> None:
        """The system gives no sound from the microphone: a banner with the page that fixes it
        (privacy settings on macOS and Windows); "info" says sound came back, and clears it."""
        if level == "info":
            self.banners.clear("microphone")
            self.talk.show_hint(text)
            return
        url = microphone.privacy_settings_url(self.platform)
        fix = (
            ("Open privacy settings…", lambda: self.open_privacy_settings(url))
            if url is not None
            else ("Audio settings…", self._audio_settings)
        )
        self.banners.show_message("microphone", level, text, [fix])

    def open_privacy_settings(self, url: str) -> None:
        """The system's microphone privacy page (a settings URL the OS opens)."""
        QDesktopServices.openUrl(QUrl(url))

    def _export_failed(self, text: str) -> None:
        self.banners.show_message("export", "error", text)

    # ---- what the user does ----

    def start(self) -> None:
        """Connect the active profile (returns at once; the state line follows)."""
        self.reconnect()

    def reconnect(self) -> None:
        """Drop the session (if any, even a dead one), then open a new one. Chained on the loop,
        so the two never overlap; the UI shows "connecting" at once."""
        self._needs_key = None
        self.banners.clear("connection")
        self._state_changed(State.CONNECTING, "")
        controller = self._controller
        controller.disconnect().add_done_callback(lambda _done: controller.connect())

    def close_session(self) -> None:
        """Close the session (returns at once; the state line follows)."""
        self._controller.disconnect()

    @Slot(str)
    def choose_profile(self, name: str) -> None:
        self.header.set_profiles([p.name for p in self.settings.profiles], name)
        if name != self.settings.active:
            self.apply_settings(dataclasses.replace(self.settings, active=name), reconnect=True)

    @Slot(object)
    def apply_settings(self, settings: Settings, reconnect: bool = False) -> None:
        """New settings (the settings pane's `settings_saved`, or a profile picked here). The
        profile's turn detection decides the hands-free VAD, and "none" means push-to-talk."""
        mode = mode_for(settings)
        if mode != settings.mode:
            self._let_go_everything()
            self._controller.set_mode(mode)
            settings = dataclasses.replace(settings, mode=mode)
            if self.muted and not Mode(mode).hands_free:
                self.set_muted(False)
        elif Mode(mode).service_detects_turns and mode != self.settings.mode:
            self._controller.set_mode(mode)  # another profile, another kind of VAD
        self._show_settings(settings)
        self.settings_changed.emit(settings)
        applying = self._controller.apply(settings)  # a reconnect, when the settings need one
        if applying is None and (reconnect or self.state is State.ERROR or self._needs_key):
            self.reconnect()

    @Slot(str)
    def choose_mode(self, mode: str) -> None:
        self._let_go_everything()
        self._controller.set_mode(mode)
        self.settings = with_mode(self.settings, mode)
        self.talk.modes.set_mode(mode, vad_kind(self.settings))
        if self.muted and not Mode(mode).hands_free:
            self.set_muted(False)
        self.settings_changed.emit(self.settings)
        self._refresh()

    @Slot(object)
    def ask_clipboard_consent(self, future: concurrent.futures.Future[bool]) -> None:
        """The model wants the clipboard and the user chose to be asked each time: a prompt
        beside the MCP ones (never modal); "Always allow" turns the standing permission on."""
        request_id = f"clipboard-{next(_CLIPBOARD_ASKS)}"
        self._clipboard_asks[request_id] = future
        self.approvals.ask(ApprovalRequested(request_id, "", "read_clipboard", CLIPBOARD_QUESTION))
        # The call may end unanswered (its time limit, a lost session): then the prompt goes.
        future.add_done_callback(lambda _done: self._clipboard_settled.emit(request_id))

    @Slot(str)
    def _clipboard_call_ended(self, request_id: str) -> None:
        future = self._clipboard_asks.get(request_id)
        if future is not None and future.cancelled():
            del self._clipboard_asks[request_id]
            self.approvals.close_prompt(request_id)

    @Slot(object, bool, bool)
    def answer_approval(self, request: ApprovalRequested, approve: bool, remember: bool) -> None:
        """An approval prompt was answered; "remember" also goes into the settings (kept for
        later sessions, forgotten in Settings → Tools & MCP)."""
        future = self._clipboard_asks.pop(request.request_id, None)
        if future is not None:  # the clipboard, asked for one call
            if not future.done():  # the call may have timed out meanwhile
                future.set_result(approve)
            if remember and approve:
                tools = dataclasses.replace(self.settings.tools, clipboard_allowed=True)
                self.settings = dataclasses.replace(self.settings, tools=tools)
                self.settings_changed.emit(self.settings)
                self._controller.apply(self.settings)  # a failure is reported by the controller
            return
        self._controller.answer_approval(request.request_id, approve, remember)
        if remember:
            tools = self.settings.tools.remember(request.server, request.tool, approve)
            self.settings = dataclasses.replace(self.settings, tools=tools)
            self.settings_changed.emit(self.settings)
            self._controller.apply(self.settings)

    @Slot(str)
    def send_text(self, text: str) -> None:
        self.talk.show_hint("")
        self.transcript.view.follow()  # their own turn: show where it lands
        self._controller.send_text(text)

    def open_settings(self, page: str | None = None) -> None:
        """The settings pane, on `page` ("profiles" | "audio" | "hotkeys" | "tools"),
        window-modal: the settings it starts from cannot change under it."""
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        self.settings_dialog = SettingsDialog(
            self.settings,
            self._controller,
            self,
            page=page,
            session_keys=self._controller.session_keys,
        )
        self.settings_dialog.settings_saved.connect(self.apply_settings)
        self.settings_dialog.finished.connect(self._settings_closed)
        self.settings_dialog.open()

    def add_a_key(self, profile: str | None = None) -> None:
        """First run in one step: Settings on the OpenAI profile (made if needed; or `profile`,
        the one that needs a key), its key field focused; OK stores the key, tests it and
        switches to that profile when it works."""
        self.open_settings("profiles")
        if self.settings_dialog is not None:
            self.settings_dialog.add_a_key(profile)

    def _settings_clicked(self) -> None:
        self.open_settings()

    @Slot()
    def _settings_closed(self) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def open_compare(self) -> None:
        """The Compare window (not modal: the conversation stays usable); its comparison runs
        on the controller's loop."""
        if self.compare_window is None:
            self.compare_window = CompareWindow(
                self.settings,
                self._controller.run_on_loop,
                self,
                session_keys=self._controller.session_keys,
            )
            self.compare_window.finished.connect(self._compare_closed)
        self.compare_window.show()
        self.compare_window.raise_()
        self.compare_window.activateWindow()

    @Slot()
    def _compare_closed(self) -> None:
        window, self.compare_window = self.compare_window, None
        if window is not None:
            window.deleteLater()

    def _connect_clicked(self) -> None:
        if self.state is State.IDLE or self.state is State.ERROR or self._needs_key:
            self.reconnect()
        else:
            self.close_session()

    # ---- holding the talk button: the button itself, the in-window key, a global hotkey ----

    def _button_pressed(self) -> None:
        self.hold("button")

    def _button_released(self) -> None:
        self.let_go("button")

    def _key_pressed(self) -> None:
        self.hold("key")

    def _key_released(self) -> None:
        self.let_go("key")

    @Slot()
    def global_pressed(self) -> None:
        self.hold("global")

    @Slot()
    def global_released(self) -> None:
        self.let_go("global")

    def hold(self, source: str) -> None:
        if self._needs_key or self.state not in status_text.LIVE:
            if source != "global":  # do what the button says
                if self._needs_key:
                    self.add_a_key(self._needs_key)
                elif self.state in (State.IDLE, State.ERROR):
                    self.reconnect()
            return
        if self.settings.mode != Mode.PUSH_TO_TALK:
            return
        if not self._holding:
            self.talk.show_hint("")
            self.transcript.view.follow()
            self._controller.press()
        self._holding.add(source)
        self._refresh_button()

    def let_go(self, source: str) -> None:
        if source in self._holding:
            self._holding.discard(source)
            if not self._holding:
                self._controller.release()
            self._refresh_button()

    def _let_go_everything(self) -> None:
        for source in list(self._holding):
            self.let_go(source)

    # ---- showing ----

    def _show_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.header.set_profiles([p.name for p in settings.profiles], settings.active)
        self.header.model.set(settings.active_profile().describe())
        self.talk.modes.set_mode(settings.mode, vad_kind(settings))
        self.hotkey = self.hold_key.set_sequence(settings.hotkeys.push_to_talk)
        if any(p.needs_key for p in settings.profiles):
            self.banners.clear("welcome")
        self._refresh()

    def _offer_a_key(self, settings: Settings) -> None:
        """A new user (no profile but the built-in simulator): say what it is, how to go further."""
        if not any(p.needs_key for p in settings.profiles):
            self.banners.show_message(
                "welcome",
                "info",
                "You are trying TalkApp on the built-in Offline simulator: no key, no network. "
                "Add an OpenAI API key to talk to a real model.",
                [("&Add a key…", lambda: self.add_a_key())],
            )

    def _refresh(self) -> None:
        hands_free = Mode(self.settings.mode).hands_free
        if self._needs_key:
            status = status_text.needs_key(self._needs_key)
        else:
            status = status_text.describe(
                self.state, hands_free, self.hotkey, self.muted, self._lost_at
            )
        interrupted = self._interrupted if self.state in status_text.LIVE else None
        self.talk.state_line.setText(f"{interrupted} {status.line}" if interrupted else status.line)
        detail = self._detail if self.state is State.ERROR else ""
        self.talk.state_line.setToolTip(plain_tooltip(detail))
        self.header.state.set(status.chip, status.kind)
        self.header.set_connected(
            self.state is not State.IDLE and self.state is not State.ERROR and not self._needs_key
        )
        # No Disconnect while connecting: the controller does not yet serialize a disconnect
        # with a connect in flight (the engine being started would be left running).
        self.header.connect_button.setEnabled(
            self.state is not State.CONNECTING or bool(self._needs_key)
        )
        self.setWindowTitle(f"TalkApp — {status.title}")
        self.talk.show_mute(hands_free, self.muted)
        self._refresh_button()
        self.access.state_changed(self.talk.state_line.text())  # read out, once drawn

    def _refresh_button(self) -> None:
        self.level_poll.wake()  # a press, a release, a mode or mute change
        button = self.talk.button
        ptt = self.settings.mode == Mode.PUSH_TO_TALK
        button.set_live(self.state in status_text.LIVE and not self._needs_key)
        button.set_held(bool(self._holding - {"button"}))
        button.set_metering(not ptt or bool(self._holding))
        if not ptt and button.live:
            caption = "Muted" if self.muted else "Hands-free:\njust talk"
        elif self._holding:
            caption = "Release to send"
        elif self._needs_key:
            caption = "Add a key to talk"
        elif button.live:
            caption = f"Hold to talk\n({self.hotkey})" if self.hotkey else "Hold to talk"
        else:
            caption = (
                "Connecting…"
                if self.state in (State.CONNECTING, State.RECONNECTING)
                else "Connect to talk"
            )
        button.setText(caption)

    def _show_levels(self, mic_dbfs: float, speaker_dbfs: float) -> bool:
        return self.talk.show_levels(mic_dbfs, speaker_dbfs)

    def _levels_may_move(self) -> bool:
        hands_free = Mode(self.settings.mode).hands_free
        return needed(self.state, hands_free, self.muted, bool(self._holding))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.level_poll.wake()  # the meters catch up with what changed while hidden

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() is QEvent.Type.WindowStateChange:
            self.level_poll.wake()  # restored: the poll stops by itself while minimised


def plain_tooltip(text: str) -> str:
    """A tooltip guesses rich text from its content: service text is escaped, so it shows as
    written (no link, no formatting) whatever it holds."""
    return f"<p>{html.escape(text)}</p>" if text else ""


CLIPBOARD_QUESTION = (
    "The model asks to read your clipboard: whatever you copied (a password "
    "too) would go to the model. Allow it this time?"
)
_CLIPBOARD_ASKS = itertools.count(1)
