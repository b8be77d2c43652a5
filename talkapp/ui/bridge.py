"""loop → UI: the one crossing into the Qt main thread.

The engine and the controller call `UiBridge.emit` on the loop thread (or a done-callback
thread); the payload — a frozen dataclass — arrives on the main thread at the one slot given to
`deliver_to`, through a queued connection. `watch` turns a command's future into the same kind
of payload when it fails, so the UI never waits on a future.
"""

from __future__ import annotations

import concurrent.futures

from PySide6.QtCore import QObject, Qt, Signal

from talkapp.session.engine_events import Notice


class UiBridge(QObject):
    event = Signal(object)

    def emit(self, payload: object) -> None:
        """Any thread: queue `payload` for the main thread's slot."""
        self.event.emit(payload)

    def deliver_to(self, slot) -> None:
        """`slot`: a `@Slot(object)` bound method of an object living on the main thread (not a
        lambda: a queued call needs a receiver whose thread decides where it runs)."""
        self.event.connect(slot, Qt.ConnectionType.QueuedConnection)

    def watch(self, future: concurrent.futures.Future | None, doing: str) -> None:
        """If `future` (a command on the loop) raises, say so as an error notice."""
        if future is not None:
            future.add_done_callback(lambda done: self._report(done, doing))

    def _report(self, future: concurrent.futures.Future, doing: str) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self.emit(Notice("error", f"Could not {doing}: {type(error).__name__}: {error}"))
