"""`talkapp say` on Gemini Live: a whole turn against a server of Google's shape (the simulator's
Gemini door), every message TalkApp sent valid for Google's `google-genai` types, and the
refusals Google answers with a close code said in one line."""

from __future__ import annotations

import json

import pytest
from fake_keys import fake_key
from gemini_types import validate_client_message
from test_cli_say import talkapp

from talkapp.audio.wav import read_wav
from talkapp.protocol.commands import SessionConfig
from talkapp.session.capture import WireCapture
from talkapp.session.one_turn import TurnFailed, run_one_turn
from talkapp.session.replay import read_capture, replay
from talkapp.settings.profile import command_line_profile
from talkapp.simulator import Simulator, SimulatorConfig

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"


def key() -> str:
    return fake_key("gemini-test-0000000000")


def sent_by_talkapp(sim: Simulator) -> list[dict]:
    received = [message for record in sim.connections for message in record.received]
    assert received
    for message in received:
        validate_client_message(json.dumps(message))
    return received


@pytest.mark.slow
def test_say_completes_a_turn_on_gemini(stereo_wav, simulator_thread, tmp_path):
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({key()})))
    out = tmp_path / "reply.wav"
    run = talkapp(
        "say",
        str(stereo_wav),
        "--provider",
        "gemini",
        "--model",
        MODEL,
        "--base-url",
        f"ws://127.0.0.1:{sim.port}",
        "--out",
        str(out),
        "--fast",
        "--json",
        env_extra={"GEMINI_API_KEY": key(), "OPENAI_API_KEY": fake_key("openai-never-sent")},
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["dialect"] == "gemini" and result["status"] == "completed"
    assert result["url"].endswith(
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    )
    said = "".join(
        m["serverContent"]["outputTranscription"]["text"]
        for m in sim.connections[-1].sent
        if "outputTranscription" in m.get("serverContent", {})
    )
    assert result["assistant_transcript"] == said != ""
    assert result["usage"]["input_audio"] > 0 and result["usage"]["output_audio"] > 0
    assert result["timings_ms"]["first_audio"] is not None
    assert read_wav(out).seconds > 1.0
    (record,) = sim.connections
    assert "key" not in record.path  # the key travelled in the header only
    assert record.headers["x-goog-api-key"] != key()  # (recorded masked)
    messages = sent_by_talkapp(sim)
    assert "setup" in messages[0]
    kinds = [next(iter(m.get("realtimeInput", {"other": 0}))) for m in messages[1:]]
    assert kinds[0] == "activityStart" and kinds[-1] == "activityEnd"  # say's turn is manual


async def _turn(sim: Simulator, model: str, api_key: str):
    profile = command_line_profile(f"ws://127.0.0.1:{sim.port}", "gemini", model=model)
    pcm = b"".join([bytes(4800), (b"\x00\x10" * 12000), bytes(4800)])
    config = SessionConfig(turn_detection=None)
    return await run_one_turn(profile.endpoint(), api_key, config, pcm, pace=0)


@pytest.mark.parametrize(
    ("model", "api_key", "said"),
    [
        (MODEL, "wrong", "Gemini refused the key: set a Gemini key (keyring set talkapp gemini"),
        ("gemini-9-nonexistent", None, "Gemini has no Live model gemini-9-nonexistent"),
        ("gemini-2.5-flash", None, "Gemini has no Live model gemini-2.5-flash"),
    ],
)
async def test_refusals_are_one_line_saying_what_to_do(model, api_key, said):
    async with Simulator(SimulatorConfig(api_keys=frozenset({key()}))) as sim:
        with pytest.raises(TurnFailed) as failed:
            await _turn(sim, model, api_key or key())
    message = str(failed.value)
    assert message.startswith(said) and "\n" not in message
    assert key() not in message


async def test_a_turn_in_process_sends_only_valid_messages():
    async with Simulator(SimulatorConfig()) as sim:
        result = await _turn(sim, MODEL, key())
        sent_by_talkapp(sim)
    assert result.status == "completed" and result.usage is not None
    assert result.assistant_transcript.startswith("This is the TalkApp simulator")


async def test_a_capture_keeps_the_protocol_not_the_voice_and_replays(tmp_path):
    path = tmp_path / "wire.jsonl"
    capture = WireCapture.to_file(path)
    async with Simulator(SimulatorConfig()) as sim:
        profile = command_line_profile(f"ws://127.0.0.1:{sim.port}", "gemini", model=MODEL)
        pcm = b"".join([bytes(4800), (b"\x00\x10" * 12000), bytes(4800)])
        config = SessionConfig(turn_detection=None)
        await run_one_turn(profile.endpoint(), key(), config, pcm, pace=0, capture=capture)
    capture.close()
    text = path.read_text()
    blobs = [
        json.loads(line)["frame"]
        for line in text.splitlines()
        if "inlineData" in line or '"audio"' in line
    ]
    assert blobs  # both directions carried audio ...
    datas = [d for b in blobs for d in _values_of("data", b)]
    assert datas and all(isinstance(d, dict) and d["audio_bytes"] > 0 for d in datas)
    replayed = replay(read_capture(text.splitlines()))  # ... and it replays as silence
    assert not replayed.undecodable
    assert "over Gemini Live" in "\n".join(replayed.lines)


def _values_of(name: str, value: object) -> list:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == name] + [
            found for v in value.values() for found in _values_of(name, v)
        ]
    if isinstance(value, list):
        return [found for v in value for found in _values_of(name, v)]
    return []


def test_resumption_handles_stay_out_of_captures_and_recordings():
    from talkapp.protocol import events as ev
    from talkapp.session.capture import scrubbed

    wire = {"sessionResumptionUpdate": {"newHandle": "handle-123", "resumable": True}}
    assert "handle-123" not in json.dumps(scrubbed(wire))
    setup = {"setup": {"model": "models/m", "sessionResumption": {"handle": "handle-123"}}}
    assert "handle-123" not in json.dumps(scrubbed(setup))
    assert "handle-123" not in repr(ev.ResumptionHandle("handle-123", True))
