"""Blocking work for the settings pane, off the Qt main thread; results come back as queued
signals.

Keyring calls (a D-Bus round trip, maybe an unlock prompt), device listing (PortAudio) and the
connection test all block. `Tasks.run` puts such a call on a worker *lane*: one daemon thread
per lane, jobs in the order given, so a keyring status check asked for after "Save key" cannot
overtake it and show a stale "no key stored". (The connection test's lane waits on the
controller's future there, not here.)

The way back is one crossing: `_done` is connected with `QueuedConnection` to `_deliver`, a
slot of this main-thread object, which calls the callback on the main thread. Results that
arrive after `close()` (the dialog went away) are dropped.

Daemon threads, not a ThreadPoolExecutor: its threads are joined at interpreter exit, so a
keyring call stuck on an unlock prompt would keep the app from quitting.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None


Callback = Callable[[Outcome], None]


class Tasks(QObject):
    _done = Signal(object)  # (callback, Outcome), emitted on a worker thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._lanes: dict[str, queue.SimpleQueue] = {}
        self._closed = False

    def run(self, fn: Callable[[], Any], on_done: Callback, lane: str = "misc") -> None:
        """Call `fn()` on `lane`'s thread; `on_done(Outcome)` later, on the main thread."""
        if self._closed:
            return
        jobs = self._lanes.get(lane)
        if jobs is None:
            jobs = self._lanes[lane] = queue.SimpleQueue()
            threading.Thread(
                target=self._work, args=(jobs,), name=f"talkapp-settings-{lane}", daemon=True
            ).start()
        jobs.put((fn, on_done))

    def close(self) -> None:
        """Drop every result still to come and let the lane threads end."""
        self._closed = True
        for jobs in self._lanes.values():
            jobs.put(None)

    def _work(self, jobs: queue.SimpleQueue) -> None:
        while (job := jobs.get()) is not None:
            fn, on_done = job
            try:
                outcome = Outcome(fn())
            except Exception as exc:  # noqa: BLE001 - handed to the callback, which says what failed
                outcome = Outcome(error=exc)
            self._post(on_done, outcome)

    def _post(self, on_done: Callback, outcome: Outcome) -> None:
        if self._closed:
            return
        try:
            self._done.emit((on_done, outcome))
        except RuntimeError:  # the C++ object is gone with its dialog: nobody to tell
            pass

    @Slot(object)
    def _deliver(self, payload: tuple[Callback, Outcome]) -> None:
        if not self._closed:
            on_done, outcome = payload
            on_done(outcome)
