"""The main window on real parts: the real widgets (offscreen), the real Controller and engine,
the built-in simulator over a real socket, and a private PulseAudio whose virtual mic is fed
espeak speech. Every turn here is a whole turn: heard, answered, shown on both sides."""

import asyncio
import dataclasses
import faulthandler
import sys

import numpy as np
import pytest
from fake_keys import fake_key
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QFileDialog
from speech import silence, speak
from test_ui_follow import on_screen

from talkapp.app import DesktopApp
from talkapp.session import engine_events as out
from talkapp.session.engine_events import State
from talkapp.settings.model import HotkeySettings, Settings
from talkapp.settings.profile import SIMULATOR_PROFILE, ProviderProfile, simulator_profile
from talkapp.settings.store import SettingsStore
from talkapp.threads.tuning import tuned_for_live_audio
from talkapp.ui.main import window as main_window
from talkapp.ui.main.status_text import LIVE

QUESTION = "Hello, can you hear me? What is the weather like today?"
WAIT = 30_000  # ms: generous for a loaded CI box; waits end as soon as the condition holds


@pytest.fixture
def no_key(monkeypatch):
    """No API key anywhere: no OS keyring, no OPENAI_API_KEY."""
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def desktop(qtbot, pulse, tmp_path):
    """Start the app as `talkapp` does (optionally with saved settings), tuned for live audio
    as `talkapp.app.run` tunes it; closes it and takes the tuning back afterwards."""
    started = []

    def start(settings: Settings | None = None) -> DesktopApp:
        store = SettingsStore(tmp_path / "config")
        if settings is not None:
            store.save(settings)
        app = DesktopApp(store, tuning=tuning)
        qtbot.addWidget(app.window)
        app.start()
        started.append(app)
        return app

    with tuned_for_live_audio() as tuning:
        yield start
        # a shutdown that hangs (seen in CI before the pump's cancellable wait) prints where
        # every thread was
        faulthandler.dump_traceback_later(8, exit=False)
        try:
            for app in started:
                try:
                    app.shutdown()
                except TimeoutError:
                    print_tasks(app.controller)
                    raise
        finally:
            faulthandler.cancel_dump_traceback_later()


def print_tasks(controller) -> None:
    """What the controller's loop, and the simulator's, are still waiting for."""
    loops = [controller._loop.loop]
    simulator = controller._simulator
    if simulator is not None and simulator._running is not None:
        loops.append(simulator._running[1].loop)
    for loop in loops:
        for task in asyncio.all_tasks(loop):
            print(f"task {task.get_name()}:", file=sys.stderr)
            task.print_stack(file=sys.stderr)


def wait_live(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.state is State.LISTENING, timeout=WAIT)


def replies(window) -> list[str]:
    return [t.text for t in window.transcript.view.turns() if t.role == "assistant" and t.final]


def say_into_mic(qtbot, pulse, window, text: str) -> tuple[float, float]:
    """Play speech into the virtual mic, keeping the Qt event loop running meanwhile; returns
    the highest mic meter and talk-button ring values seen while it played."""
    player = pulse.feed_mic(np.concatenate([speak(text), silence(0.3)]))
    peaks = [0.0, 0.0]

    def played() -> bool:
        peaks[:] = max(peaks[0], window.talk.mic.value), max(peaks[1], window.talk.button.ring)
        return player.poll() is not None

    qtbot.waitUntil(played, timeout=WAIT)
    return peaks[0], peaks[1]


def send_key(widget, kind: QEvent.Type, key=Qt.Key.Key_Space, auto_repeat=False) -> None:
    text = " " if key == Qt.Key.Key_Space else ""
    QApplication.sendEvent(
        widget, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text, auto_repeat)
    )


