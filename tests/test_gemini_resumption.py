"""Long Gemini sessions: a `goAway` renews the session at the next quiet moment and a lost
connection comes back, both by resuming with the latest handle (the service keeps the whole
conversation; nothing is replayed); without a handle the history is replayed as text. Against
the simulator's Gemini door over a real socket."""

from __future__ import annotations

import dataclasses

import pytest

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.selection import choose_dialect
from talkapp.session.keeper import Backoff, Reconnected, SessionKeeper, SessionLost
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
FAST = Backoff(first_s=0.01, cap_s=0.05, attempts=3)
HISTORY = [
    cmd.AddHistory("user", "What's the weather in Paris?"),
    cmd.AddHistory("assistant", "Sunny, 21 degrees."),
]


@pytest.fixture
async def simulator():
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        yield sim


def keeper_for(simulator, compress: int | None = None) -> SessionKeeper:
    endpoint = Endpoint(simulator.url, MODEL, choose_dialect("auto", MODEL))
    config = cmd.SessionConfig(turn_detection=None, context_compression_tokens=compress)
    return SessionKeeper(endpoint, "k", lambda: config, lambda: HISTORY, backoff=FAST, seed=1)


async def until(events, predicate) -> list:
    seen = []
    async for event in events:
        seen.append(event)
        if predicate(event):
            return seen
    raise AssertionError(f"the events ended first: {seen[-5:]}")


def turn_done(event) -> bool:
    return isinstance(event, ev.ResponseDone)


async def reply_to(keeper, events, text: str) -> str:
    await keeper.send(cmd.SendText(text))
    seen = await until(events, lambda e: isinstance(e, ev.TranscriptDone) and e.role == "assistant")
    return seen[-1].text


def setups(simulator) -> list[dict]:
    return [m["setup"] for r in simulator.connections for m in r.received if "setup" in m]


async def test_go_away_renews_by_resuming_the_conversation(simulator):
    keeper = keeper_for(simulator, compress=20000)
    await keeper.open()
    events = keeper.events()
    await reply_to(keeper, events, "Hello")
    await until(events, lambda e: isinstance(e, ev.ResumptionHandle))
    simulator.knobs.gemini_go_away_s = 30.0
    await reply_to(keeper, events, "Second")
    await until(events, lambda e: isinstance(e, ev.GoingAway))
    assert keeper.expires_soon() and keeper.can_resume
    renewed = await keeper.renew()
    assert renewed is not None and renewed.renewed and keeper.resumed
    first, second = setups(simulator)
    assert "handle" not in first["sessionResumption"]
    assert second["sessionResumption"]["handle"].startswith("simres-")
    assert second["contextWindowCompression"] == {
        "triggerTokens": 20000,
        "slidingWindow": {"targetTokens": 10000},
    }
    assert not [m for m in simulator.connections[-1].received if "clientContent" in m]
    said = await reply_to(keeper, events, "Third")
    assert "Earlier turns I remember: 2" in said  # the service kept the conversation
    await keeper.close()


async def test_a_closed_session_comes_back_resumed(simulator):
    keeper = keeper_for(simulator)
    await keeper.open()
    events = keeper.events()
    await reply_to(keeper, events, "Hello")
    await until(events, lambda e: isinstance(e, ev.ResumptionHandle))
    simulator.knobs.gemini_go_away_s = 0.05  # closes almost at once, before any renewal
    await reply_to(keeper, events, "Second")
    seen = await until(events, lambda e: isinstance(e, (Reconnected, SessionLost)))
    assert isinstance(seen[-1], Reconnected) and keeper.resumed
    assert "handle" in setups(simulator)[-1]["sessionResumption"]
    await keeper.close()


async def test_without_a_handle_the_history_is_replayed(simulator):
    simulator.knobs.gemini_withhold_handles = True
    keeper = keeper_for(simulator)
    await keeper.open()
    events = keeper.events()
    await reply_to(keeper, events, "Hello")
    await until(events, lambda e: isinstance(e, ev.ResumptionHandle) and not e.resumable)
    assert not keeper.can_resume
    renewed = await keeper.renew()
    assert renewed is not None and not keeper.resumed
    assert "handle" not in setups(simulator)[-1]["sessionResumption"]
    replayed = [
        m["clientContent"] for m in simulator.connections[-1].received if "clientContent" in m
    ]
    assert [t["turns"][0]["role"] for t in replayed] == ["user", "model"]
    assert all(t["turnComplete"] is False for t in replayed)
    await keeper.close()


async def test_a_key_refused_on_reconnect_ends_it_at_once_in_one_line(simulator):
    keeper = keeper_for(simulator)
    await keeper.open()
    events = keeper.events()
    await reply_to(keeper, events, "Hello")
    simulator.config = dataclasses.replace(simulator.config, api_keys=frozenset({"another"}))
    simulator.knobs.gemini_go_away_s = 0.05
    await reply_to(keeper, events, "Second")
    seen = await until(events, lambda e: isinstance(e, (Reconnected, SessionLost)))
    assert isinstance(seen[-1], SessionLost)
    assert seen[-1].message.startswith("Gemini refused the key")
    attempts = [e for e in seen if type(e).__name__ == "Reconnecting"]
    assert len(attempts) == 1  # no retry hammers a refusal that will not change
    await keeper.close()
