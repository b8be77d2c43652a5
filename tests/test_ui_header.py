"""The header at the smallest window TalkApp supports (640×480): nothing cut, the state chip
plain text, not a button; and what the header, the state line and the talk button say as the
connection comes and goes. Real widgets (offscreen) and the real Controller, not connected."""

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QPushButton

from talkapp.controller import Controller
from talkapp.session import engine_events as out
from talkapp.session.engine_events import State
from talkapp.settings.model import Settings
from talkapp.ui.main.window import MainWindow


@pytest.fixture
def window(qtbot):
    controller = Controller(Settings(), lambda _event: None)
    window = MainWindow(Settings(), controller)
    qtbot.addWidget(window)
    yield window
    controller.shutdown()


def whole(widget, header) -> bool:
    """Shown at its full width and inside the header."""
    left = widget.mapTo(header, QPoint(0, 0)).x()
    fits = 0 <= left and left + widget.width() <= header.width()
    return fits and widget.width() >= widget.sizeHint().width()


@pytest.mark.parametrize("size", [(640, 480), (1000, 660)])
def test_nothing_in_the_header_is_cut(qtbot, window, size):
    window.header.state.set("Connecting…", "busy")
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    assert (window.width(), window.height()) == size  # the window really is that small
    h = window.header
    for widget in (h.profiles, h.model, h.state, h.connect_button, h.settings_button):
        qtbot.waitUntil(lambda widget=widget: whole(widget, h))
    assert h.two_lines == (size[0] == 640)  # the chips move down only when they must


def test_the_state_chip_is_not_a_button(qtbot, window):
    state = window.header.state
    assert not isinstance(state, QPushButton)
    window.show()
    qtbot.waitExposed(window)
    image = state.grab().toImage()
    # no filled pill behind the text: the chip's right margin shows the window's own colour
    corner = image.pixelColor(image.width() - 2, image.height() // 2)
    assert corner == window.palette().color(window.backgroundRole())


def test_reconnecting_and_offline_in_plain_words_and_no_just_talk_while_disconnected(qtbot, window):
    window.choose_mode("server_vad")
    window.on_event(out.StateChanged(State.LISTENING))
    assert window.talk.button.text() == "Hands-free:\njust talk"
    window.on_event(out.StateChanged(State.RECONNECTING, "Connection lost (timeout)."))
    chip = window.header.state.text()
    assert chip.startswith("Reconnecting since ") and chip[-5:-3].isdigit()  # hh:mm
    assert window.talk.state_line.text().startswith(f"Connection lost at {chip[-5:]}")
    assert window.talk.button.text() == "Connecting…"
    window.on_event(out.StateChanged(State.IDLE))
    assert window.header.state.text() == "Offline" and window.windowTitle() == "TalkApp — Offline"
    assert window.talk.button.text() == "Connect to talk" and not window.talk.button.live
