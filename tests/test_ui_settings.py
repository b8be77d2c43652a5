"""The settings pane on real widgets (offscreen), with real parts behind it: the settings store
on disk, gnome-keyring's Secret Service, the controller's connection test against the built-in
simulator, and a private PulseAudio for the device list, the mic meter and the test tone.

Waiting is always `qtbot.waitUntil` / `waitSignal`, which keep the Qt event loop running: the
pane must deliver its results while the loop runs, never by blocking it."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import numpy as np
import pytest
from audio_server import RATE
from fake_keys import fake_key
from keyring.backends import fail
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QWidget,
)
from speech import silence, speak

from talkapp.audio.devices import DeviceKey
from talkapp.controller import Controller
from talkapp.protocol.commands import TurnDetection
from talkapp.settings.model import AudioSettings, HotkeySettings, Settings
from talkapp.settings.profile import BETA_VOICES, GA_VOICES, ProviderProfile
from talkapp.settings.secrets import KEYRING_SERVICE, SessionKeys, delete_api_key
from talkapp.settings.store import SettingsStore
from talkapp.ui.settings.dialog import SettingsDialog
from talkapp.ui.settings.key import TESTING

SECRET = fake_key("ui-test-0123456789abcdef3f9a")
WAIT = 20_000  # ms: a limit for a hang, never a measurement


class NoController:
    """For tests that never press Test connection."""

    def test_connection(self, profile, api_key):
        raise AssertionError("no connection test expected here")


def with_openai(key_name: str = "ui-test") -> Settings:
    return Settings().with_profile(
        ProviderProfile(name="OpenAI", model="gpt-realtime-2", key_name=key_name)
    )


@pytest.fixture
def open_dialog(qtbot):
    def make(
        settings: Settings, controller=None, page: str | None = None, session_keys=None
    ) -> SettingsDialog:
        dialog = SettingsDialog(
            settings, controller or NoController(), page=page, session_keys=session_keys
        )
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


def select(dialog: SettingsDialog, name: str) -> None:
    names = [p.name for p in dialog.profiles.profiles()]
    dialog.profiles.list.setCurrentRow(names.index(name))


def retype(qtbot, field: QLineEdit, text: str) -> None:
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)


def all_texts(root: QWidget) -> list[str]:
    """Every string any widget under `root` shows or keeps: texts, placeholders, items,
    tooltips, accessible names."""
    texts = []
    for w in [root, *root.findChildren(QWidget)]:
        texts += [w.toolTip(), w.accessibleName(), w.accessibleDescription(), w.windowTitle()]
        if isinstance(w, (QLabel, QAbstractButton)):
            texts.append(w.text())
        if isinstance(w, QLineEdit):
            texts += [w.text(), w.placeholderText()]
        if isinstance(w, QPlainTextEdit):
            texts.append(w.toPlainText())
        if isinstance(w, QComboBox):
            texts += [w.currentText(), *(w.itemText(i) for i in range(w.count()))]
        if isinstance(w, QListWidget):
            texts += [w.item(i).text() for i in range(w.count())]
    return texts


# ---- the dialect line ----


def test_the_resolved_dialect_follows_the_model_and_the_setting(qtbot, open_dialog):
    dialog = open_dialog(with_openai())
    select(dialog, "OpenAI")
    form = dialog.profiles.form
    model = form.model.lineEdit()
    assert form.resolved.text() == "→ GA for gpt-realtime-2"

    retype(qtbot, model, "gpt-4o-realtime-preview")
    assert form.resolved.text() == "→ beta for gpt-4o-realtime-preview"
    assert [form.voice.itemText(i) for i in range(1, form.voice.count())] == list(BETA_VOICES)
    assert "2026-05-12" in form.warning.text()  # auto picked beta, and OpenAI's endpoint refuses it
    assert dialog.profiles.list.currentItem().text() == "OpenAI · gpt-4o-realtime-preview"

    retype(qtbot, model, "gpt-realtime-2")
    assert form.resolved.text() == "→ GA for gpt-realtime-2"
    assert [form.voice.itemText(i) for i in range(1, form.voice.count())] == list(GA_VOICES)
    assert form.warning.isHidden()

    qtbot.mouseClick(form.api_buttons["beta"], Qt.MouseButton.LeftButton)  # explicit wins
    assert form.resolved.text() == "→ beta, as chosen (Auto would pick GA)"
    assert "OpenAI retired the beta dialect on 2026-05-12" in form.warning.text()
    assert form.warning.isVisible()
    assert not form.reasoning.isEnabled()  # the beta dialect has no reasoning setting

    retype(qtbot, model, "gpt-4o-realtime-preview")
    qtbot.mouseClick(form.api_buttons["ga"], Qt.MouseButton.LeftButton)
    assert form.resolved.text() == "→ GA, as chosen (Auto would pick beta)"

    retype(qtbot, form.base_url, "wss://realtime.example.net/v1")  # beta is fine elsewhere
    qtbot.mouseClick(form.api_buttons["beta"], Qt.MouseButton.LeftButton)
    assert form.resolved.text() == "→ beta, as chosen"
    assert form.warning.isHidden()


def test_an_openai_profile_pointed_elsewhere_warns_until_the_key_is_shared(qtbot, open_dialog):
    dialog = open_dialog(with_openai())
    select(dialog, "OpenAI")
    form = dialog.profiles.form
    assert form.key_warning.isHidden() and form.share_openai_key.isHidden()  # OpenAI's own host
    assert form.send_mcp.isHidden() and form.system_proxy.isVisible()

    retype(qtbot, form.base_url, "https://api.x.ai/v1")
    assert form.key_warning.isVisible() and "points at api.x.ai" in form.key_warning.text()
    assert "will not send your OpenAI key there" in form.key_warning.text()
    assert form.share_openai_key.isVisible() and form.send_mcp.isVisible()
    assert form.profile().share_openai_key is False

    qtbot.mouseClick(form.share_openai_key, Qt.MouseButton.LeftButton)  # the user confirms
    assert form.key_warning.isHidden() and form.profile().share_openai_key is True
    qtbot.mouseClick(form.send_mcp, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.system_proxy, Qt.MouseButton.LeftButton)
    edited = form.profile()
    assert edited.send_mcp_servers is True and edited.system_proxy is False


# ---- editing and saving ----


def test_an_edited_profile_is_saved_and_survives_a_restart(qtbot, open_dialog, tmp_path):
    dialog = open_dialog(with_openai())
    select(dialog, "OpenAI")
    form = dialog.profiles.form
    retype(qtbot, form.name, "Work")
    retype(qtbot, form.model.lineEdit(), "gpt-realtime-mini")
    qtbot.mouseClick(form.api_buttons["ga"], Qt.MouseButton.LeftButton)
    form.voice.setCurrentText("cedar")
    qtbot.keyClicks(form.instructions, "Answer briefly.")
    form.turn.setCurrentIndex(form.turn.findData("semantic_vad"))
    form.eagerness.setCurrentText("high")
    form.transcription.setCurrentText("Off")
    form.reasoning.setCurrentIndex(form.reasoning.findData("low"))
    qtbot.mouseClick(dialog.profiles.use_button, Qt.MouseButton.LeftButton)

    dialog.tabs.setCurrentWidget(dialog.audio)
    audio = dialog.audio
    audio.echo_buttons["headset"].setChecked(True)
    audio.aggressiveness.setValue(3)
    audio.silence.setValue(800)
    audio.block.setCurrentIndex(audio.block.findData(20))
    audio.keep_speaker_open.setChecked(True)

    dialog.tabs.setCurrentWidget(dialog.hotkeys)
    hotkeys = dialog.hotkeys
    qtbot.mouseClick(hotkeys.in_window, Qt.MouseButton.LeftButton)
    assert hotkeys.in_window.capturing
    qtbot.keyClick(hotkeys.in_window, Qt.Key.Key_F8)
    hotkeys.global_on.setChecked(True)
    qtbot.mouseClick(hotkeys.global_key, Qt.MouseButton.LeftButton)
    qtbot.keyClick(
        hotkeys.global_key,
        Qt.Key.Key_H,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )

    with qtbot.waitSignal(dialog.settings_saved, timeout=WAIT) as saved:
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    settings: Settings = saved.args[0]
    work = settings.active_profile()
    assert settings.active == "Work" and [p.name for p in settings.profiles] == [
        "Offline simulator",
        "Work",
    ]
    assert (work.model, work.api, work.key_name) == ("gpt-realtime-mini", "ga", "ui-test")
    assert work.session.voice == "cedar" and work.session.instructions == "Answer briefly."
    assert work.session.turn_detection == TurnDetection(kind="semantic_vad", eagerness="high")
    assert work.session.transcription_model is None and work.session.reasoning_effort == "low"
    assert settings.audio == AudioSettings(
        echo="headset", vad_aggressiveness=3, silence_ms=800, block_ms=20, keep_speaker_open=True
    )
    assert settings.hotkeys == HotkeySettings(
        push_to_talk="F8", global_push_to_talk="<ctrl>+<alt>+h"
    )
    assert not dialog.isVisible()

    SettingsStore(tmp_path).save(settings)
    loaded = SettingsStore(tmp_path).load()  # a restart: a new store reads the file
    assert loaded.notices == () and loaded.settings == settings

    again = open_dialog(loaded.settings)
    assert again.current_settings() == settings  # every field shows what was saved
    assert again.profiles.form.resolved.text() == "→ GA, as chosen"
    assert again.profiles.list.currentItem().text() == "✓ Work · gpt-realtime-mini"


def test_profiles_are_added_duplicated_and_removed_but_not_the_offline_one(qtbot, open_dialog):
    dialog = open_dialog(with_openai())
    page = dialog.profiles
    select(dialog, "Offline simulator")
    assert not page.remove_button.isEnabled() and page.form.name.isReadOnly()
    select(dialog, "OpenAI")
    qtbot.mouseClick(page.duplicate_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    profiles = page.profiles()
    assert [p.name for p in profiles] == [
        "Offline simulator",
        "OpenAI",
        "OpenAI (copy)",
        "New profile",
    ]
    assert profiles[2].key_name == "ui-test"  # a duplicate shares its original's key
    assert profiles[3].key_name not in {"ui-test", ""}  # a new profile never overwrites another's
    assert dialog.focusWidget() is page.form.name  # ready to type the new profile's name
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert [p.name for p in page.profiles()] == ["Offline simulator", "OpenAI", "OpenAI (copy)"]

    select(dialog, "Offline simulator")  # a copy of the offline profile can become a real one
    qtbot.mouseClick(page.duplicate_button, Qt.MouseButton.LeftButton)
    page.form.provider.setCurrentIndex(page.form.provider.findData("openai"))
    copy = page.profiles()[-1]
    assert copy.provider == "openai" and copy.base_url == "https://api.openai.com/v1"
    assert copy.key_name and copy.key_name not in {"ui-test"}  # its own key entry, not ""
    assert page.key.field.isEnabled()


def test_bad_input_is_refused_with_a_clear_message(qtbot, open_dialog):
    dialog = open_dialog(with_openai())
    emitted = []
    dialog.settings_saved.connect(emitted.append)
    page, form = dialog.profiles, dialog.profiles.form
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)

    form.name.selectAll()
    qtbot.keyClick(form.name, Qt.Key.Key_Backspace)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "⚠ A profile needs a name."
    assert page.current_row() == 2 and emitted == [] and dialog.isVisible()

    retype(qtbot, form.name, "openai")
    assert "Two profiles are called “openai”" in dialog.error.text()  # updates as you type

    retype(qtbot, form.name, "Lab")
    retype(qtbot, form.base_url, "ftp://lab.example/v1")
    assert (
        "must start with https:// or wss://" in dialog.error.text()
        and "“ftp://”" in dialog.error.text()
    )
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert emitted == []

    retype(qtbot, form.base_url, "wss://lab.example/v1")
    assert dialog.error.isHidden()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert [p.name for p in emitted[0].profiles] == ["Offline simulator", "OpenAI", "Lab"]


def test_the_page_argument_opens_that_tab(open_dialog):
    for page in ("profiles", "audio", "hotkeys"):
        dialog = open_dialog(Settings(), page=page)
        assert dialog.tabs.currentWidget() is getattr(dialog, page)


def test_hotkeys_are_captured_from_the_keyboard_alone(qtbot, open_dialog):
    dialog = open_dialog(Settings(), page="hotkeys")
    capture = dialog.hotkeys.in_window
    capture.setFocus()
    qtbot.keyClick(capture, Qt.Key.Key_Space)  # Space activates the button: recording starts
    assert capture.capturing
    qtbot.keyClick(capture, Qt.Key.Key_Escape)  # Esc cancels, and the dialog stays open
    assert not capture.capturing and capture.value() == "Space" and dialog.isVisible()
    qtbot.keyClick(capture, Qt.Key.Key_Space)
    qtbot.keyClick(capture, Qt.Key.Key_F9, Qt.KeyboardModifier.ShiftModifier)
    assert capture.value() == "Shift+F9" and not capture.capturing

    dialog.hotkeys.global_on.setChecked(True)
    combo = dialog.hotkeys.global_key
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Return)
    qtbot.keyClick(combo, Qt.Key.Key_Control)  # a modifier alone is not a hotkey: keep recording
    assert combo.capturing
    qtbot.keyClick(combo, Qt.Key.Key_F9, Qt.KeyboardModifier.ControlModifier)
    assert combo.value() == "<ctrl>+<f9>" and combo.text() == "Ctrl+F9"
    assert dialog.current_settings().hotkeys == HotkeySettings(
        push_to_talk="Shift+F9", global_push_to_talk="<ctrl>+<f9>"
    )


# ---- the API key ----


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def key_status(dialog: SettingsDialog) -> str:
    return dialog.profiles.key.status.text()


def test_a_saved_key_goes_to_the_secret_service_and_nowhere_else(
    qtbot, open_dialog, secret_service, no_env_key, tmp_path
):
    delete_api_key("ui-test")
    dialog = open_dialog(with_openai())
    select(dialog, "OpenAI")
    box = dialog.profiles.key
    qtbot.waitUntil(lambda: key_status(dialog).startswith("No key stored yet"), timeout=WAIT)
    assert "Secret Service" in key_status(dialog)

    qtbot.keyClicks(box.field, SECRET)
    qtbot.mouseClick(box.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: key_status(dialog).startswith("Stored in Secret Service"), timeout=WAIT)
    assert keyring.get_password(KEYRING_SERVICE, "ui-test") == SECRET
    assert box.field.text() == "" and box.field.placeholderText() == "••••••••3f9a"
    assert box.forget_button.isEnabled()

    with qtbot.waitSignal(dialog.settings_saved, timeout=WAIT) as saved:
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Apply), Qt.MouseButton.LeftButton
        )
    assert not any(SECRET in text for text in all_texts(dialog))
    store = SettingsStore(tmp_path)
    store.save(saved.args[0])
    assert SECRET not in store.path.read_text() and "3f9a" not in store.path.read_text()
    assert not any(SECRET.encode() in f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())

    again = open_dialog(store.load().settings)  # after a restart
    select(again, "OpenAI")
    qtbot.waitUntil(lambda: key_status(again) == "Stored in Secret Service.", timeout=WAIT)
    delete_api_key("ui-test")


def test_a_typed_key_is_stored_by_ok_and_cancel_forgets_it(
    qtbot, open_dialog, secret_service, no_env_key
):
    delete_api_key("ui-test")
    dialog = open_dialog(with_openai())
    select(dialog, "OpenAI")
    qtbot.keyClicks(dialog.profiles.key.field, fake_key("typed-not-wanted-0000"))
    dialog.reject()
    assert keyring.get_password(KEYRING_SERVICE, "ui-test") is None

    dialog = open_dialog(with_openai())
    select(dialog, "OpenAI")
    qtbot.keyClicks(dialog.profiles.key.field, SECRET)
    select(dialog, "Offline simulator")  # the typed key stays with its profile, not in the field
    assert dialog.profiles.key.field.text() == ""
    with qtbot.waitSignal(dialog.settings_saved, timeout=WAIT):
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    assert keyring.get_password(KEYRING_SERVICE, "ui-test") == SECRET
    assert not any(SECRET in text for text in all_texts(dialog))
    delete_api_key("ui-test")


def test_without_a_keyring_the_pane_explains_the_session_only_fallback(
    qtbot, open_dialog, monkeypatch, no_env_key, tmp_path
):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        keys = SessionKeys()
        dialog = open_dialog(with_openai(), session_keys=keys)
        select(dialog, "OpenAI")
        box = dialog.profiles.key
        qtbot.waitUntil(lambda: key_status(dialog).startswith("No OS keyring"), timeout=WAIT)
        status = key_status(dialog)
        assert "OPENAI_API_KEY" in status and "never writes the key to a file" in status
        assert box.session_button.isVisible() and box.save_button.isHidden()

        qtbot.keyClicks(box.field, SECRET)
        qtbot.mouseClick(box.session_button, Qt.MouseButton.LeftButton)
        assert keys.get("OPENAI_API_KEY") == SECRET  # in the app's memory,
        assert "OPENAI_API_KEY" not in os.environ  # not in the environment child processes inherit
        assert "for this session only" in key_status(dialog) and "not saved anywhere" in key_status(
            dialog
        )
        assert not any(SECRET in text for text in all_texts(dialog))
        select(dialog, "Offline simulator")
        select(dialog, "OpenAI")  # looked up again: the session's key counts
        qtbot.waitUntil(
            lambda: "OPENAI_API_KEY is set, so this session can connect" in key_status(dialog),
            timeout=WAIT,
        )

        with qtbot.waitSignal(dialog.settings_saved, timeout=WAIT) as saved:
            qtbot.mouseClick(
                dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
            )
        store = SettingsStore(tmp_path)
        store.save(saved.args[0])
        assert SECRET not in store.path.read_text()
    finally:
        keyring.set_keyring(previous)


# ---- the connection test ----


def test_the_connection_test_reports_in_plain_words_without_blocking(
    qtbot, open_dialog, no_env_key
):
    settings = Settings().with_profile(
        ProviderProfile(
            name="Nowhere", provider="custom", base_url="ws://127.0.0.1:9/v1", key_name="nowhere"
        )
    )
    controller = Controller(settings, lambda event: None)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    try:
        dialog = open_dialog(settings, controller)
        select(dialog, "Offline simulator")
        box = dialog.profiles.key
        qtbot.mouseClick(box.test_button, Qt.MouseButton.LeftButton)
        # The click returned before any result: it came back later, through the event loop.
        assert box.result.text() == TESTING and not box.test_button.isEnabled()
        with qtbot.waitSignal(box.test_finished, timeout=WAIT) as finished:
            pass
        assert (
            finished.args[0].startswith("✓ Connected in")
            and "gpt-realtime · GA (auto)" in finished.args[0]
        )
        assert box.result.text() == finished.args[0] and box.test_button.isEnabled()
        assert ticks  # the event loop kept running while the test ran

        select(dialog, "Nowhere")
        qtbot.keyClicks(box.field, fake_key("not-a-real-key-1234"))
        ticks.clear()
        qtbot.mouseClick(box.test_button, Qt.MouseButton.LeftButton)
        assert box.result.text() == TESTING
        qtbot.waitUntil(lambda: box.result.text().startswith("✗"), timeout=WAIT)
        assert "cannot reach 127.0.0.1" in box.result.text()
        assert ticks
    finally:
        timer.stop()
        controller.shutdown()


def test_a_bad_url_is_not_tested_but_explained(qtbot, open_dialog):
    settings = Settings().with_profile(
        ProviderProfile(name="Typo", provider="custom", base_url="api.example.com")
    )
    dialog = open_dialog(settings)
    select(dialog, "Typo")
    box = dialog.profiles.key
    qtbot.mouseClick(box.test_button, Qt.MouseButton.LeftButton)
    assert box.result.text().startswith("✗ Not tested: the base URL must start with https://")


def test_the_stored_openai_key_is_not_tested_against_another_host(qtbot, open_dialog):
    edited = ProviderProfile(name="Edited", base_url="https://api.x.ai/v1")
    dialog = open_dialog(Settings().with_profile(edited))
    select(dialog, "Edited")
    box = dialog.profiles.key
    qtbot.mouseClick(box.test_button, Qt.MouseButton.LeftButton)
    assert box.result.text().startswith("✗ Not tested: This OpenAI profile points at api.x.ai")


# ---- audio ----


def choose(combo: QComboBox, text: str) -> None:
    index = combo.findText(text)
    assert index >= 0, f"{text!r} not in {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setCurrentIndex(index)


@pytest.fixture
def audio_dialog(qtbot, open_dialog, pulse):
    dialog = open_dialog(Settings(), page="audio")
    qtbot.waitUntil(lambda: dialog.audio.input.findText("talkapp_mic (ALSA)") >= 0, timeout=WAIT)
    return dialog


def test_the_audio_tab_lists_the_sound_servers_devices(audio_dialog):
    page = audio_dialog.audio
    inputs = [page.input.itemText(i) for i in range(page.input.count())]
    outputs = [page.output.itemText(i) for i in range(page.output.count())]
    assert inputs[0].startswith("System default") and outputs[0].startswith("System default")
    assert {"talkapp_mic (ALSA)", "talkapp_mic48 (ALSA)"} <= set(inputs)
    assert {"talkapp_speaker (ALSA)", "talkapp_hw48 (ALSA)"} <= set(outputs)
    choose(page.input, "talkapp_mic (ALSA)")
    choose(page.output, "talkapp_speaker (ALSA)")
    audio = audio_dialog.current_settings().audio
    assert (
        audio.input_device.name == "talkapp_mic" and audio.output_device.name == "talkapp_speaker"
    )


def test_the_mic_meter_moves_with_speech_on_the_virtual_mic(qtbot, audio_dialog, pulse):
    page = audio_dialog.audio
    choose(page.input, "talkapp_mic (ALSA)")
    qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert page.meter.value() == page.meter.minimum()  # silence on the virtual mic
    player = pulse.feed_mic(
        np.concatenate([speak("Testing the microphone, one two three."), silence(0.3)])
    )
    try:
        qtbot.waitUntil(lambda: page.meter.value() > -40, timeout=WAIT)
        assert page.meter_label.text().endswith("dBFS")
        qtbot.waitUntil(lambda: player.poll() is not None, timeout=WAIT)
        qtbot.waitUntil(
            lambda: page.meter.value() == page.meter.minimum(), timeout=WAIT
        )  # and falls again
    finally:
        player.wait(10)
        with qtbot.waitSignal(page.mic_test_ended, timeout=WAIT) as ended:
            qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert ended.args[0] == "Microphone test ended (talkapp_mic)."


def test_the_test_tone_is_heard_on_the_virtual_speaker(qtbot, audio_dialog, pulse):
    page = audio_dialog.audio
    choose(page.output, "talkapp_speaker (ALSA)")
    recording = pulse.record("speaker.monitor")
    try:
        with qtbot.waitSignal(page.tone_ended, timeout=WAIT) as ended:
            qtbot.mouseClick(page.tone_button, Qt.MouseButton.LeftButton)
    finally:
        samples = recording.stop()
    assert ended.args[0].startswith("Played on talkapp_speaker")
    loud = np.flatnonzero(np.abs(samples) > 0.05)
    assert loud.size, "nothing was heard on the speaker"
    heard = samples[loud[0] : loud[-1]]
    assert 0.9 < len(heard) / RATE < 1.1  # the one-second tone, whole
    spectrum = np.abs(np.fft.rfft(heard * np.hanning(len(heard))))
    peak_hz = np.argmax(spectrum) * RATE / len(heard)
    assert abs(peak_hz - 440) < 3
    assert 0.2 < np.max(np.abs(heard)) < 0.3  # at the level it was played


def test_a_device_that_is_gone_is_kept_and_its_test_explains(qtbot, open_dialog, pulse):
    headset = DeviceKey("USB Headset", "ALSA")
    dialog = open_dialog(
        dataclasses.replace(Settings(), audio=AudioSettings(output_device=headset)), page="audio"
    )
    page = dialog.audio
    qtbot.waitUntil(lambda: page.output.findText("talkapp_speaker (ALSA)") >= 0, timeout=WAIT)
    assert page.output.currentText() == "USB Headset (ALSA) — not connected"
    with qtbot.waitSignal(page.tone_ended, timeout=WAIT) as ended:
        qtbot.mouseClick(page.tone_button, Qt.MouseButton.LeftButton)
    assert ended.args[0] == "The speaker 'USB Headset' is not connected."
    assert dialog.current_settings().audio.output_device == headset


class OpenedUrls(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_recording_is_off_by_default_and_its_folder_is_shown_and_saved(qtbot, tmp_path):
    from talkapp.settings.model import Settings
    from talkapp.settings.store import SettingsStore
    from talkapp.ui.settings.dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), controller=None, page="recording")
    qtbot.addWidget(dialog)
    page = dialog.recording
    assert dialog.tabs.currentWidget() is page
    assert (
        not page.enabled.isChecked() and not page.folder.isEnabled() and not page.browse.isEnabled()
    )
    assert "TalkApp recordings" in page.folder.placeholderText()  # where it would go, shown
    labels = [w for w in page.findChildren(QLabel) if w.buddy() is page.folder]
    assert [w.text() for w in labels] == ["&Folder:"]  # Alt+F reaches the field
    page.enabled.setChecked(True)
    assert page.folder.isEnabled() and page.browse.isEnabled()
    page.folder.setText(str(tmp_path / "rec"))
    assert page.chosen_folder() == tmp_path / "rec"
    opened = OpenedUrls()  # Qt's own hook for a scheme's handler: no file manager starts in a test
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        qtbot.mouseClick(page.open, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert (tmp_path / "rec").is_dir() and opened.urls == [
        QUrl.fromLocalFile(str(tmp_path / "rec"))
    ]
    saved = dialog.current_settings()
    assert saved.recordings_folder() == tmp_path / "rec"
    SettingsStore(tmp_path).save(saved)
    assert SettingsStore(tmp_path).load().settings.recording == saved.recording


def test_the_history_tab_keeps_the_budget_and_retention_and_says_where_history_lives(
    qtbot, tmp_path
):
    from talkapp.history.store import default_path
    from talkapp.settings.model import HistorySettings, Settings
    from talkapp.settings.store import SettingsStore
    from talkapp.ui.settings.dialog import SettingsDialog

    settings = dataclasses.replace(Settings(), history=HistorySettings(monthly_budget_usd=5.0))
    dialog = SettingsDialog(settings, controller=None, page="history")
    qtbot.addWidget(dialog)
    page = dialog.history
    assert dialog.tabs.currentWidget() is page
    assert page.has_budget.isChecked() and page.budget.value() == 5.0
    assert not page.limit_days.isChecked() and not page.days.isEnabled()  # forever by default
    shown = [w.text() for w in page.findChildren(QLabel)]
    assert f"Stored in {default_path()}" in shown
    page.budget.setValue(12.5)
    page.limit_days.setChecked(True)
    page.days.setValue(30)
    edited = dialog.current_settings().history
    assert edited == HistorySettings(enabled=True, monthly_budget_usd=12.5, keep_days=30)
    SettingsStore(tmp_path).save(dialog.current_settings())
    assert SettingsStore(tmp_path).load().settings.history == edited
    page.enabled.setChecked(False)  # no history, no month's spend to hold a budget against
    assert not page.has_budget.isEnabled() and not page.budget.isEnabled()
    page.has_budget.setChecked(False)
    assert dialog.current_settings().history.monthly_budget_usd is None
