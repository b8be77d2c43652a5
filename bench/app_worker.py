"""The desktop app sitting still, for bench/idle_cpu.py.

    python bench/app_worker.py STATE        STATE: ptt | server_vad | local_vad | disconnected

Runs `talkapp.app.run()`, what `talkapp` with no arguments runs, on the settings the bench
saved in TALKAPP_CONFIG_DIR (a custom profile at the bench's simulator, its key in
TALKAPP_CUSTOM_API_KEY). It only watches the engine's events (one more slot on the UI bridge)
and does what a person would to reach STATE: nothing in push-to-talk; unmute in hands-free (a
restart comes back muted); Disconnect for `disconnected`. Then it prints `ready` and leaves the
app alone until the bench terminates it. An error state is printed as `error: …` and ends it.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Slot

from talkapp.app import qt_application, run
from talkapp.session import engine_events as out
from talkapp.session.engine_events import State
from talkapp.ui.bridge import UiBridge
from talkapp.ui.main.window import MainWindow

STATES = ("ptt", "server_vad", "local_vad", "disconnected")


class Reach(QObject):
    """Brings the window to `state` once its session is live, then says `ready` once."""

    def __init__(self, window: MainWindow, state: str) -> None:
        super().__init__(window)
        self.window = window
        self.state = state
        self.said = False

    @Slot(object)
    def on_event(self, event: object) -> None:
        if self.said or not isinstance(event, out.StateChanged):
            return
        if event.state is State.ERROR:
            print(f"error: {event.detail}", flush=True)
            qt_application([]).exit(1)
        elif event.state is State.LISTENING:
            if self.state == "disconnected":
                self.window.close_session()
                return
            if self.window.muted:
                self.window.set_muted(False)
            self._ready()
        elif event.state is State.IDLE and self.state == "disconnected":
            self._ready()

    def _ready(self) -> None:
        self.said = True
        print(f"ready: {self.window.windowTitle()}", flush=True)


def attach(state: str) -> None:
    """On the app's first event-loop turn: the window exists and is connecting."""
    app = qt_application([])
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    bridge = window.findChild(UiBridge)
    assert bridge is not None, "the window owns the UI bridge (talkapp.app.DesktopApp)"
    reach = Reach(window, state)
    bridge.deliver_to(reach.on_event)
    if window.state is State.LISTENING:  # live before this slot was there to hear it
        reach.on_event(out.StateChanged(State.LISTENING))


def main() -> int:
    state = sys.argv[1] if len(sys.argv) > 1 else ""
    if state not in STATES:
        sys.exit(f"usage: app_worker.py {{{'|'.join(STATES)}}}")
    qt_application(sys.argv[:1])  # run() takes this one; the timer needs it to exist
    QTimer.singleShot(0, lambda: attach(state))
    return run()


if __name__ == "__main__":
    sys.exit(main())