def test_holding_the_button_drives_a_turn_and_the_transcript_shows_both_sides(
    qtbot, pulse, desktop
):
    window = desktop().window
    assert window.windowTitle().startswith("TalkApp")
    assert window.banners.get("welcome") is not None  # first start: offered to add a key
    wait_live(qtbot, window)
    assert window.header.model.text() == "gpt-realtime · GA (auto)"
    # waiting in push-to-talk: the microphone closed, nothing playing, no level to poll
    qtbot.waitUntil(lambda: not window.level_poll.active, timeout=WAIT)
    button = window.talk.button
    centre = button.rect().center()

    qtbot.mousePress(button, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: window.state is State.USER_SPEAKING, timeout=WAIT)
    assert button.looks_pressed and button.text() == "Release to send"
    assert "release to send" in window.talk.state_line.text()
    mic_peak, ring_peak = say_into_mic(qtbot, pulse, window, QUESTION)
    assert mic_peak > 0.3 and ring_peak > 0.3  # the meter and the ring moved with the speech
    assert window.talk.mic.value < mic_peak  # and fell back in the silence after it
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton, pos=centre)

    qtbot.waitUntil(lambda: any("I heard" in r for r in replies(window)), timeout=WAIT)
    qtbot.waitUntil(lambda: window.talk.speaker.value > 0.1, timeout=WAIT)  # the reply is playing
    turns = window.transcript.view.turns()
    user = [t for t in turns if t.role == "user"]
    assert len(user) == 1 and user[0].final and "s of speech" in user[0].text
    assert not button.looks_pressed
    assert not button.ring_shown  # let go: no level (no dot) on the ring while nothing is sent
    assert window.talk.state_line.text().startswith(("Ready", "Speaking", "Thinking"))
    shown = window.transcript.view.toPlainText()
    assert "You" in shown and "Assistant" in shown and "I heard" in shown
    qtbot.waitUntil(lambda: "first audio" in window.talk.last_reply.text(), timeout=WAIT)
    assert "tokens" in window.talk.last_reply.text() and "1 reply" in window.talk.session.text()
    # the reply over and the microphone closed again: the meters fall to rest, the poll stops
    qtbot.waitUntil(lambda: not window.level_poll.active, timeout=WAIT)
    assert window.talk.mic.value == 0 and window.talk.speaker.value == 0


def test_the_hotkey_talks_from_the_transcript_and_ignores_auto_repeat(qtbot, pulse, desktop):
    window = desktop().window
    wait_live(qtbot, window)
    view, message = window.transcript.view, window.transcript.message.edit
    presses = []
    window.hold_key.pressed.connect(lambda: presses.append("press"))
    window.activateWindow()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)

    send_key(view, QEvent.Type.KeyPress)
    qtbot.waitUntil(lambda: window.state is State.USER_SPEAKING, timeout=WAIT)
    assert window.talk.button.looks_pressed  # the button shows the key's hold
    for marked in (True, True, False, False):  # a held key repeats as release/press pairs, marked
        send_key(view, QEvent.Type.KeyRelease, auto_repeat=marked)  # auto-repeat or (Xvfb, some X
        send_key(view, QEvent.Type.KeyPress, auto_repeat=marked)  # servers) not
    say_into_mic(qtbot, pulse, window, QUESTION)
    assert presses == ["press"] and window.state is State.USER_SPEAKING
    send_key(view, QEvent.Type.KeyRelease)

    qtbot.waitUntil(lambda: any("I heard" in r for r in replies(window)), timeout=WAIT)
    assert [t.role for t in window.transcript.view.turns()] == ["user", "assistant"]
    assert message.text() == "" and view.hasFocus()


def test_the_hotkey_types_into_the_message_box_and_never_talks_from_there(qtbot, pulse, desktop):
    window = desktop().window
    wait_live(qtbot, window)
    message = window.transcript.message.edit
    presses = []
    window.hold_key.pressed.connect(lambda: presses.append("press"))
    window.activateWindow()
    message.setFocus()
    qtbot.waitUntil(message.hasFocus)

    for word in ("two", "words"):
        qtbot.keyClicks(QApplication.focusWidget(), word)
        send_key(QApplication.focusWidget(), QEvent.Type.KeyPress)
        send_key(QApplication.focusWidget(), QEvent.Type.KeyRelease)
    assert message.text() == "two words "
    assert (
        presses == [] and window.state is State.LISTENING and not window.talk.button.looks_pressed
    )


