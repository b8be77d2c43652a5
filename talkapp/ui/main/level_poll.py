"""When the window polls the engine's levels: only while a meter can move.

A ~30 Hz timer wakes the GUI thread 30 times a second. While nobody talks nothing can move —
push-to-talk's microphone is closed, nothing plays — so the timer stops once the meters have
fallen to rest, and starts again at what can make a level move: an engine event, a press,
unmuting, a mode change, the window shown again. It never runs while the window is hidden or
minimised (the meters draw nothing then). While hands-free's open microphone hears nothing a
meter would show, it looks ten times a second instead of thirty: a voice shows at most 0.1 s
late, and then at full pace.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QWidget

from talkapp.session.engine_events import State
from talkapp.ui.main.status_text import LIVE

POLL_MS = 33  # ~30 Hz: the meters' own repaint cap
RESTING_POLL_MS = 100  # a level may move, none shows yet (an open microphone in a quiet room)


def needed(state: State, hands_free: bool, muted: bool, holding: bool) -> bool:
    """Whether a level can move with no event to say so: the open microphone of hands-free,
    a held talk button, or a turn under way (the user speaking, a reply coming or playing)."""
    if state not in LIVE:
        return False
    return holding or state is not State.LISTENING or (hands_free and not muted)


class LevelPoll(QObject):
    """`read` gives (mic dBFS, speaker dBFS); `show` draws them and says whether anything still
    shows a level (a meter falls slowly); `wanted` is `needed` for the window's state now."""

    def __init__(
        self,
        window: QWidget,
        read: Callable[[], tuple[float, float]],
        show: Callable[[float, float], bool],
        wanted: Callable[[], bool],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._read, self._show, self._wanted = read, show, wanted
        self._last: tuple[float, float] | None = None  # the levels drawn last
        self._showing = False  # whether the meters showed a level then
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._tick)

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def wake(self) -> None:
        """Something may move a level: poll until it rests again (a no-op while polling)."""
        if not self.timer.isActive() and self._seen():
            self._last = None  # draw the next levels whatever they are: the meters may be stale
            self.timer.start(POLL_MS)

    def _seen(self) -> bool:
        return self._window.isVisible() and not self._window.isMinimized()

    @Slot()
    def _tick(self) -> None:
        if not self._seen():
            self.timer.stop()  # shown again, the window wakes it
            return
        levels = self._read()
        if levels != self._last or self._showing:  # else drawing them again changes nothing
            self._showing = self._show(*levels)
            self._last = levels
        if not self._showing and not self._wanted():
            self.timer.stop()
        else:
            self.timer.setInterval(POLL_MS if self._showing else RESTING_POLL_MS)
