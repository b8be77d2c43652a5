"""Whatever the service sends is data: a frame nested 200,000 deep, a reply that never stops
sending audio or text, are each ignored or cut with a notice; and should one of the engine's
tasks die anyway, the user sees an error state, not a "listening" that no longer listens."""

from __future__ import annotations

import pytest
from engine_harness import running_engines

from talkapp.audio.echo import Passthrough
from talkapp.audio.ring import open_ring
from talkapp.protocol import events as ev
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.ga import DIALECT as GA
from talkapp.session import engine_events as out
from talkapp.session import speaker as speaker_module
from talkapp.session.speaker import Speaker
from talkapp.session.transcript import MAX_TURN_CHARS, Transcript
from talkapp.session.turns import Mode
from talkapp.simulator import Knobs, Simulator, SimulatorConfig


def test_a_frame_nested_too_deep_is_a_malformed_event_not_a_crash():
    deep = '{"type":"response.output_audio.delta","delta":' + "[" * 200_000 + "]" * 200_000 + "}"
    (event,) = RealtimeConnection(GA).receive(deep)
    assert event == ev.MalformedEvent(None, "JSON nested too deeply")


def test_a_turns_text_stops_growing_at_its_cap():
    transcript = Transcript()
    for _ in range(30):
        turn = transcript.apply(ev.TranscriptDelta("assistant", "item_1", "x" * 1000), 0.0)
    assert turn.cut and len(turn.text) == MAX_TURN_CHARS + 1 and turn.text.endswith("…")
    long = "y" * (3 * MAX_TURN_CHARS)
    done = transcript.apply(ev.TranscriptDone("assistant", "item_1", long), 0.0)
    assert done.final and done.cut and len(done.text) == MAX_TURN_CHARS + 1
    short = transcript.apply(ev.TranscriptDone("assistant", "item_2", "fine"), 0.0)
    assert not short.cut and short.text == "fine"


def test_reply_audio_waiting_to_play_is_capped(monkeypatch):
    monkeypatch.setattr(speaker_module, "MAX_QUEUED_SAMPLES", 24_000)  # one second, for the test
    ring, played = open_ring(48_000)
    speaker = Speaker(ring, played, 24_000, Passthrough(), lead_ms=100)
    half_second = bytes(24_000)  # 12,000 samples of PCM16
    assert speaker.play("item_1", half_second) and speaker.play("item_1", half_second)
    # The ring holds the lead (100 ms), the queue the rest: the next second does not fit.
    assert not speaker.play("item_1", bytes(48_000))
    speaker.flush()  # a barge-in empties the queue: room again
    assert speaker.play("item_2", bytes(48_000))


@pytest.fixture
async def simulator():
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        yield sim


async def test_a_deeply_nested_frame_mid_reply_is_ignored_with_a_note_and_the_turn_ends(
    pulse, simulator
):
    async with running_engines(simulator) as start:
        engine, log = await start(Mode.PUSH_TO_TALK)
        simulator.knobs.malformed_kind, simulator.knobs.send_malformed = "deep_nesting", True
        await engine.send_text("Hello there.")
        await log.wait_for(lambda e: isinstance(e, out.TurnMeasured), timeout=30)
        notice = await log.wait_for(lambda e: isinstance(e, out.Notice) and "malformed" in e.text)
        assert "JSON nested too deeply" in notice.text and engine.state is not out.State.ERROR
        assert [t.role for t in engine.transcript.turns() if t.final] == ["user", "assistant"]


async def test_an_engine_task_that_dies_shows_an_error_state(pulse, simulator):
    async with running_engines(simulator) as start:
        engine, log = await start(Mode.PUSH_TO_TALK)

        def broken(event, now):  # a bug reached by a server event: the reader task dies
            raise RuntimeError("a bug")

        engine.transcript.apply = broken
        await engine.send_text("Hello there.")
        failed = await log.wait_for(
            lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ERROR
        )
        assert "TalkApp stopped while reading the session (RuntimeError: a bug)" in failed.detail
        assert engine.state is out.State.ERROR
