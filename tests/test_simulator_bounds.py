"""The simulator stays small however long it runs or whatever a client sends, and says so when
it is bound where other machines can reach it."""

from __future__ import annotations

from test_cli_say import talkapp

from talkapp.simulator import input_audio, recorder
from talkapp.simulator.input_audio import InputAudio
from talkapp.simulator.recorder import Recorder


def test_the_input_buffer_keeps_at_most_its_cap_and_the_timeline_goes_on(monkeypatch, caplog):
    monkeypatch.setattr(input_audio, "MAX_BUFFER_MS", 1000)
    audio = InputAudio()
    second = bytes(48_000)  # one second of PCM16 at 24 kHz
    for _ in range(5):
        audio.append(second)
    assert audio.buffered_ms == 1000 and audio.end_ms == 5000 and audio.start_ms == 4000
    assert audio.dropped_ms == 4000
    full = [r for r in caplog.records if "input audio buffer full" in r.getMessage()]
    assert len(full) == 1  # said once, not at every append
    assert len(audio.take_all()) == 48_000


def test_recorded_events_and_connections_keep_only_the_newest(monkeypatch):
    monkeypatch.setattr(recorder, "MAX_EVENTS", 100)
    monkeypatch.setattr(recorder, "MAX_CONNECTIONS", 10)
    record = Recorder()
    for _ in range(25):
        connection = record.open("/v1/realtime", [("authorization", "Bearer x")])
    assert len(record.connections) <= 10
    assert record.connections[-1].number == connection.number == 24
    for n in range(1000):
        record.received(connection, {"n": n})
        record.sent(connection, {"n": n})
    assert 90 <= len(connection.received) <= 100 and connection.received[-1] == {"n": 999}
    assert len(connection.sent) <= 100 and len(record.timeline) <= 100


def test_a_simulator_bound_beyond_this_machine_warns(tmp_path):
    # 192.0.2.1 (TEST-NET-1) is not an address of this machine: binding fails right after the
    # warning, and nothing is sent anywhere.
    run = talkapp("simulator", "--host", "192.0.2.1", "--port", "0", timeout=30)
    lines = run.stderr.strip().splitlines()
    assert lines[0] == (
        "talkapp: warning: --host 192.0.2.1 lets other machines reach the simulator, "
        "and it takes any key; use --host 127.0.0.1 unless you mean that."
    )
    assert run.returncode == 1 and lines[1].startswith("talkapp: cannot listen on 192.0.2.1:0")
