"""The desktop app writes a log as `talk` does: the same file, rotation and redaction. Driven
on real parts: the app's window (offscreen), its controller and engine on a private PulseAudio,
and the simulator over a real socket, which refuses a wrong key."""

import dataclasses
import logging.handlers

from fake_keys import fake_key
from test_ui_main import WAIT

from talkapp.app import DesktopApp
from talkapp.logs import BACKUPS, MAX_BYTES
from talkapp.session.engine_events import State
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.store import SettingsStore
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.threads.loop import LoopThread

KEY = fake_key("proj-Qv41AppLogCheck9e8d7c6b5a4f3e2d1c0b")
WRONG = fake_key("proj-Qv41AppLogCheck9e8d7c6b5a4f3e2dWq7Z")
FRAGMENTS = [WRONG, WRONG[8:28], "AppLogCheck9e8d"]


def test_the_desktop_app_logs_to_the_rotating_file_and_never_the_key(
    qtbot, pulse, tmp_path, monkeypatch
):
    monkeypatch.setenv("TALKAPP_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("TALKAPP_CUSTOM_API_KEY", WRONG)  # refused: the refusal quotes its end
    sim_loop = LoopThread("test-simulator").start()
    sim = Simulator(SimulatorConfig(api_keys=frozenset({KEY}), knobs=Knobs(audio_pace=0)))
    sim_loop.submit(sim.__aenter__()).result(10)
    try:
        profile = ProviderProfile(name="Work", provider="custom", base_url=sim.url)
        store = SettingsStore(tmp_path / "config")
        store.save(dataclasses.replace(Settings().with_profile(profile), active="Work"))
        app = DesktopApp(store)
        qtbot.addWidget(app.window)
        handlers = [
            h
            for h in logging.getLogger("talkapp").handlers
            if isinstance(h, logging.handlers.RotatingFileHandler)
        ]
        assert len(handlers) == 1
        assert (handlers[0].maxBytes, handlers[0].backupCount) == (MAX_BYTES, BACKUPS)
        app.start()
        qtbot.waitUntil(lambda: app.window.state is State.ERROR, timeout=WAIT)
        assert "rejected the API key" in app.window.banners.get("connection").text
        app.shutdown()
    finally:
        sim_loop.submit(sim.__aexit__(None, None, None)).result(10)
        sim_loop.stop()
    log = tmp_path / "logs" / "talkapp.log"
    assert app.log_path == log
    text = log.read_text(encoding="utf-8")
    assert "the desktop app started on the profile Work" in text
    assert "rejected the API key" in text  # the refusal is logged …
    for fragment in FRAGMENTS:  # … without any part of the key it quoted
        assert fragment not in text, f"{fragment!r} found in the log"
    assert "the desktop app quit" in text.splitlines()[-1]
    assert log.stat().st_mode & 0o777 == 0o600
