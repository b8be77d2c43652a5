"""The controller the GUI drives: the offline profile starts the simulator and talks; a profile
without a key says so; settings changes reconnect; the connection test reports plainly."""

import dataclasses
import gc
import os
import sys
import threading

import numpy as np
from fake_keys import fake_key
from speech import silence, speak

from talkapp.app import output_on_demand
from talkapp.controller import Controller, NeedsKey, _audio_options
from talkapp.session import engine_events as out
from talkapp.session.engine import AudioOptions
from talkapp.settings.model import AudioSettings, Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.secrets import SessionKeys


class Events:
    def __init__(self):
        self.items, self._new = [], threading.Condition()

    def __call__(self, event):
        with self._new:
            self.items.append(event)
            self._new.notify_all()

    def wait_for(self, predicate, timeout=20.0):
        with self._new:
            if not self._new.wait_for(lambda: any(predicate(e) for e in self.items), timeout):
                raise AssertionError(f"not seen; got {self.items}")
            return next(e for e in reversed(self.items) if predicate(e))


def test_the_offline_profile_talks_with_no_key(pulse):
    events = Events()
    switch_interval = sys.getswitchinterval()
    gc.unfreeze()
    controller = Controller(Settings(), events)  # untuned: the process is not the app's
    try:
        assert controller.connect().result(20)
        connected = events.wait_for(lambda e: isinstance(e, out.Connected))
        assert connected.label == "gpt-realtime · GA (auto)"
        controller.press()
        events.wait_for(
            lambda e: isinstance(e, out.StateChanged) and e.state is out.State.USER_SPEAKING
        )
        pulse.feed_mic(np.concatenate([speak("Hello there, how are you?"), silence(0.2)])).wait()
        controller.release()
        reply = events.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged) and e.turn.role == "assistant" and e.turn.final
            )
        )
        assert "TalkApp simulator" in reply.turn.text
        assert sys.getswitchinterval() == switch_interval and gc.get_freeze_count() == 0
    finally:
        controller.shutdown()


