"""What the window says and does in each state, on the real app (offscreen widgets, the real
Controller and engine, the simulator over a real socket, the private sound server): offline,
reconnect, a refused dialect with its one-click fix, hands-free with its live ring and mute,
push-to-talk's "Ready". The wording itself is pure (`status_text`) and checked first."""

import dataclasses

import numpy as np
import pytest
import test_ui_main
from fake_keys import fake_key
from PySide6.QtCore import Qt
from speech import silence, speak
from test_ui_main import QUESTION, WAIT, replies, say_into_mic, wait_live

from talkapp.protocol.commands import AppendAudio
from talkapp.protocol.events import ServerError
from talkapp.protocol.explain import explain
from talkapp.protocol.selection import choose_dialect
from talkapp.session import engine_events as out
from talkapp.session.engine_events import State
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile, simulator_profile
from talkapp.ui.main import status_text
from talkapp.ui.main.talk_button import TalkButton


def test_push_to_talk_says_ready_not_listening_while_nothing_is_sent():
    line = status_text.describe(State.LISTENING, hands_free=False, hotkey="Space").line
    assert line == "Ready — hold Space or the button to talk." and "Listening" not in line
    assert status_text.describe(State.LISTENING, True, "Space").line.startswith("Listening")


def test_states_in_plain_words():
    assert status_text.describe(State.IDLE, False, "").chip == "Offline"
    reconnecting = status_text.describe(State.RECONNECTING, True, "", since="14:05")
    assert reconnecting.line.startswith("Connection lost at 14:05 — reconnecting")
    assert reconnecting.chip == "Reconnecting since 14:05" and reconnecting.kind == "busy"
    muted = status_text.describe(State.LISTENING, True, "", muted=True)
    assert muted.line.startswith("Muted — nothing you say is sent") and muted.title == "Muted"


def test_a_retired_beta_explained_for_the_window_names_the_fix_that_works():
    retired = ServerError(code="beta_api_shape_disabled", message="m")
    chosen = explain(retired, "gpt-4o-realtime-preview", choose_dialect("beta", "gpt-realtime"))
    auto = explain(
        retired, "gpt-4o-realtime-preview", choose_dialect("auto", "gpt-4o-realtime-preview")
    )
    assert "--api ga" in chosen and "--api" not in status_text.for_the_window(chosen)
    assert "dialect to GA" in chosen and "GA or Auto" not in chosen
    assert "choose a GA model such as gpt-realtime" in auto and "dialect to GA" not in auto
    assert status_text.needs_ga(chosen) and status_text.needs_ga(auto)


def test_no_dot_is_left_on_the_ring_by_the_rooms_hiss(qtbot):
    button = TalkButton()
    qtbot.addWidget(button)
    button.set_ring(0.02)  # a quiet room after a turn
    assert not button.ring_shown
    button.set_ring(0.4)
    assert button.ring_shown
    button.set_metering(False)  # push-to-talk, not held: nothing is sent, no level shown
    assert not button.ring_shown


def test_offline_says_no_internet_connection_and_reconnect_shows_it_tried(
    qtbot, pulse, desktop_app, monkeypatch
):
    monkeypatch.setenv("TALKAPP_CUSTOM_API_KEY", fake_key("test-not-a-real-key"))
    offline = ProviderProfile(
        name="Away", provider="custom", base_url="wss://api.openai.invalid/v1"
    )
    settings = dataclasses.replace(Settings().with_profile(offline), active="Away")
    window = desktop_app(settings).window
    qtbot.waitUntil(lambda: window.state is State.ERROR, timeout=WAIT)
    banner = window.banners.get("connection")
    assert banner.text.startswith("No internet connection: api.openai.invalid could not be found")
    assert "Name or service" not in banner.text and "(Tried at " in banner.text
    assert window.header.state.text() == "Not connected"
    assert window.talk.button.text() == "Connect to talk"

    states = []
    qtbot.mouseClick(banner.buttons[0], Qt.MouseButton.LeftButton)  # Reconnect
    states.append(window.state)  # at once: the click shows that it tries
    qtbot.waitUntil(
        lambda: window.state is State.ERROR and window.banners.get("connection") is not banner,
        timeout=WAIT,
    )
    assert states == [State.CONNECTING]
    assert "(Tried at " in window.banners.get("connection").text