def test_a_typed_message_is_sent_answered_copied_and_exported(
    qtbot, pulse, desktop, tmp_path, monkeypatch
):
    window = desktop().window
    wait_live(qtbot, window)
    message = window.transcript.message.edit
    qtbot.keyClicks(message, "Hello from the keyboard")
    qtbot.keyClick(message, Qt.Key.Key_Return)
    assert message.text() == ""

    qtbot.waitUntil(
        lambda: any('You said: "Hello from the keyboard"' in r for r in replies(window)),
        timeout=WAIT,
    )
    user = [t for t in window.transcript.view.turns() if t.role == "user"]
    assert [t.text for t in user] == ["Hello from the keyboard"]
    qtbot.waitUntil(lambda: "tokens" in window.talk.last_reply.text(), timeout=WAIT)

    qtbot.mouseClick(window.transcript.copy_button, Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text()
    assert "**You**" in copied and copied.count("**Assistant**") == 1
    assert "Hello from the keyboard" in copied and 'You said: "Hello from the keyboard"' in copied
    exported = tmp_path / "conversation.md"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args: (str(exported), "Markdown (*.md)")
    )
    qtbot.mouseClick(window.transcript.export_button, Qt.MouseButton.LeftButton)
    assert exported.read_text(encoding="utf-8") == copied


def test_hands_free_hears_a_turn_without_the_button(qtbot, pulse, desktop, tmp_path):
    window = desktop().window
    wait_live(qtbot, window)
    modes = window.talk.modes
    qtbot.mouseClick(modes.hands_free, Qt.MouseButton.LeftButton)
    assert modes.mode == "server_vad" and modes.vad.isEnabled()
    assert "just start speaking" in window.talk.state_line.text() and window.talk.button.live
    assert SettingsStore(tmp_path / "config").load().settings.mode == "server_vad"  # saved

    # nothing pressed: the meters follow the voice, the service hears the turn end
    mic_peak, ring_peak = say_into_mic(qtbot, pulse, window, QUESTION)
    assert mic_peak > 0.3 and ring_peak > 0.3
    qtbot.waitUntil(lambda: any("I heard" in r for r in replies(window)), timeout=WAIT)

    modes.vad.setFocus()
    qtbot.keyClick(modes.vad, Qt.Key.Key_Down)
    assert (
        window.settings.mode
        == "semantic_vad"
        == SettingsStore(tmp_path / "config").load().settings.mode
    )
    qtbot.mouseClick(modes.push_to_talk, Qt.MouseButton.LeftButton)
    assert window.settings.mode == "ptt" and not modes.vad.isEnabled()


def test_the_dialect_label_follows_the_profile_and_the_model(qtbot, pulse, desktop, tmp_path):
    preview = dataclasses.replace(
        simulator_profile(), name="Preview", model="gpt-4o-realtime-preview"
    )
    app = desktop(Settings(profiles=(simulator_profile(), preview)))
    window = app.window
    wait_live(qtbot, window)
    assert window.header.model.text() == "gpt-realtime · GA (auto)"

    picker = window.header.profiles
    picker.setFocus()
    qtbot.keyClick(picker, Qt.Key.Key_Down)  # the profile picker: pick "Preview"
    assert picker.currentText() == "Preview"
    assert window.header.model.text() == "gpt-4o-realtime-preview · beta (auto)"
    qtbot.waitUntil(
        lambda: (
            "session started · gpt-4o-realtime-preview · beta (auto)"
            in window.transcript.view.toPlainText()
        ),
        timeout=WAIT,
    )
    wait_live(qtbot, window)
    assert SettingsStore(tmp_path / "config").load().settings.active == "Preview"  # saved

    # What the settings pane's `settings_saved` does with an edited model:
    renamed = dataclasses.replace(preview, model="gpt-realtime-2")
    window.apply_settings(window.settings.with_profile(renamed, replacing="Preview"))
    assert window.header.model.text() == "gpt-realtime-2 · GA (auto)"
    qtbot.waitUntil(
        lambda: (
            "session started · gpt-realtime-2 · GA (auto)" in window.transcript.view.toPlainText()
        ),
        timeout=WAIT,
    )
    wait_live(qtbot, window)
    assert window.header.model.text() == "gpt-realtime-2 · GA (auto)"


