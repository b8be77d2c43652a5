"""xAI's door as third parties model Grok Voice (pipecat's `services/xai`, tau2-bench): speech
events with only `item_id`, a transcript `done` without `transcript`, and either
`conversation.created` or `session.created` first. `say` and the engine complete turns against
it, with the assistant's transcript whole and no "malformed" warning."""

from __future__ import annotations

import json

import numpy as np
import pytest
from engine_harness import running_engines
from fake_keys import fake_key
from speech import silence, speak
from test_cli_say import talkapp

from talkapp.session import engine_events as out
from talkapp.session.turns import Mode
from talkapp.simulator import Knobs, Simulator, SimulatorConfig


def _sent(record, wire_type):
    return [e for e in record.sent if isinstance(e, dict) and e.get("type") == wire_type]


@pytest.mark.parametrize("opens_with", ["conversation", "session"])
def test_say_completes_a_turn_on_xais_thin_events(stereo_wav, simulator_thread, opens_with):
    sim = simulator_thread(SimulatorConfig(xai_opens_with=opens_with))
    run = talkapp(
        "say",
        str(stereo_wav),
        "--provider",
        "xai",
        "--base-url",
        sim.url,
        "--fast",
        "--json",
        env_extra={"XAI_API_KEY": fake_key("xai-key-000000000000")},
    )
    assert run.returncode == 0, run.stderr
    assert "malformed" not in (run.stderr + run.stdout).lower()
    result = json.loads(run.stdout.strip().splitlines()[-1])
    (record,) = sim.connections
    # the door really left the text out of the done: the transcript came from the deltas
    (done,) = _sent(record, "response.output_audio_transcript.done")
    assert "transcript" not in done
    deltas = "".join(e["delta"] for e in _sent(record, "response.output_audio_transcript.delta"))
    assert result["status"] == "completed" and result["assistant_transcript"] == deltas != ""
    first = record.sent_types()[0]
    assert first == ("conversation.created" if opens_with == "conversation" else "session.created")


async def test_the_engine_takes_turns_on_xais_thin_speech_events(pulse):
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=4.0))) as sim:
        async with running_engines(sim) as start:
            _engine, log = await start(Mode.SERVER_VAD, model="grok-voice-latest")
            await _say(pulse, "Hello, what is the weather like today?")
            await log.wait_for(lambda e: isinstance(e, out.TurnMeasured))
            await log.wait_for(
                lambda e: (
                    isinstance(e, out.TranscriptChanged)
                    and e.turn.role == "assistant"
                    and e.turn.final
                )
            )
        record = sim.connections[-1]
        assert record.dialect == "xai"
        started = _sent(record, "input_audio_buffer.speech_started")
        assert started and all("audio_start_ms" not in e for e in started)  # thin, as modelled
        assistant = [
            e.turn
            for e in log.of(out.TranscriptChanged)
            if e.turn.role == "assistant" and e.turn.final
        ]
        deltas = "".join(
            e["delta"] for e in _sent(record, "response.output_audio_transcript.delta")
        )
        assert assistant[-1].text and deltas.startswith(assistant[0].text)
        notices = [n.text for n in log.of(out.Notice)]
        assert not [n for n in notices if "malformed" in n.lower()], notices


async def _say(pulse, text: str) -> None:
    import asyncio

    player = pulse.feed_mic(np.concatenate([silence(0.3), speak(text), silence(0.6)]))
    await asyncio.to_thread(player.wait)
