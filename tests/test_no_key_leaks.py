"""The API key lives only in the OS keyring: after a whole session — key stored through the
keyring, a conversation recorded, logging on, settings saved, and a rejected key whose error
message quotes part of it — no file the app wrote holds the key or a recognisable part of it."""

import dataclasses
import logging
import threading

import pytest
from fake_keys import fake_key
from fake_keys_shapes import secret_part, shapes

from talkapp.controller import Controller
from talkapp.logs import start_logging
from talkapp.session import engine_events as out
from talkapp.settings.model import RecordingSettings, Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.secrets import store_api_key
from talkapp.settings.store import SettingsStore
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.threads.loop import LoopThread

KEY = fake_key("proj-Zq81LeakCheck7c2d9e4f0a1b3c5d7e9f2468")
WRONG = fake_key("proj-Zq81LeakCheck7c2d9e4f0a1b3c5d7eXXXX")
FRAGMENTS = [KEY, KEY[8:28], "7c2d9e4f0a1b", "Zq81LeakCheck"]
OTHER_SHAPES = shapes()  # every credential shape, said in the conversation (recorded, echoed)
FRAGMENTS += [secret_part(key) for key in OTHER_SHAPES.values()]


class Seen:
    def __init__(self):
        self.events, self.cond = [], threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=20):
        with self.cond:
            assert self.cond.wait_for(lambda: any(predicate(e) for e in self.events), timeout), (
                self.events
            )


@pytest.fixture
def written(tmp_path, monkeypatch):
    """Every folder the app may write to, inside tmp_path."""
    for name, sub in (("TALKAPP_CONFIG_DIR", "config"), ("TALKAPP_LOG_DIR", "logs")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield tmp_path
    root = logging.getLogger("talkapp")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()


def test_no_file_the_app_writes_holds_the_key(written, secret_service, pulse):
    sim_loop = LoopThread("test-simulator").start()
    sim = Simulator(SimulatorConfig(api_keys=frozenset({KEY}), knobs=Knobs(audio_pace=0)))
    sim_loop.submit(sim.__aenter__()).result(10)
    logger_path = start_logging()
    store_api_key("leakcheck", KEY)
    profile = ProviderProfile(
        name="Work", provider="custom", base_url=sim.url, key_name="leakcheck"
    )
    settings = dataclasses.replace(
        Settings().with_profile(profile),
        active="Work",
        recording=RecordingSettings(True, str(written / "recordings")),
    )
    SettingsStore().save(settings)
    seen = Seen()
    controller = Controller(settings, seen)
    try:
        assert controller.connect().result(20)
        controller.send_text("Hello, please answer briefly. " + " ".join(OTHER_SHAPES.values()))
        seen.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged) and e.turn.role == "assistant" and e.turn.final
            )
        )
        controller.disconnect().result(10)
        store_api_key("leakcheck", WRONG)  # the service's refusal quotes the key's last characters
        assert controller.connect().result(20) is False
        seen.wait_for(lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ERROR)
    finally:
        controller.shutdown()
        sim_loop.submit(sim.__aexit__(None, None, None)).result(10)
        sim_loop.stop()
    files = [p for p in written.rglob("*") if p.is_file()]
    assert (
        logger_path in files
        and any(p.name == "events.jsonl" for p in files)
        and any(p.name == "settings.json" for p in files)
    )
    for path in files:
        data = path.read_bytes()
        for fragment in FRAGMENTS:
            assert fragment.encode() not in data, f"{fragment!r} found in {path}"
    assert "Work" in (written / "config" / "settings.json").read_text()
