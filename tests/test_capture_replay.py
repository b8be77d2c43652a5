"""Wire captures and `talkapp replay`: `say --capture` writes every frame both ways (audio as its
length and hash, nothing shaped like a key), and replay turns a capture back into what the app
did — for fresh captures of each simulator door and for the fixtures checked in under
tests/fixtures/captures (`TALKAPP_UPDATE_CAPTURES=1` rewrites those from fresh runs)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import voice_like
from fake_keys import fake_key
from test_cli_say import talkapp

from talkapp.audio.pcm import float_to_pcm16
from talkapp.audio.wav import write_wav
from talkapp.session.capture import scrubbed
from talkapp.session.replay import read_capture, replay
from talkapp.simulator import SimulatorConfig

FIXTURES = Path(__file__).parent / "fixtures" / "captures"
# door -> the say flags that reach it (the base URL is the simulator's)
DOORS = {
    "ga": ("--model", "gpt-realtime"),
    "beta": ("--model", "gpt-4o-realtime-preview"),
    "azure": ("--provider", "azure", "--model", "gpt-realtime"),
    "xai": ("--provider", "xai", "--model", "grok-voice-latest"),
}
KEY_VARIABLES = {
    "ga": "TALKAPP_CUSTOM_API_KEY",
    "beta": "TALKAPP_CUSTOM_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
    "xai": "XAI_API_KEY",
}


@pytest.fixture
def short_wav(tmp_path):
    path = tmp_path / "short.wav"
    silence = np.zeros(2400, np.float32)
    write_wav(path, float_to_pcm16(np.concatenate([silence, voice_like(0.6), silence])))
    return path


def _capture(door: str, sim, wav: Path, out: Path, key: str) -> dict:
    base = f"ws://127.0.0.1:{sim.port}" + ("" if door == "azure" else "/v1")
    run = talkapp(
        "say",
        str(wav),
        "--base-url",
        base,
        *DOORS[door],
        "--fast",
        "--json",
        "--capture",
        str(out),
        env_extra={KEY_VARIABLES[door]: key},
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("door", list(DOORS))
def test_a_fresh_capture_of_each_door_replays_as_the_run_went(
    door, simulator_thread, short_wav, tmp_path
):
    sim = simulator_thread(SimulatorConfig())
    key = fake_key(f"{door}-capture-key-000000")
    capture = tmp_path / f"{door}.jsonl"
    said = _capture(door, sim, short_wav, capture, key)
    text = capture.read_text()
    assert key not in text and key[-8:] not in text  # never the key, nor a part of it
    entries = [json.loads(line) for line in text.splitlines()]
    assert {e["dir"] for e in entries} == {"meta", "in", "out"}
    appends = [
        e["frame"]
        for e in entries
        if e["dir"] == "out" and e["frame"]["type"] == "input_audio_buffer.append"
    ]
    assert appends and all(
        set(a["audio"]) == {"audio_bytes", "sha256"} for a in appends
    )  # no voice in it
    assert all(e["t"] <= f["t"] for e, f in itertools.pairwise(entries))  # monotonic
    replayed = replay(read_capture(text.splitlines()))
    assert replayed.undecodable == [] and replayed.notices == []
    final = {t.role: t.text for t in replayed.transcript.turns() if t.final}
    # xAI's dialect sends no transcription setting: no user transcript, in the run or the replay
    expected = {
        role: said[f"{role}_transcript"]
        for role in ("user", "assistant")
        if said[f"{role}_transcript"]
    }
    assert final == expected and expected["assistant"]
    if os.environ.get("TALKAPP_UPDATE_CAPTURES") == "1":
        FIXTURES.mkdir(parents=True, exist_ok=True)
        shutil.copy(capture, FIXTURES / f"{door}.jsonl")
        (FIXTURES / f"{door}.expected.json").write_text(json.dumps(expected, indent=1) + "\n")


@pytest.mark.parametrize("door", list(DOORS))
def test_each_fixture_replays_with_the_command(door):
    run = talkapp("replay", str(FIXTURES / f"{door}.jsonl"), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    expected = json.loads((FIXTURES / f"{door}.expected.json").read_text())
    final = {t["role"]: t["text"] for t in result["transcript"] if t["final"]}
    assert final == expected and result["undecodable"] == [] and result["sessions"] == 1
    lines = talkapp("replay", str(FIXTURES / f"{door}.jsonl"))
    assert (
        lines.returncode == 0
        and "--- transcript ---" in lines.stdout
        and "ResponseDone completed" in lines.stdout
    )


def test_a_frame_that_cannot_be_decoded_fails_the_replay_in_one_line(tmp_path):
    lines = (FIXTURES / "ga.jsonl").read_text().splitlines()
    broken = []
    for line in lines:
        entry = json.loads(line)
        if (
            entry["dir"] == "in"
            and entry["frame"].get("type") == "response.output_audio.delta"
            and not broken
        ):
            del entry["frame"]["item_id"]
            broken.append(entry)
        lines[lines.index(line)] = json.dumps(entry)
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run = talkapp("replay", str(path))
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert (
        "1 frame(s) could not be decoded" in run.stderr
        and "response.output_audio.delta" in run.stderr
    )
    assert "item_id" in run.stderr


def test_not_a_capture_is_one_line(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    run = talkapp("replay", str(path))
    assert run.returncode == 1 and "is this a file written by --capture?" in run.stderr
    assert talkapp("replay", str(tmp_path / "missing.jsonl")).returncode == 1


def test_azure_refusals_are_captured_and_replayed(simulator_thread, short_wav, tmp_path):
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({fake_key("the-right-key-000000")})))
    capture = tmp_path / "refused.jsonl"
    wrong = fake_key("the-wrong-key-000000")
    run = talkapp(
        "say",
        str(short_wav),
        "--provider",
        "azure",
        "--base-url",
        f"ws://127.0.0.1:{sim.port}",
        "--capture",
        str(capture),
        env_extra={"AZURE_OPENAI_API_KEY": wrong},
    )
    assert run.returncode == 1
    assert wrong not in capture.read_text()
    replayed = replay(read_capture(capture.read_text().splitlines()))
    assert (
        replayed.notices
        and "HTTP 401" in replayed.notices[0]
        and "invalid subscription key" in replayed.notices[0]
    )


def test_scrubbing_hides_audio_mcp_auth_and_key_shaped_text():
    secret = fake_key("mcp-token-0000000000")
    update = {
        "type": "session.update",
        "session": {
            "tools": [
                {
                    "type": "mcp",
                    "server_label": "docs",
                    "server_url": "https://mcp.example",
                    "headers": {"Authorization": secret},
                },
                {"type": "mcp", "server_label": "other", "authorization": secret},
            ]
        },
    }
    assert secret not in json.dumps(scrubbed(update))
    delta = scrubbed({"type": "response.output_audio.delta", "delta": "AAAA", "item_id": "i"})
    assert (
        delta["delta"] == {"audio_bytes": 3, "sha256": delta["delta"]["sha256"]}
        and delta["item_id"] == "i"
    )
    text = scrubbed({"type": "response.output_audio_transcript.delta", "delta": "words"})
    assert text["delta"] == "words"  # a transcript delta is text, kept


async def test_the_engine_captures_every_session_of_a_conversation(monkeypatch, tmp_path):
    """`talk --capture`: one file across a reconnect, each session opened by its meta line."""
    import asyncio

    from talkapp.audio import devices
    from talkapp.audio.echo import EchoMode
    from talkapp.session import engine_events as out
    from talkapp.session.capture import WireCapture
    from talkapp.session.engine import AudioOptions, Engine
    from talkapp.session.turns import Mode
    from talkapp.settings.profile import ProviderProfile
    from talkapp.simulator import Knobs, Simulator

    monkeypatch.setenv(
        "PULSE_SERVER", "unix:/nonexistent/pulse/native"
    )  # no devices needed for text turns
    devices.rescan()
    events: list = []
    path = tmp_path / "talk.jsonl"
    capture = WireCapture.to_file(path)

    async def wait_for(predicate):
        async with asyncio.timeout(20):
            while not any(predicate(e) for e in events):
                await asyncio.sleep(0.02)

    try:
        async with Simulator(
            SimulatorConfig(knobs=Knobs(audio_pace=0, drop_after_audio_deltas=2))
        ) as sim:
            engine = Engine(
                ProviderProfile(base_url=sim.url),
                "sk-test",
                events.append,
                Mode.PUSH_TO_TALK,
                AudioOptions(echo=EchoMode.HEADSET),
                capture=capture,
            )
            assert await engine.start(), events
            try:
                await engine.send_text("Hello?")
                await wait_for(
                    lambda e: isinstance(e, out.Notice) and e.text.startswith("Reconnected")
                )
                sim.knobs.drop_after_audio_deltas = None
                await engine.send_text("Are you back?")
                await wait_for(
                    lambda e: (
                        isinstance(e, out.TranscriptChanged)
                        and e.turn.role == "assistant"
                        and e.turn.final
                    )
                )
            finally:
                await engine.stop()
    finally:
        capture.close()
        monkeypatch.undo()
        devices.rescan()
    replayed = replay(read_capture(path.read_text().splitlines()))
    assert replayed.sessions == 2 and replayed.undecodable == []
    assert any(line.split()[1] == "closed" and "1006" in line for line in replayed.lines)
    assert [t.role for t in replayed.transcript.turns() if t.final][-1] == "assistant"


def test_a_capture_that_cannot_be_written_is_one_line(short_wav, tmp_path):
    run = talkapp(
        "say", str(short_wav), "--simulator", "--capture", str(tmp_path / "no" / "such" / "c.jsonl")
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "cannot write the capture" in run.stderr
