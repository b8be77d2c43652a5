"""The app for the keyboard and for screen readers, on the real window and settings pane
(offscreen): every control has a name and a description (what Qt's accessibility bridge hands
Orca, Narrator and VoiceOver), Tab follows the reading order and reaches every control, the
focus shows where the style's own frame does not, state changes reach the talk button's
description, and Enter holds the talk button as Space does."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_ui_main import WAIT, desktop, wait_live  # noqa: F401  (fixtures and helpers)

from talkapp.app import DesktopApp
from talkapp.controller import NeedsKey
from talkapp.session import engine_events as out
from talkapp.session.engine_events import ApprovalRequested, State
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.providers import PRESETS
from talkapp.settings.store import SettingsStore
from talkapp.ui.accessibility import (
    clashing_mnemonics,
    controls,
    description_of,
    in_reading_order,
    name_of,
    unnamed,
)
from talkapp.ui.main.status_text import LIVE
from talkapp.ui.settings.dialog import SettingsDialog


@pytest.fixture
def app(qtbot, tmp_path):
    """The app as `talkapp` builds it (window, controller, history), not connected: these
    tests need no session, so no sound server."""
    made = []

    def make(settings: Settings | None = None) -> DesktopApp:
        store = SettingsStore(tmp_path / "config")
        store.save(settings or Settings())
        desktop_app = DesktopApp(store)
        qtbot.addWidget(desktop_app.window)
        desktop_app.window.show()
        qtbot.waitExposed(desktop_app.window)
        made.append(desktop_app)
        return desktop_app

    yield make
    for desktop_app in made:
        desktop_app.shutdown()


def tab_walk(qtbot, start, steps: int) -> list[str]:
    """Names of the widgets Tab visits from `start`, `start` first."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(start.hasFocus, timeout=WAIT)
    seen = []
    for _ in range(steps):
        widget = QApplication.focusWidget()
        seen.append(name_of(widget))
        QTest.keyClick(widget, Qt.Key.Key_Tab)
    return seen


def test_every_control_of_the_main_window_has_a_name_and_a_description(qtbot, app):
    window = app().window
    window.on_event(NeedsKey("OpenAI", "“OpenAI” needs an API key."))  # a banner with buttons
    window.approvals.ask(ApprovalRequested("r1", "docs", "search", '{"q": "x"}'))
    found = controls(window)
    assert len(found) > 25  # the walk found the window's controls, history panel included
    assert unnamed(window) == []


def test_every_control_of_every_settings_tab_has_a_name_and_a_description(qtbot):
    settings = Settings()
    for provider in PRESETS:  # a profile of each provider: each shows its own rows
        if provider != "simulator":
            settings = settings.with_profile(ProviderProfile(name=provider, provider=provider))
    dialog = SettingsDialog(settings, None)
    qtbot.addWidget(dialog)
    dialog.show()
    names = [p.name for p in dialog.profiles.profiles()]
    for index in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(index)
        for row in range(len(names)):
            dialog.profiles.list.setCurrentRow(row)
            assert unnamed(dialog) == [], (dialog.tabs.tabText(index), names[row])
    assert len(controls(dialog)) > 60


def test_tab_reaches_every_control_of_the_main_window_in_reading_order(qtbot, app):
    window = app().window
    qtbot.mouseClick(window.talk.modes.hands_free, Qt.MouseButton.LeftButton)  # the VAD list on
    assert window.talk.modes.vad.isEnabled()
    header = ["Profile", "Connect", "Compare…", "Settings…"]
    welcome = ["Add a key…", "Dismiss"]  # the first-run banner, under the header
    talking = ["Connect to talk", "Push-to-talk", "Hands-free", "Turn detection"]
    talking += ["Mute the microphone", "Monthly budget…"]  # the talk button: by its caption
    reading = ["New conversation", "History", "Copy", "Export…", "Transcript", "Message"]
    expected = header + welcome + talking + reading  # Send is off until a message is typed
    assert tab_walk(qtbot, window.header.profiles, len(expected) + 1) == [*expected, "Profile"]

    # A banner that comes later is read where it is shown, right under the header.
    banner = window.banners.show_message(
        "audio", "warning", "The mic went away.", [("Pick…", print)]
    )
    qtbot.waitUntil(banner.buttons[0].isVisible, timeout=WAIT)
    walked = tab_walk(qtbot, window.header.profiles, len(expected) + 3)
    assert walked[4:9] == ["Add a key…", "Dismiss", "Pick…", "Dismiss", "Connect to talk"]


def test_no_two_controls_shown_claim_the_same_alt_key(qtbot, app):
    window = app().window  # the first run: the welcome banner, the history panel closed
    assert clashing_mnemonics(window) == {}
    # (Alt+F acting on the real X server: tests/test_screenshots.py switches to hands-free so)
    # ... nor with the banners that come later: a hint from the service (its button used to
    # take Alt+F from Hands-free, which then only moved the focus), an error, a dry speaker.
    window.on_event(out.Notice("warning", "The service ignored the voice.", ""))
    window.on_event(out.StateChanged(State.ERROR, "The session failed."))
    window.on_event(out.Notice("warning", "The speaker ran dry 1 time.", out.PLAYBACK))
    for topic in ("service", "connection", "audio"):
        qtbot.waitUntil(window.banners.get(topic).isVisible, timeout=WAIT)
    assert clashing_mnemonics(window) == {}


