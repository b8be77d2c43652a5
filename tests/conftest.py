import asyncio
import os
import threading
import wave

import numpy as np
import pytest

from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16
from talkapp.simulator import Simulator


def voice_like(seconds: float, pitch: float = 140.0, rate: int = WIRE_RATE) -> np.ndarray:
    """A crude voiced signal (harmonics of a gliding pitch under a syllable envelope): enough
    for VAD and for checking that audio survives the trip, no need for a speech engine."""
    t = np.arange(int(rate * seconds)) / rate
    f0 = pitch * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    harmonics = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.25 * harmonics * envelope / 2).astype(np.float32)


@pytest.fixture
def utterance_pcm() -> bytes:
    """1.2 s of voice-like audio with 200 ms of silence around it, as 24 kHz PCM16."""
    silence = np.zeros(int(0.2 * WIRE_RATE), np.float32)
    return float_to_pcm16(np.concatenate([silence, voice_like(1.2), silence]))


@pytest.fixture(autouse=True)
def no_provider_keys_from_outside(monkeypatch):
    """A developer's real keys in the environment never reach a test (or a server): each test
    that wants a key sets one itself."""
    from talkapp.settings.providers import PRESETS

    for variable in {name for preset in PRESETS.values() for name in preset.env_vars}:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(autouse=True)
def private_user_folders(monkeypatch, tmp_path_factory):
    """Nothing a test runs (the app, `talkapp say` in a child process) writes its conversation
    history or its log into, or reads a budget from, the developer's own folders."""
    from talkapp.logs import stop_logging

    monkeypatch.setenv("TALKAPP_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("TALKAPP_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("TALKAPP_LOG_DIR", str(tmp_path_factory.mktemp("log")))
    yield
    stop_logging()  # a test's log file is not written to by the next test


# real services: PulseAudio; gnome-keyring on D-Bus; Xvfb; and the engine on the simulator
pytest_plugins = ["audio_server", "keyring_server", "display_server", "engine_harness"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # widget tests need no display


# ---- a simulator for child processes, and a WAV to send it (test_cli_say and the tests of
# what `talkapp say` does against each provider's door) ----


@pytest.fixture
def stereo_wav(tmp_path):
    """A 44.1 kHz stereo WAV, the most common thing on a desktop."""
    mono = voice_like(1.0, rate=44100)
    path = tmp_path / "input.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(float_to_pcm16(np.stack([mono, mono], axis=1).reshape(-1)))
    return path


@pytest.fixture
def simulator_thread():
    """A simulator on its own loop and thread, so a child process can talk to it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started = []

    def start(config):
        sim = Simulator(config)
        asyncio.run_coroutine_threadsafe(sim.__aenter__(), loop).result(10)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        asyncio.run_coroutine_threadsafe(sim.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


# Real services make a test slow: audio through the private sound server, the app on Xvfb.
SLOW_FIXTURES = {"pulse", "display"}
# So does running the whole `talkapp` command in child processes, a second or more each.
SLOW_MODULES = {
    "test_cli_say",
    "test_cli_talk",
    "test_history_cli",
    "test_history_talk",
    "test_dead_connection",
    "test_http_refusals",
    "test_open_lists",
    "test_xai_thin_events",
    "test_capture_replay",
}


def pytest_collection_modifyitems(items):
    """`./dev test -m "not slow"` is the fast subset: a test is slow when it uses a real
    sound server or display, runs the command end to end in child processes, or says so itself
    (`pytest.mark.slow`: packaging, long waits)."""
    for item in items:
        module = getattr(item, "module", None)
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or (
            module is not None and module.__name__.rpartition(".")[2] in SLOW_MODULES
        ):
            item.add_marker(pytest.mark.slow)