def test_a_refused_beta_session_offers_switch_to_ga_which_fixes_it(qtbot, pulse, desktop_app):
    beta = dataclasses.replace(simulator_profile(), api="beta")
    window = desktop_app(Settings(profiles=(beta,))).window
    wait_live(qtbot, window)
    retired = ServerError(code="beta_api_shape_disabled", message="m")
    # what the engine reports when OpenAI refuses the beta dialect (the simulator accepts it)
    why = explain(retired, beta.model, choose_dialect("beta", beta.model))
    window.on_event(out.StateChanged(State.ERROR, why, out.CONNECTION))
    banner = window.banners.get("connection")
    assert [b.text() for b in banner.buttons] == ["Sw&itch to GA", "Profile settings…"]
    assert "CLI" not in banner.text and "--api" not in banner.text

    qtbot.mouseClick(banner.buttons[0], Qt.MouseButton.LeftButton)
    assert window.settings.active_profile().api == "ga"
    qtbot.waitUntil(lambda: "· GA" in window.header.model.text(), timeout=WAIT)
    wait_live(qtbot, window)
    assert window.banners.get("connection") is None


def test_hands_free_is_live_with_a_ring_and_mute_stops_sending(qtbot, pulse, desktop_app):
    app = desktop_app()
    window = app.window
    wait_live(qtbot, window)
    qtbot.mouseClick(window.talk.modes.hands_free, Qt.MouseButton.LeftButton)
    button = window.talk.button
    assert button.live and button.text() == "Hands-free:\njust talk"  # not grey as if disabled
    assert window.talk.mute_button.isVisible() and not window.talk.mute_button.isChecked()

    engine = app.controller.engine
    appended = spy_on_appends(engine)
    qtbot.mouseClick(window.talk.mute_button, Qt.MouseButton.LeftButton)
    assert window.muted and button.text() == "Muted"
    qtbot.waitUntil(lambda: engine.muted, timeout=WAIT)  # the command reached the loop
    assert window.talk.state_line.text().startswith("Muted — nothing you say is sent")
    appended.clear()  # what went out before the click reached the loop
    qtbot.waitUntil(lambda: not engine._parts.io.input_open, timeout=WAIT)  # the mic closes
    _, ring_peak = say_into_mic(qtbot, pulse, window, QUESTION)
    assert ring_peak == 0  # nothing was read from the microphone ...
    assert appended == [] and window.transcript.view.turns() == []  # ... nor sent
    assert window.state is State.LISTENING

    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)  # the hotkey
    assert not window.muted and window.talk.state_line.text().startswith("Listening")
    qtbot.waitUntil(lambda: not engine.muted and bool(appended), timeout=WAIT)  # sending again
    pulse.feed_mic(np.concatenate([speak(QUESTION), silence(0.8)]))
    qtbot.waitUntil(lambda: any("I heard" in r for r in replies(window)), timeout=WAIT)

    window.close_session()
    qtbot.waitUntil(lambda: window.state is State.IDLE, timeout=WAIT)
    assert button.text() == "Connect to talk" and not button.live  # never "just talk" offline


def spy_on_appends(engine) -> list:
    """The microphone audio the engine sends from now on (its `_send`, wrapped: the real
    command still goes to the service)."""
    appended = []
    send = engine._send

    async def sending(command):
        if isinstance(command, AppendAudio):
            appended.append(len(command.pcm))
        await send(command)

    engine._send = sending
    return appended


desktop_app = test_ui_main.desktop  # the real app, started as `talkapp` starts it


@pytest.fixture(autouse=True)
def _no_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