def test_a_dry_speaker_is_told_with_no_button_to_press(qtbot, app):
    """TalkApp moved to larger blocks itself: no device or setting to pick (the notice once
    offered "Pick another device…", which opened the Audio tab and fixed nothing)."""
    window = app().window
    window.on_event(out.Notice("warning", "The speaker ran dry 1 time.", out.PLAYBACK))
    banner = window.banners.get("audio")
    qtbot.waitUntil(banner.isVisible, timeout=WAIT)
    assert banner.buttons == []


def test_tab_walks_the_profiles_tab_in_reading_order_with_no_nameless_stop(qtbot):
    settings = Settings().with_profile(ProviderProfile(name="OpenAI", key_name="a11y-test"))
    dialog = SettingsDialog(settings, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.profiles.list.setCurrentRow(1)
    qtbot.mouseClick(dialog.profiles.form.api_buttons["beta"], Qt.MouseButton.LeftButton)
    page = ["Profiles", "Profiles", "Add", "Duplicate", "Remove", "Use for talking"]
    form = ["Name:", "Provider:", "Base URL:", "Model:", "Beta", "Switch to GA", "Voice:"]
    form += ["Instructions:", "Turn detection:", "Threshold", "Prefix padding", "Silence"]
    form += ["Input transcription:", "Use the system's proxy for wss:// (https_proxy …)"]
    start = page + form + ["API key"]
    walked = tab_walk(qtbot, dialog.tabs.tabBar(), len(start) + 12)
    assert walked[: len(start)] == start
    # the key's buttons depend on the keyring there is: Save key, Forget, or Use for this session
    end = walked.index("Test connection", len(start))
    assert walked[end : end + 5] == ["Test connection", "OK", "Cancel", "Apply", "Profiles"]
    assert all(walked[: end + 5]), walked  # no stop without a name


def test_reading_order_is_rows_top_to_bottom_then_left_to_right():
    # a row of a combo box and taller buttons, a tall view, a row under it
    boxes = [(2, 26, 300), (0, 30, 10), (1, 29, 100), (40, 400, 0), (410, 440, 50), (412, 436, 0)]
    assert in_reading_order(boxes) == [1, 2, 0, 3, 5, 4]


def colour_at(widget, x: int, y: int) -> QColor:
    return widget.grab().toImage().pixelColor(x, y)


def near(a: QColor, b: QColor) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) < 48


@pytest.mark.parametrize("which", ["transcript", "checked push-to-talk"])
def test_the_focus_shows_on_the_transcript_and_on_the_checked_mode_button(qtbot, app, which):
    window = app().window  # push-to-talk: its button is the checked one
    widget = window.transcript.view if which == "transcript" else window.talk.modes.push_to_talk
    assert widget.focusPolicy() != Qt.FocusPolicy.NoFocus
    palette = widget.palette()
    accent = palette.color(QPalette.ColorRole.Highlight)
    inner = palette.color(QPalette.ColorRole.Base)
    middle = widget.height() // 2
    window.talk.button.setFocus()
    qtbot.waitUntil(window.talk.button.hasFocus, timeout=WAIT)
    before = colour_at(widget, 2, middle), colour_at(widget, 4, middle)
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=WAIT)
    outer_now, inner_now = colour_at(widget, 1, middle), colour_at(widget, 3, middle)
    assert near(outer_now, accent) and near(inner_now, inner)  # the two-tone ring
    assert not (near(before[0], accent) and near(before[1], inner))  # which was not there


def test_state_changes_reach_the_talk_buttons_description(qtbot, app):
    window = app().window
    window.on_event(out.StateChanged(State.CONNECTING, ""))
    assert description_of(window.talk.button) == "Connecting to the service…"
    window.on_event(out.StateChanged(State.LISTENING, ""))
    line = window.talk.state_line.text()
    assert line.startswith("Ready") and description_of(window.talk.button) == line
    assert window.talk.state_line.accessibleDescription() == line
    assert name_of(window.talk.button) == "Hold to talk (Space)"  # named by what it does now
    qtbot.mouseClick(window.talk.modes.hands_free, Qt.MouseButton.LeftButton)
    assert name_of(window.talk.button) == "Hands-free: just talk"
    assert description_of(window.talk.button).startswith("Listening — just start speaking")


def test_enter_holds_the_talk_button_as_space_does(qtbot, pulse, desktop):  # noqa: F811
    window = desktop().window
    wait_live(qtbot, window)
    button = window.talk.button
    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=WAIT)
    QTest.keyPress(button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.state is State.USER_SPEAKING, timeout=WAIT)
    assert button.looks_pressed and button.text() == "Release to send"
    QTest.keyRelease(button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.state is not State.USER_SPEAKING, timeout=WAIT)
    assert window.state in LIVE and not button.looks_pressed
