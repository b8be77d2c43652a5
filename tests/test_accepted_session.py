"""What the service accepted, checked against what we asked: a kept voice, another turn
detection, a dropped tool or transcription each become one plain sentence; a faithful reply
(every door of the simulator) becomes none."""

from __future__ import annotations

import dataclasses
import json

import pytest

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.accepted import SessionSummary, differences, summarize
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.selection import DIALECTS, choose_dialect
from talkapp.session.client import RealtimeSession
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

WEATHER = cmd.FunctionTool("get_weather", "The weather.", {"type": "object", "properties": {}})
ASKED = cmd.SessionConfig(voice="marin", tools=(WEATHER,))


def _asked(dialect: str, config: cmd.SessionConfig = ASKED) -> dict:
    return json.loads(RealtimeConnection(DIALECTS[dialect]).send(cmd.ConfigureSession(config)))[
        "session"
    ]


@pytest.mark.parametrize("dialect", ["ga", "beta", "xai"])
def test_our_own_session_summarizes_to_what_we_asked(dialect):
    summary = summarize(_asked(dialect))
    assert summary.voice == "marin" and summary.tools == ("get_weather",)
    assert summary.turn_detection == "server_vad"
    assert differences(summary, summary) == ()


def test_each_change_is_one_sentence():
    asked = summarize(_asked("ga"))
    kept = dataclasses.replace(
        asked, voice="alloy", turn_detection=None, transcription=None, tools=()
    )
    said = differences(asked, kept)
    assert said[0] == "The service kept voice alloy; marin is not available for this model."
    assert said[1] == "The service uses manual turns instead of server VAD."
    assert (
        said[2]
        == "The service turned input transcription off (gpt-4o-mini-transcribe was not taken)."
    )
    assert said[3] == "The service did not take the tool: get_weather."


def test_what_the_reply_leaves_out_is_not_a_difference():
    assert (
        differences(summarize(_asked("ga")), SessionSummary(voice="alloy")) == ()
    )  # nothing stated
    eve = summarize(_asked("xai", dataclasses.replace(ASKED, voice="Eve")))
    assert differences(eve, summarize({"voice": "eve"})) == ()  # xAI's voices: any case


def test_the_connection_attaches_the_differences_to_session_updated():
    c = RealtimeConnection(DIALECTS["ga"])
    c.send(cmd.ConfigureSession(ASKED))
    reply = {
        "type": "session.updated",
        "session": {"id": "s", "audio": {"output": {"voice": "alloy"}}},
    }
    (event,) = c.receive(json.dumps(reply))
    assert isinstance(event, ev.SessionConfigured)
    assert event.differences == (
        "The service kept voice alloy; marin is not available for this model.",
    )


@pytest.mark.parametrize("model", ["gpt-realtime", "gpt-4o-realtime-preview", "grok-voice-latest"])
async def test_a_faithful_service_gets_no_notice_and_a_kept_voice_gets_one(model):
    voice = "Eve" if model.startswith("grok") else "marin" if model == "gpt-realtime" else "ash"
    config = dataclasses.replace(ASKED, voice=voice)
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        endpoint = Endpoint(sim.url, model, choose_dialect("auto", model))
        async with await RealtimeSession.open(endpoint, "sk-test", config) as session:
            assert session.configured.differences == ()
        sim.knobs.keep_voice = "alloy"
        async with await RealtimeSession.open(endpoint, "sk-test", config) as session:
            assert session.configured.differences == (
                f"The service kept voice alloy; {voice} is not available for this model.",
            )


async def test_the_engine_says_it_in_the_conversation(pulse):
    from engine_harness import EventLog

    from talkapp.audio.echo import EchoMode
    from talkapp.session import engine_events as out
    from talkapp.session.engine import AudioOptions, Engine
    from talkapp.session.turns import Mode
    from talkapp.settings.profile import ProviderProfile

    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0, keep_voice="alloy"))) as sim:
        log = EventLog()
        profile = ProviderProfile(base_url=sim.url, session=cmd.SessionConfig(voice="marin"))
        engine = Engine(
            profile, "sk-test", log, Mode.PUSH_TO_TALK, AudioOptions(echo=EchoMode.HEADSET)
        )
        try:
            assert await engine.start(), log.events
        finally:
            await engine.stop()
    kept = [n for n in log.of(out.Notice) if "kept voice" in n.text]
    assert [n.text for n in kept] == [
        "The service kept voice alloy; marin is not available for this model."
    ]
