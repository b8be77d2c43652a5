"""Talking to Gemini Live with real audio (a private PulseAudio's virtual mic and speaker, the
engine, the simulator's Gemini door over a real socket): push-to-talk marks the turn with
activityStart/activityEnd, hands-free lets Gemini's detection (or TalkApp's local VAD) end it,
speech over a reply interrupts it at once (Gemini has no truncate), and tools round-trip, a
withdrawn call stopped. Every message the engine sent is valid for Google's types."""

from __future__ import annotations

import asyncio
import base64
import json
import signal

import numpy as np
import pytest
from audio_server import reply_start
from engine_harness import running_engines
from gemini_types import validate_client_message
from speech import silence, speak
from test_engine_audio import feed, finished_speaking

from talkapp.protocol.commands import FunctionTool
from talkapp.session import engine_events as out
from talkapp.session.turns import Mode
from talkapp.simulator import Knobs, SimulatorConfig
from talkapp.tools.registry import Tool, ToolRegistry
from talkapp.tools.toolbox import ToolBox

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
QUESTION = "Hello, can you tell me the weather in Paris today?"
INTERRUPTION = "Wait, stop, I meant London."


@pytest.fixture
def simulator_config():
    """Replies stream 4x faster than real time: long enough to talk over."""
    return SimulatorConfig(knobs=Knobs(audio_pace=4.0))


def sent_by_engine(sim) -> list[dict]:
    messages = sim.connections[-1].received
    for message in messages:
        validate_client_message(json.dumps(message))
    return messages


def realtime_kinds(sim) -> list[str]:
    return [next(iter(m["realtimeInput"])) for m in sent_by_engine(sim) if "realtimeInput" in m]


def reply_audio(sim) -> np.ndarray:
    pcm = b"".join(
        base64.b64decode(part["inlineData"]["data"])
        for m in sim.connections[-1].sent
        for part in m.get("serverContent", {}).get("modelTurn", {}).get("parts", [])
    )
    return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0


async def test_push_to_talk_marks_the_activity(pulse, simulator):
    async with running_engines(simulator) as start:
        engine, log = await start(Mode.PUSH_TO_TALK, model=MODEL)
        speaker = pulse.record()
        await engine.press()
        await feed(pulse, np.concatenate([speak(QUESTION), silence(0.2)]))
        await engine.release()
        await log.wait_for(finished_speaking(log))
        recorded = speaker.stop()
    assert simulator.connections[-1].dialect == "gemini"
    setup = sent_by_engine(simulator)[0]["setup"]
    assert setup["realtimeInputConfig"]["automaticActivityDetection"] == {"disabled": True}
    kinds = realtime_kinds(simulator)
    assert kinds[0] == "activityStart" and kinds[-1] == "activityEnd"
    assert kinds.count("activityStart") == kinds.count("activityEnd") == 1
    assert reply_start(reply_audio(simulator), recorded).similarity > 0.95  # the first words
    user = [e.turn for e in log.of(out.TranscriptChanged) if e.turn.role == "user" and e.turn.final]
    assert user and "speech" in user[-1].text


@pytest.mark.parametrize("mode", [Mode.SERVER_VAD, Mode.LOCAL_VAD])
async def test_hands_free_turn_and_barge_in(pulse, simulator, mode):
    async with running_engines(simulator) as start:
        _engine, log = await start(mode, model=MODEL)
        await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.3)]))
        await log.wait_for(
            lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ASSISTANT_SPEAKING
        )
        await feed(pulse, np.concatenate([speak(INTERRUPTION), silence(0.8)]))
        interrupted = await log.wait_for(
            lambda e: isinstance(e, out.TranscriptChanged) and e.turn.interrupted
        )
        await log.wait_for(finished_speaking(log))
    detection = sent_by_engine(simulator)[0]["setup"]["realtimeInputConfig"]
    kinds = realtime_kinds(simulator)
    if mode is Mode.SERVER_VAD:  # Gemini's own detection: audio only, no activity marks
        assert detection["automaticActivityDetection"]["disabled"] is False
        assert set(kinds) == {"audio"}
        assert {"serverContent": {"interrupted": True}} in simulator.connections[-1].sent
    else:  # TalkApp's VAD decides: each turn is an activity
        assert detection["automaticActivityDetection"] == {"disabled": True}
        assert kinds.count("activityStart") >= 2 and "activityEnd" in kinds
    assert interrupted.turn.role == "assistant" and interrupted.turn.heard_ms is not None


