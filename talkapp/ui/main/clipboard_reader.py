"""The clipboard for the `read_clipboard` tool: loop → UI → loop.

Qt's clipboard belongs to the main thread, and the tool runs on the loop. `read()` is called on
the loop: it hands a `concurrent.futures.Future` to this main-thread object through a queued
signal, the slot reads the clipboard there and resolves the future, and the loop awaits it. The
UI never waits on anything. Whether reading is allowed is the tool's business, not this one's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication


class ClipboardReader(QObject):
    _asked = Signal(object)  # a concurrent.futures.Future[str], emitted on the loop thread
    # A concurrent.futures.Future[bool] for the user's answer, delivered on the main thread: the
    # window asks (a prompt, not a dialog) and resolves it.
    consent_asked = Signal(object)
    _ask_consent = Signal(object)  # emitted on the loop thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._asked.connect(self._read, Qt.ConnectionType.QueuedConnection)
        self._ask_consent.connect(self.consent_asked, Qt.ConnectionType.QueuedConnection)

    async def consent(self) -> bool:
        """On the loop: may the model read the clipboard this once? (The user's answer.)"""
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        self._ask_consent.emit(future)
        return await asyncio.wrap_future(future)

    async def read(self) -> str:
        """On the loop: the clipboard's text ("" when it holds none)."""
        future: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._asked.emit(future)
        return await asyncio.wrap_future(future)

    @Slot(object)
    def _read(self, future: concurrent.futures.Future) -> None:
        if future.set_running_or_notify_cancel():
            future.set_result(QGuiApplication.clipboard().text())