def test_an_unreachable_service_shows_a_banner_with_reconnect_and_keeps_the_transcript(
    qtbot, pulse, desktop, no_key, monkeypatch
):
    # a custom endpoint's key comes from its own variable; this run only, refused before it is sent
    monkeypatch.setenv("TALKAPP_CUSTOM_API_KEY", fake_key("test-not-a-real-key"))
    window = desktop().window
    wait_live(qtbot, window)
    qtbot.keyClicks(window.transcript.message.edit, "Remember this")
    qtbot.keyClick(window.transcript.message.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any("Remember this" in r for r in replies(window)), timeout=WAIT)
    before = window.transcript.view.turns()

    unreachable = ProviderProfile(
        name="Unreachable", provider="custom", base_url="ws://127.0.0.1:9/v1"
    )
    window.apply_settings(
        window.settings.with_profile(unreachable), reconnect=False
    )  # added, not yet active
    assert window.state in LIVE and window.banners.get("welcome") is None
    window.choose_profile("Unreachable")
    qtbot.waitUntil(lambda: window.state is State.ERROR, timeout=WAIT)

    banner = window.banners.get("connection")
    assert banner is not None and banner.level == "error" and "cannot reach" in banner.text
    assert [b.text() for b in banner.buttons] == ["&Reconnect", "Profile settings…"]
    assert (
        "Not connected" in window.talk.state_line.text()
        and window.header.state.text() == "Not connected"
    )
    assert window.transcript.view.turns() == before  # nothing lost
    assert not window.talk.button.live and window.talk.button.text() == "Connect to talk"

    qtbot.mouseClick(
        banner.buttons[0], Qt.MouseButton.LeftButton
    )  # Reconnect: tries again, fails again
    qtbot.waitUntil(
        lambda: (
            window.state is State.ERROR
            and window.banners.get("connection") not in (None, banner)
            and window.banners.get("connection").isVisible()  # a new child shows a turn later
        ),
        timeout=WAIT,
    )
    errors = [
        b for b in window.banners.findChildren(type(banner)) if b.isVisible() and b.level == "error"
    ]
    assert errors == [window.banners.get("connection")]  # replaced, not stacked
    assert window.transcript.view.turns() == before


@pytest.fixture
def settings_pages(monkeypatch):
    """The pages the (real) settings pane was asked to open on."""
    opened = []

    class Recording(main_window.SettingsDialog):
        def __init__(self, settings, controller, parent=None, page=None, **options):
            super().__init__(settings, controller, parent, page=page, **options)
            opened.append(page)

    monkeypatch.setattr(main_window, "SettingsDialog", Recording)
    return opened


def test_a_missing_key_offers_to_add_one_or_to_use_the_simulator(
    qtbot, pulse, desktop, no_key, settings_pages
):
    settings = Settings().with_profile(ProviderProfile(name="OpenAI"))
    window = desktop(dataclasses.replace(settings, active="OpenAI")).window
    qtbot.waitUntil(lambda: window.banners.get("connection") is not None, timeout=WAIT)

    banner = window.banners.get("connection")
    assert "No API key found" in banner.text and window.banners.get("welcome") is None
    assert [b.text() for b in banner.buttons] == ["&Add a key…", "Use the offline simu&lator"]
    assert (
        "needs an API key" in window.talk.state_line.text()
        and window.header.connect_button.text() == "&Connect"
    )

    qtbot.mouseClick(banner.buttons[0], Qt.MouseButton.LeftButton)
    assert settings_pages == ["profiles"]
    window.settings_dialog.reject()

    qtbot.mouseClick(banner.buttons[1], Qt.MouseButton.LeftButton)
    wait_live(qtbot, window)
    assert (
        window.settings.active == SIMULATOR_PROFILE
        and window.header.profiles.currentText() == SIMULATOR_PROFILE
    )
    assert window.banners.get("connection") is None
    assert window.header.model.text() == "gpt-realtime · GA (auto)"


