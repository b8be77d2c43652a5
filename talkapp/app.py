"""`talkapp` with no arguments: the desktop app's composition root.

It builds the parts and wires them: the settings store, the UI bridge (the loop → UI
crossing), the clipboard reader (loop → UI → loop), the keys given for this run only, the
Controller (the conversation, on its loop thread) with those three handed in, the main window,
and the optional global hotkey. Settings are saved whenever they change; the session is closed
on quit. `run` applies the process-wide live-audio tuning (`talkapp.threads.tuning`) around it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from talkapp.controller import Controller, mode_for
from talkapp.history.store import HistoryError, HistoryStore
from talkapp.logs import start_logging, stop_logging
from talkapp.session.turns import Mode
from talkapp.settings.model import Settings
from talkapp.settings.secrets import SessionKeys
from talkapp.settings.store import SettingsStore
from talkapp.threads.tuning import UNTUNED, Untuned, tuned_for_live_audio
from talkapp.ui.bridge import UiBridge
from talkapp.ui.global_hotkey import GlobalHotkey
from talkapp.ui.hotkey_guard import HotkeyGuard, verdict
from talkapp.ui.main.clipboard_reader import ClipboardReader
from talkapp.ui.main.history_link import ConversationHistory
from talkapp.ui.main.window import MainWindow
from talkapp.ui.main.window_state import WindowState
from talkapp.ui.theme import Theme


def _assets() -> Path:
    """`assets/`: at the root of a frozen app (PyInstaller's sys._MEIPASS; packaging/), else
    beside the package (a checkout: ./dev, pip install -e)."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "assets" if bundle else Path(__file__).resolve().parent.parent / "assets"


ICON = _assets() / "icon.svg"
_log = logging.getLogger("talkapp.app")


class DesktopApp:
    def __init__(
        self,
        store: SettingsStore | None = None,
        history: HistoryStore | None = None,
        tuning: Untuned = UNTUNED,
    ) -> None:
        # The log first, as `talk` starts it: what follows (a settings notice, the engine's
        # states and errors) is in it, with the same rotation and redaction.
        self.log_path = start_logging()
        self.store = store or SettingsStore()
        loaded = self.store.load()
        # the profile's turn detection has the last word on the hands-free VAD
        settings = dataclasses.replace(loaded.settings, mode=mode_for(loaded.settings))
        self.theme = Theme(qt_application([]), loaded.settings.appearance)  # before any widget
        self.bridge = UiBridge()
        self.clipboard = ClipboardReader()  # the read_clipboard tool reads through it
        self.controller = Controller(
            settings,
            self.bridge.post,
            session_keys=SessionKeys(),
            clipboard=self.clipboard.read,
            clipboard_consent=self.clipboard.consent,
            tuning=tuning,
            output_on_demand=output_on_demand(os.environ),
        )
        self.window = MainWindow(settings, self.controller)
        if Mode(settings.mode).hands_free:
            # The last mode comes back, but a restart never sends the microphone by itself:
            # hands-free starts muted, one click (or Ctrl+M) from talking.
            self.window.set_muted(True)
        self.clipboard.consent_asked.connect(self.window.ask_clipboard_consent)
        # Owned by the window, so they are deleted on the main thread with it; were the last
        # reference dropped by a garbage collection on the loop thread (the engine holds the
        # bridge's `post` and the clipboard's `read`), a QObject would be destroyed on the wrong
        # thread.
        self.bridge.setParent(self.window)
        self.clipboard.setParent(self.window)
        kept = self._open_history(history, settings)
        prices = self.store.folder / "prices.json"
        self.history = ConversationHistory(self.window, self.controller, kept, prices)
        # The history first: it clears a read-only view before the window draws a new turn on it.
        self.bridge.deliver_to(self.history.on_event)
        self.bridge.deliver_to(self.window.on_event)
        self.window_state = WindowState(self.store.folder)
        splitter = self.window.transcript.parentWidget()
        self.history.show_panel(self.window_state.restore(self.window, splitter))
        self.window.settings_changed.connect(self._settings_changed)
        for notice in loaded.notices:
            _log.warning("settings: %s", notice)
            self.window.banners.show_message("settings", "warning", notice)
        self._hotkey: GlobalHotkey | None = None
        self._hotkey_combo = ""
        self._hotkey_guard = HotkeyGuard(self.store.folder)
        self._start_global_hotkey(loaded.settings.hotkeys.global_push_to_talk, at_launch=True)

    def start(self) -> None:
        _log.info("the desktop app started on the profile %s", self.window.settings.active)
        self.history.start()
        self.window.show()
        self.window.start()

    def _open_history(
        self, history: HistoryStore | None, settings: Settings
    ) -> HistoryStore | None:
        if not settings.history.enabled:
            return None
        store = history or HistoryStore()
        try:
            store.open()
        except HistoryError as exc:
            message = f"{exc} This conversation is not being saved."
            self.window.banners.show_message("history", "warning", message)
            return None
        for notice in store.notices:
            self.window.banners.show_message("history", "warning", notice)
        return store

    def shutdown(self) -> None:
        """Quit: the window goes away first, then the session closes (this waits, briefly, for
        the loop: the only wait on the main thread, once nothing is left to draw)."""
        if self._hotkey is not None:
            self._hotkey.stop()
            self._hotkey_guard.disarm()
        splitter = self.window.transcript.parentWidget()
        self.window_state.save(self.window, splitter, self.history.panel.isVisible())
        self.window.hide()
        self.controller.shutdown()
        if self.history.store is not None:
            self.history.store.close()
        self.theme.close()
        _log.info("the desktop app quit")
        stop_logging()

    def _settings_changed(self, settings: Settings) -> None:
        try:
            self.store.save(settings)
        except OSError as exc:
            self.window.banners.show_message(
                "settings",
                "error",
                f"Your settings could not be saved to {self.store.path} ({exc.strerror or exc}).",
            )
        if settings.appearance != self.theme.appearance:
            self.theme.apply(settings.appearance)
        if settings.hotkeys.global_push_to_talk != self._hotkey_combo:
            self._start_global_hotkey(settings.hotkeys.global_push_to_talk)

    def _start_global_hotkey(self, combo: str, at_launch: bool = False) -> None:
        """Start the hotkey `combo` ("" = off). At launch, not after a run it may have crashed
        (`hotkey_guard`); a combination the person chose now always starts."""
        if self._hotkey is not None:
            self._hotkey.stop()
            self._hotkey = None
        self._hotkey_combo = combo
        if at_launch:
            told = verdict(combo, self._hotkey_guard.left_running())
            if not told.start and told.message:
                self.window.banners.show_message(
                    "hotkey",
                    "warning",
                    told.message,
                    [
                        ("Turn it &on again", lambda: self._retry_global_hotkey(combo)),
                        ("Hot&key settings…", lambda: self.window.open_settings("hotkeys")),
                    ],
                )
                return
        self._hotkey_guard.disarm()
        if not combo:
            return
        hotkey = GlobalHotkey(self.window)  # deleted with the window, on the main thread
        if not hotkey.isolated:  # a listener in its own process cannot take the app down
            self._hotkey_guard.arm(combo)
        why = hotkey.start(combo)
        if why is None:
            hotkey.pressed.connect(self.window.global_pressed)
            hotkey.released.connect(self.window.global_released)
            hotkey.failed.connect(self._global_hotkey_failed)
            self._hotkey = hotkey
            return
        self._hotkey_guard.disarm()
        hotkey.deleteLater()
        self.window.banners.show_message(
            "hotkey",
            "warning",
            f"The global hotkey {combo} is off: {why}",
            [("Hot&key settings…", lambda: self.window.open_settings("hotkeys"))],
        )

    def _global_hotkey_failed(self, why: str) -> None:
        """Its helper process died (macOS, Windows): the app lives on, the hotkey is off."""
        self._hotkey_guard.disarm()
        self.window.banners.show_message(
            "hotkey",
            "warning",
            why,
            [
                ("Turn it &on again", lambda: self._retry_global_hotkey(self._hotkey_combo)),
                ("Hot&key settings…", lambda: self.window.open_settings("hotkeys")),
            ],
        )

    def _retry_global_hotkey(self, combo: str) -> None:
        if combo == self._hotkey_combo:
            self.window.banners.clear("hotkey")
            self._start_global_hotkey(combo)


def output_on_demand(environ: Mapping[str, str]) -> bool | None:
    """TALKAPP_OUTPUT_ON_DEMAND=1: the output stream runs only while a reply plays; =0: all
    session; unset: the engine's default. Not a setting: bench/idle_cpu.py measures the app
    both ways while the engine's default is being soaked."""
    value = environ.get("TALKAPP_OUTPUT_ON_DEMAND", "").strip()
    return {"1": True, "0": False}.get(value)


def quit_on_signals(app: QApplication) -> None:
    """Ctrl-C, logout (SIGINT, SIGTERM): quit cleanly. Python runs a signal's handler only when
    the main thread next runs Python code, and an idle window's thread may sleep in Qt for
    minutes (no timer polls while nobody talks): the signal's byte on a socket wakes it
    (`signal.set_wakeup_fd`), and the notifier's slot is the Python code the handler runs at."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(512)

    notifier.activated.connect(drain)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    _SIGNAL_SOCKETS[:] = [reader, writer]  # open for the process's life, as the notifier


_SIGNAL_SOCKETS: list[socket.socket] = []


def qt_application(argv: list[str]) -> QApplication:
    """The process's QApplication, made with `argv` unless there is one already."""
    app = QApplication.instance()
    if app is None:
        return QApplication(argv)
    if not isinstance(app, QApplication):  # a QCoreApplication cannot show windows
        raise TypeError(f"a {type(app).__name__} runs already: no window can be shown")
    return app


def app_icon() -> QIcon:
    return QIcon(str(ICON)) if ICON.is_file() else QIcon()


def run(open_settings: bool = False) -> int:
    if sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        print(
            "talkapp: no display to open the window on (DISPLAY is not set); "
            "the command-line tools work without one: talkapp --help",
            file=sys.stderr,
        )
        return 1
    app = qt_application(sys.argv[:1])
    app.setApplicationName("TalkApp")
    app.setOrganizationName("TalkApp")
    app.setDesktopFileName("talkapp")
    app.setWindowIcon(app_icon())
    with tuned_for_live_audio() as tuning:
        desktop = DesktopApp(tuning=tuning)
        app.aboutToQuit.connect(desktop.shutdown)
        quit_on_signals(app)
        desktop.start()
        if open_settings:
            QTimer.singleShot(0, desktop.window.open_settings)
        return app.exec()
