"""Settings persist across a restart, survive bad entries, and a corrupt file is moved aside."""

import dataclasses
import json

from talkapp.audio.devices import DeviceKey
from talkapp.protocol.commands import SessionConfig, TurnDetection
from talkapp.settings.model import AudioSettings, HotkeySettings, Settings
from talkapp.settings.profile import SIMULATOR_PROFILE, ProviderProfile
from talkapp.settings.store import SettingsStore

OPENAI = ProviderProfile(
    name="OpenAI",
    model="gpt-realtime-2",
    api="ga",
    session=SessionConfig(
        voice="marin",
        instructions="Be brief.",
        turn_detection=TurnDetection(kind="semantic_vad", eagerness="high"),
        transcription_model=None,
        reasoning_effort="low",
    ),
)


def test_a_fresh_start_is_the_offline_simulator(tmp_path):
    loaded = SettingsStore(tmp_path).load()
    assert loaded.notices == ()
    assert loaded.settings.active == SIMULATOR_PROFILE
    assert (
        loaded.settings.active_profile().provider == "simulator"
        and not loaded.settings.active_profile().needs_key
    )


def test_everything_round_trips_across_a_restart(tmp_path):
    settings = dataclasses.replace(
        Settings().with_profile(OPENAI),
        active="OpenAI",
        mode="semantic_vad",
        audio=AudioSettings(
            input_device=DeviceKey("USB mic", "ALSA"),
            echo="gate",
            silence_ms=700,
            block_ms=10,
            keep_speaker_open=True,
        ),
        hotkeys=HotkeySettings(push_to_talk="F9", global_push_to_talk="<ctrl>+<alt>+space"),
    )
    SettingsStore(tmp_path).save(settings)
    loaded = SettingsStore(tmp_path).load()
    assert loaded.settings == settings and loaded.notices == ()


def test_a_corrupt_file_is_moved_aside_with_a_message(tmp_path):
    (tmp_path / "settings.json").write_text("{ this is not json")
    loaded = SettingsStore(tmp_path).load()
    assert loaded.settings == Settings()
    (notice,) = loaded.notices
    kept = [p.name for p in tmp_path.iterdir() if p.name.startswith("settings.json.unreadable-")]
    assert len(kept) == 1 and kept[0] in notice and "defaults" in notice
    assert not (tmp_path / "settings.json").exists()


def test_bad_entries_fall_back_alone_and_are_reported(tmp_path):
    data = json.loads(
        json.dumps(
            {
                "profiles": [{"name": "OpenAI", "model": 42, "api": "ga"}, {"model": "x"}],
                "active": "OpenAI",
                "mode": "telepathy",
                "audio": {"echo": "foil", "silence_ms": "long", "block_ms": 7},
            }
        )
    )
    (tmp_path / "settings.json").write_text(json.dumps(data))
    loaded = SettingsStore(tmp_path).load()
    settings = loaded.settings
    assert settings.active == "OpenAI" and settings.active_profile().api == "ga"
    assert settings.active_profile().model == ProviderProfile().model  # 42 was not a model id
    assert (
        settings.mode == "ptt" and settings.audio.echo == "aec" and settings.audio.silence_ms == 500
    )
    assert settings.audio.block_ms == 5  # 7 ms is not a block the app offers
    assert any(p.provider == "simulator" for p in settings.profiles)  # always offered
    (notice,) = loaded.notices
    assert (
        "model" in notice
        and "telepathy" in notice
        and "foil" in notice
        and "block_ms = 7" in notice
    )


def test_the_file_holds_no_secret_fields(tmp_path):
    SettingsStore(tmp_path).save(Settings().with_profile(OPENAI))
    text = (tmp_path / "settings.json").read_text()
    assert "sk-" not in text and "api_key" not in text and "key_name" in text