WEATHER = FunctionTool(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def test_a_tool_call_round_trips(pulse, simulator):
    calls = []

    async def weather(args: dict) -> str:
        calls.append(args)
        return json.dumps({"city": args.get("city"), "temp_c": 18})

    box = ToolBox(registry=ToolRegistry([Tool(WEATHER, weather)]))
    async with running_engines(simulator) as start:
        engine, log = await start(Mode.PUSH_TO_TALK, model=MODEL, tools=box)
        await engine.send_text("What is the weather in Lisbon? Use get_weather.")
        said = await log.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged)
                and e.turn.role == "assistant"
                and e.turn.final
                and "returned" in e.turn.text
            ),
            timeout=30,
        )
    assert calls == [{"city": "Lisbon"}]
    answers = [m["toolResponse"] for m in sent_by_engine(simulator) if "toolResponse" in m]
    (answer,) = answers[0]["functionResponses"]
    assert answer["name"] == "get_weather" and answer["response"] == {
        "city": "Lisbon",
        "temp_c": 18,
    }
    assert "get_weather returned" in said.turn.text


async def test_a_withdrawn_call_is_stopped_and_answers_nothing(pulse, simulator):
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_weather(args: dict) -> str:
        started.set()
        await release.wait()  # never set: only the withdrawal ends it
        return "{}"

    box = ToolBox(registry=ToolRegistry([Tool(WEATHER, slow_weather)]))
    async with running_engines(simulator) as start:
        engine, log = await start(Mode.PUSH_TO_TALK, model=MODEL, tools=box)
        await engine.send_text("Use get_weather for Oslo.")
        await asyncio.wait_for(started.wait(), 20)
        await engine.send_text("Never mind.")  # the user's new turn: the door withdraws the call
        card = await log.wait_for(
            lambda e: isinstance(e, out.ToolCardChanged) and e.card.status == "failed"
        )
        await log.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged)
                and e.turn.role == "assistant"
                and e.turn.final
                and "Never mind" in e.turn.text
            ),
            timeout=30,
        )
    assert "withdrew" in card.card.error
    assert not [m for m in sent_by_engine(simulator) if "toolResponse" in m]
    assert any("toolCallCancellation" in m for m in simulator.connections[-1].sent)


async def final_reply(log, containing: str):
    return await log.wait_for(
        lambda e: (
            isinstance(e, out.TranscriptChanged)
            and e.turn.role == "assistant"
            and e.turn.final
            and containing in e.turn.text
        ),
        timeout=30,
    )


async def test_go_away_without_a_handle_is_said_and_the_conversation_goes_on(pulse, simulator):
    simulator.knobs.gemini_withhold_handles = True
    async with running_engines(simulator) as start:
        engine, log = await start(Mode.PUSH_TO_TALK, model=MODEL)
        await engine.send_text("Hello there.")
        await final_reply(log, "Hello there")
        simulator.knobs.gemini_go_away_s = 30.0
        await engine.send_text("And again.")
        notice = await log.wait_for(
            lambda e: isinstance(e, out.Notice) and "gave no handle" in e.text
        )
        await log.wait_for(lambda e: len(log.of(out.Connected)) >= 2)  # renewed when quiet
        await engine.send_text("Do you remember?")
        said = await final_reply(log, "Do you remember")
    assert "Your transcript is kept" in notice.text and "\n" not in notice.text
    assert len(simulator.connections) == 2
    replayed = [m for m in simulator.connections[-1].received if "clientContent" in m]
    assert len(replayed) >= 3  # the earlier turns as text, then the new question
    assert "Earlier turns I remember" in said.turn.text
    assert [t.role for t in engine.transcript.turns()].count("user") == 3  # nothing lost


def test_talk_on_gemini_from_the_command_line(pulse):
    """`talkapp talk --provider gemini --simulator` in push-to-talk, as a person runs it."""
    from test_cli_talk import start_talk, talk_turn, wait_for_line

    proc = start_talk("--provider", "gemini", "--mode", "ptt", "--echo", "headset")
    opening = wait_for_line(proc, "press Enter")
    talk_turn(proc, pulse)
    wait_for_line(proc, "over Gemini Live")
    proc.send_signal(signal.SIGTERM)
    printed, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert any("Gemini (auto)" in line for line in opening), opening
    assert "--- transcript ---" in printed
    assert "Traceback" not in err