def test_a_short_press_explains_itself(qtbot, pulse, desktop):
    window = desktop().window
    wait_live(qtbot, window)
    button = window.talk.button
    qtbot.mouseClick(
        button, Qt.MouseButton.LeftButton, pos=QPoint(button.width() // 2, button.height() // 2)
    )
    qtbot.waitUntil(lambda: "too short" in window.talk.hint.text(), timeout=WAIT)
    assert window.talk.hint.isVisible() and window.transcript.view.turns() == []


def test_the_hotkey_follows_the_settings(qtbot, pulse, desktop):
    window = desktop().window
    wait_live(qtbot, window)
    window.apply_settings(
        dataclasses.replace(window.settings, hotkeys=HotkeySettings(push_to_talk="F9"))
    )
    assert (
        window.talk.button.text() == "Hold to talk\n(F9)"
        and "hold F9" in window.talk.state_line.text()
    )
    view = window.transcript.view
    send_key(view, QEvent.Type.KeyPress)  # Space: no longer the talk key
    assert window.state is State.LISTENING and not window.talk.button.looks_pressed
    send_key(view, QEvent.Type.KeyRelease)
    send_key(view, QEvent.Type.KeyPress, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: window.state is State.USER_SPEAKING, timeout=WAIT)
    send_key(view, QEvent.Type.KeyRelease, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: window.state is not State.USER_SPEAKING, timeout=WAIT)


def test_an_unreadable_settings_file_is_explained_and_the_app_runs_on_defaults(
    qtbot, pulse, desktop, tmp_path
):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text("{ not json", encoding="utf-8")
    window = desktop().window
    banner = window.banners.get("settings")
    assert (
        banner is not None
        and "not valid JSON" in banner.text
        and "settings.json.unreadable-" in banner.text
    )
    wait_live(qtbot, window)
    assert window.settings.active == SIMULATOR_PROFILE


def test_a_connect_that_fails_on_the_loop_shows_an_error_banner(qtbot, desktop, tmp_path):
    """A command that raises on the loop (here: the recordings folder is a file, so the session
    cannot make its folder) comes back as a visible notice, not a silent nothing."""
    not_a_folder = tmp_path / "recordings"
    not_a_folder.write_text("a file where the folder should be")
    recording = dataclasses.replace(Settings().recording, enabled=True, folder=str(not_a_folder))
    settings = dataclasses.replace(Settings(), recording=recording)
    window = desktop(settings).window
    qtbot.waitUntil(lambda: window.banners.get("service") is not None, timeout=WAIT)
    banner = window.banners.get("service")
    qtbot.waitUntil(lambda: banner.isVisibleTo(window), timeout=WAIT)  # shown on the next pass
    assert banner.level == "error"
    assert banner.text.startswith("Could not connect: ") and "recordings" in banner.text
    assert window.state not in LIVE


def test_a_lost_connection_and_a_setting_not_taken_are_written_into_the_transcript(
    qtbot, pulse, desktop
):
    """What belongs to the conversation's record goes into the transcript, not a banner: the
    engine emits these notices when a connection goes silent or the service keeps its own voice."""
    window = desktop().window
    wait_live(qtbot, window)
    lost = (
        "Connection lost (the service went silent mid-reply); reconnecting. "
        "Your transcript is kept."
    )
    kept = "The service kept voice alloy; marin is not available for this model."
    for text in (lost, kept):
        window.on_event(out.Notice("warning", text, out.IN_TRANSCRIPT))
    written = window.transcript.view.as_markdown()
    assert lost in written and kept in written
    assert window.banners.get("service") is None


def test_eight_typed_turns_in_a_row_the_newest_is_on_screen(qtbot, pulse, desktop):
    window = desktop().window
    window.resize(800, 480)
    wait_live(qtbot, window)
    view, message = window.transcript.view, window.transcript.message.edit
    for n in range(1, 9):  # short turns: each reply is spoken in full before the next
        qtbot.keyClicks(message, f"Turn {n}")
        qtbot.keyClick(message, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda n=n: any(f"Turn {n}" in r for r in replies(window)), timeout=WAIT)
        wait_live(qtbot, window)
    last = replies(window)[-1]
    assert view.verticalScrollBar().maximum() > 0  # the view is full: following matters
    qtbot.waitUntil(lambda: on_screen(view, last[-30:]), timeout=WAIT)
