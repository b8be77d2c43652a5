"""Text-only replies and failed input transcriptions, in both dialects: the server events (fixtures
in tests/fixtures/text_output, written from the protocol reference) decode to the right values,
and a text-only conversation runs end to end -- the real engine against the simulator over a real
socket -- with the reply's final text in the transcript."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from engine_harness import EventLog

from talkapp.audio.echo import EchoMode
from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.selection import DIALECTS
from talkapp.session import engine_events as out
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.transcript import Transcript
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

FIXTURES = Path(__file__).parent / "fixtures" / "text_output"
MODELS = {"ga": "gpt-realtime", "beta": "gpt-4o-realtime-preview"}
TEXT_DONE = {"ga": "response.output_text.done", "beta": "response.text.done"}


def fixture(dialect: str, wire_type: str) -> str:
    path = FIXTURES / dialect / f"server.{wire_type}.json"
    assert path.is_file(), f"missing fixture {path}"
    return path.read_text()


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_the_text_done_event_decodes_to_the_final_text(dialect):
    (event,) = RealtimeConnection(DIALECTS[dialect]).receive(fixture(dialect, TEXT_DONE[dialect]))
    assert event == ev.TranscriptDone(
        "assistant", "item_K7wQ3cTz1RyP4wLk7JmAo", "Hi there! It is sunny in Paris."
    )


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_the_other_dialects_text_done_means_nothing(dialect):
    other = {"ga": "beta", "beta": "ga"}[dialect]
    (event,) = RealtimeConnection(DIALECTS[dialect]).receive(fixture(other, TEXT_DONE[other]))
    assert event == ev.Unrecognized(TEXT_DONE[other])


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_a_failed_transcription_decodes_with_its_message(dialect):
    raw = fixture(dialect, "conversation.item.input_audio_transcription.failed")
    (event,) = RealtimeConnection(DIALECTS[dialect]).receive(raw)
    assert event == ev.TranscriptionFailed(
        "item_K7wQ3bVx6NcM2qHs8DfGe", "The audio could not be transcribed."
    )


def test_a_failed_transcription_ends_the_users_turn_saying_so():
    transcript = Transcript()
    transcript.apply(ev.ItemAdded("item_u", "message", "user", ""), 1.0)
    turn = transcript.apply(
        ev.TranscriptionFailed("item_u", "The audio could not be transcribed."), 2.0
    )
    assert (turn.role, turn.final, turn.untranscribed) == ("user", True, True)
    assert turn.text == "(not transcribed: The audio could not be transcribed.)"


def sent_text_done(sim, dialect: str) -> list[str]:
    return [
        e["text"]
        for e in sim.connections[-1].sent
        if isinstance(e, dict) and e.get("type") == TEXT_DONE[dialect]
    ]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_text_only_conversation_ends_with_the_replys_final_text(pulse, dialect):
    profile = ProviderProfile(
        base_url="", model=MODELS[dialect], session=cmd.SessionConfig(output="text")
    )
    log = EventLog()
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        profile = dataclasses.replace(profile, base_url=sim.url)
        engine = Engine(
            profile, "sk-test", log, Mode.PUSH_TO_TALK, AudioOptions(echo=EchoMode.HEADSET)
        )
        assert await engine.start(), log.events
        try:
            await engine.send_text("Say something short.")
            final = await log.wait_for(
                lambda e: (
                    isinstance(e, out.TranscriptChanged)
                    and e.turn.role == "assistant"
                    and e.turn.final
                ),
                timeout=10,
            )
            await log.wait_for(lambda e: isinstance(e, out.TurnMeasured))
        finally:
            await engine.stop()
    (text,) = sent_text_done(sim, dialect)
    assert final.turn.text == text and text
    assert not [e for e in log.of(out.Notice) if "malformed" in e.text]
    (update,) = [
        e["session"] for e in sim.connections[-1].received if e.get("type") == "session.update"
    ]
    assert update["output_modalities" if dialect == "ga" else "modalities"] == [
        "text"
    ]  # asked for text only
    assert not [
        e
        for e in sim.connections[-1].sent
        if isinstance(e, dict) and "audio.delta" in e.get("type", "")
    ]
    states = [e.state for e in log.of(out.StateChanged)]
    assert (
        out.State.ASSISTANT_SPEAKING not in states and states[-2] is out.State.LISTENING
    )  # then IDLE at stop
