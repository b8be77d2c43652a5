"""The window polls the engine's levels only while a meter can move: nothing wakes the GUI
thread while nobody talks. Real widgets (offscreen) and the real Controller, not connected; its
`levels` is replaced by what a session would read (moving levels need a live microphone: the
real-audio run of the same behaviour is in test_ui_main.py)."""

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from talkapp.controller import Controller
from talkapp.session import engine_events as out
from talkapp.session.engine_events import State
from talkapp.settings.model import Settings
from talkapp.ui.main.level_poll import POLL_MS, RESTING_POLL_MS, needed
from talkapp.ui.main.talk_button import TalkButton
from talkapp.ui.main.window import MainWindow

SILENT = (float("-inf"), float("-inf"))


@pytest.mark.parametrize(
    ("state", "hands_free", "muted", "holding", "polls"),
    [
        (State.IDLE, False, False, False, False),
        (State.CONNECTING, True, False, False, False),
        (State.ERROR, True, False, True, False),
        (State.LISTENING, False, False, False, False),  # push-to-talk, waiting
        (State.LISTENING, False, False, True, True),  # held
        (State.LISTENING, True, False, False, True),  # hands-free: the microphone is open
        (State.LISTENING, True, True, False, False),  # muted: it is closed
        (State.USER_SPEAKING, False, False, False, True),
        (State.WAITING, False, False, False, True),
        (State.ASSISTANT_SPEAKING, True, True, False, True),  # a reply plays, muted or not
    ],
)
def test_levels_are_polled_only_while_one_can_move(state, hands_free, muted, holding, polls):
    assert needed(state, hands_free, muted, holding) is polls


@pytest.fixture
def window(qtbot):
    controller = Controller(Settings(), lambda _event: None)
    levels = [SILENT]
    controller.levels = lambda: levels[0]  # type: ignore[method-assign]
    window = MainWindow(Settings(), controller)
    window.levels = levels  # type: ignore[attr-defined]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    controller.shutdown()


def rests(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.level_poll.active, timeout=5000)


def ticks(qtbot, window, count: int = 3) -> None:
    for _ in range(count):
        with qtbot.waitSignal(window.level_poll.timer.timeout, timeout=2000):
            pass


def test_waiting_in_push_to_talk_polls_nothing_and_a_press_wakes_the_meters(qtbot, window):
    rests(qtbot, window)  # not connected
    window.on_event(out.StateChanged(State.LISTENING))
    rests(qtbot, window)  # connected, push-to-talk, nobody talking

    window.levels[0] = (-20.0, float("-inf"))  # (the microphone opens as the button goes down)
    window.hold("button")
    assert window.level_poll.active
    qtbot.waitUntil(lambda: window.talk.mic.value > 0.5, timeout=2000)
    window.let_go("button")
    ticks(qtbot, window)
    assert window.level_poll.active  # the microphone still hears the room: the meter shows it

    window.levels[0] = SILENT  # it closed
    rests(qtbot, window)
    assert window.talk.mic.value == 0 and window.talk.button.ring == 0  # fallen, then stopped


def test_a_reply_playing_is_polled_until_the_speaker_meter_falls(qtbot, window):
    window.on_event(out.StateChanged(State.LISTENING))
    rests(qtbot, window)
    window.on_event(out.StateChanged(State.ASSISTANT_SPEAKING))
    window.levels[0] = (float("-inf"), -12.0)
    qtbot.waitUntil(lambda: window.talk.speaker.value > 0.5, timeout=2000)
    window.levels[0] = SILENT
    ticks(qtbot, window)
    assert window.level_poll.active  # still speaking: the next audio needs no event
    window.on_event(out.StateChanged(State.LISTENING))
    rests(qtbot, window)
    assert window.talk.speaker.value == 0


def test_hands_free_listening_polls_until_muted_and_never_while_hidden(qtbot, window):
    window.choose_mode("server_vad")
    window.on_event(out.StateChanged(State.LISTENING))
    ticks(qtbot, window)
    assert window.level_poll.active  # the open microphone, silent or not, may move any time
    assert window.level_poll.timer.interval() == RESTING_POLL_MS  # a quiet room: a slower look
    window.levels[0] = (-20.0, float("-inf"))  # a voice
    qtbot.waitUntil(lambda: window.talk.mic.value > 0.5, timeout=2000)
    assert window.level_poll.timer.interval() == POLL_MS  # the meter moves: at full pace
    window.levels[0] = SILENT
    qtbot.waitUntil(lambda: window.level_poll.timer.interval() == RESTING_POLL_MS, timeout=5000)
    assert window.level_poll.active and window.talk.mic.value == 0  # fallen, still looking

    window.set_muted(True)
    rests(qtbot, window)
    window.set_muted(False)
    assert window.level_poll.active

    window.hide()
    rests(qtbot, window)
    window.levels[0] = (float("-inf"), -12.0)
    window.on_event(out.StateChanged(State.ASSISTANT_SPEAKING))
    assert not window.level_poll.active and window.talk.speaker.value == 0  # nobody sees it
    window.show()
    qtbot.waitUntil(lambda: window.talk.speaker.value > 0.5, timeout=2000)  # shown: caught up


class Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched, event) -> bool:
        if event.type() is QEvent.Type.Paint:
            self.count += 1
        return False


def settled(paints: Paints) -> None:
    """Deliver what is pending until a round paints nothing; then count from zero."""
    for _ in range(10):
        before = paints.count
        QApplication.processEvents()
        if paints.count == before:
            break
    paints.count = 0


def test_the_talk_button_repaints_only_for_a_ring_it_shows(qtbot):
    button = TalkButton()
    qtbot.addWidget(button)
    button.set_metering(False)  # push-to-talk, not held: the ring shows no level
    button.show()
    qtbot.waitExposed(button)
    paints = Paints()
    button.installEventFilter(paints)
    qtbot.waitUntil(lambda: paints.count > 0)  # shown: drawn
    settled(paints)  # and again for the pointer entering it (offscreen Qt puts it there)
    for level in (0.2, 0.6, 0.9, 0.0):
        button.set_ring(level)
        button.set_live(True)  # unchanged: nothing to draw either
        button.set_held(False)
        QApplication.processEvents()
    assert paints.count == 0

    button.set_metering(True)  # held: the ring shows the level
    QApplication.processEvents()
    assert paints.count == 1
    button.set_ring(0.5)
    QApplication.processEvents()
    assert paints.count == 2 and button.ring_shown