def test_a_profile_without_a_key_asks_for_one(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    events = Events()
    settings = Settings().with_profile(ProviderProfile(name="OpenAI"))
    controller = Controller(dataclasses.replace(settings, active="OpenAI"), events)
    try:
        assert controller.connect().result(10) is False
        needs = events.wait_for(lambda e: isinstance(e, NeedsKey))
        assert needs.profile == "OpenAI" and "OPENAI_API_KEY" in needs.message
        assert controller.engine is None
    finally:
        controller.shutdown()
        keyring.set_keyring(previous)


def test_an_openai_profile_pointed_elsewhere_is_refused_before_any_key_is_read(monkeypatch):
    # The key is in the environment: were it looked up, it would go to api.x.ai.
    monkeypatch.setenv("OPENAI_API_KEY", fake_key("never-sent-to-xai-000"))
    events = Events()
    profile = ProviderProfile(name="Edited", base_url="https://api.x.ai/v1")
    settings = dataclasses.replace(Settings().with_profile(profile), active="Edited")
    controller = Controller(settings, events)
    try:
        assert controller.connect().result(10) is False
        failed = events.wait_for(
            lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ERROR
        )
        assert "points at api.x.ai" in failed.detail and controller.engine is None
        assert not any(isinstance(e, NeedsKey) for e in events.items)
    finally:
        controller.shutdown()


def test_a_key_given_for_this_session_is_used_from_memory(pulse, monkeypatch):
    """The settings pane's "Use for this session" (no keyring) puts the key in the store the
    controller was built with: the next connect uses it, and the environment never holds it."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    events, keys = Events(), SessionKeys()
    local = ProviderProfile(
        name="Local", provider="custom", base_url="ws://127.0.0.1:9/v1", key_name="local"
    )
    settings = dataclasses.replace(Settings().with_profile(local), active="Local")
    controller = Controller(settings, events, session_keys=keys)
    try:
        assert controller.connect().result(10) is False
        events.wait_for(lambda e: isinstance(e, NeedsKey))
        keys.put("TALKAPP_CUSTOM_API_KEY", fake_key("session-only-0123"))
        assert controller.connect().result(20) is False  # past the key: the port is closed
        failed = events.wait_for(
            lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ERROR
        )
        assert "cannot reach 127.0.0.1:9" in failed.detail
        assert sum(isinstance(e, NeedsKey) for e in events.items) == 1
        assert "TALKAPP_CUSTOM_API_KEY" not in os.environ
    finally:
        controller.shutdown()
        keyring.set_keyring(previous)


def test_the_connection_test_reports_in_plain_words():
    events = Events()
    controller = Controller(Settings(), events)
    try:
        ok = controller.test_connection(Settings().active_profile(), None).result(20)
        assert ok.startswith("✓ Connected in") and "GA (auto)" in ok
        refused = controller.test_connection(
            ProviderProfile(base_url="ws://127.0.0.1:9/v1"), "sk-x"
        ).result(20)
        assert refused.startswith("✗") and "cannot reach" in refused
        assert (
            controller.test_connection(ProviderProfile(), None).result(5)
            == "Enter an API key first."
        )
    finally:
        controller.shutdown()


def test_the_app_captures_the_connection_when_asked(pulse, tmp_path):
    """Settings → Recording → Capture: one file per connection in the recordings folder, that
    `talkapp replay` reads."""
    from talkapp.session.replay import read_capture, replay
    from talkapp.settings.model import RecordingSettings

    events = Events()
    settings = dataclasses.replace(
        Settings(), recording=RecordingSettings(folder=str(tmp_path), capture_wire=True)
    )
    controller = Controller(settings, events)
    try:
        assert controller.connect().result(20)
        told = events.wait_for(
            lambda e: isinstance(e, out.Notice) and e.text.startswith("Capturing")
        )
        controller.send_text("Hello?")
        events.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged) and e.turn.role == "assistant" and e.turn.final
            )
        )
        controller.disconnect().result(10)
    finally:
        controller.shutdown()
    (path,) = tmp_path.glob("capture-*.jsonl")
    assert str(path) in told.text
    replayed = replay(read_capture(path.read_text().splitlines()))
    assert replayed.sessions == 1 and replayed.undecodable == []
    assert [t.role for t in replayed.transcript.turns() if t.final][-1] == "assistant"


def test_a_command_that_fails_on_the_loop_is_reported_and_leaves_nothing_open(pulse, tmp_path):
    not_a_folder = tmp_path / "recordings"
    not_a_folder.write_text("a file where the folder should be")
    recording = dataclasses.replace(Settings().recording, enabled=True, folder=str(not_a_folder))
    settings = dataclasses.replace(Settings(), recording=recording)
    events = Events()
    controller = Controller(settings, events)
    try:
        failed = controller.connect()
        assert failed.exception(20) is not None
        notice = events.wait_for(lambda e: isinstance(e, out.Notice) and e.level == "error")
        assert notice.text.startswith("Could not connect: ") and str(not_a_folder) in notice.text
        assert controller.engine is None
        controller.press()  # no session: nothing to do, nothing raised
        # and the same again, not "already connected"
        assert controller.connect().exception(20) is not None
    finally:
        controller.shutdown()


def test_the_output_on_demand_choice_reaches_the_engines_audio_options():
    assert _audio_options(Settings()).output_on_demand is AudioOptions().output_on_demand is True
    kept_open = dataclasses.replace(Settings(), audio=AudioSettings(keep_speaker_open=True))
    assert _audio_options(kept_open).output_on_demand is False  # the setting
    assert _audio_options(Settings(), False).output_on_demand is False  # the app's override
    assert _audio_options(kept_open, True).output_on_demand is True
    assert output_on_demand({"TALKAPP_OUTPUT_ON_DEMAND": "1"}) is True
    assert output_on_demand({"TALKAPP_OUTPUT_ON_DEMAND": "0"}) is False
    assert (
        output_on_demand({}) is None and output_on_demand({"TALKAPP_OUTPUT_ON_DEMAND": "x"}) is None
    )
