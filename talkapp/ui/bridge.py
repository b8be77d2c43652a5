"""loop → UI: the one crossing into the Qt main thread.

The engine and the controller call `UiBridge.post` on the loop thread (or a done-callback
thread); the payload — a frozen dataclass — arrives on the main thread at the one slot given to
`deliver_to`, through a queued connection. A command that fails arrives the same way, as an
error notice (`talkapp.session.handle.report_failure`), so the UI never waits on a future.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal


class UiBridge(QObject):
    # Not `event` nor `emit`: those are QObject's own (`event` is the virtual every event to
    # this object goes through).
    delivered = Signal(object)

    def post(self, payload: object) -> None:
        """Any thread: queue `payload` for the main thread's slot."""
        self.delivered.emit(payload)

    def deliver_to(self, slot: Callable[[object], None]) -> None:
        """`slot`: a `@Slot(object)` bound method of an object living on the main thread (not a
        lambda: a queued call needs a receiver whose thread decides where it runs)."""
        self.delivered.connect(slot, Qt.ConnectionType.QueuedConnection)
