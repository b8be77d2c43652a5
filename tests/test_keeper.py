"""Keeping a conversation up across sessions, against the simulator's fault knobs over a real
socket: a drop mid-reply reconnects with backoff and the next turn works; expiry starts a new
session at once; a refusal no retry can fix ends it; context is re-sent."""

import pytest

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.selection import choose_dialect
from talkapp.protocol.endpoint import Endpoint
from talkapp.session.keeper import Backoff, Reconnected, Reconnecting, SessionKeeper, SessionLost
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

FAST = Backoff(first_s=0.01, cap_s=0.05, attempts=3)
HISTORY = [cmd.AddHistory("user", "What's the weather in Paris?"), cmd.AddHistory("assistant", "Sunny, 21 degrees.")]


def keeper_for(simulator, model="gpt-realtime", history=lambda: HISTORY):
    endpoint = Endpoint(simulator.url, model, choose_dialect("auto", model))
    return SessionKeeper(endpoint, "sk-test", lambda: cmd.SessionConfig(turn_detection=None), history, backoff=FAST, seed=1)


async def ask(keeper, text="Hello"):
    await keeper.send(cmd.SendText(text))
    await keeper.send(cmd.CreateResponse())


async def collect_until(events, predicate):
    seen = []
    async for event in events:
        seen.append(event)
        if predicate(event):
            return seen
    return seen


@pytest.mark.parametrize("model", ["gpt-realtime", "gpt-4o-realtime-preview"])
async def test_a_drop_mid_reply_reconnects_and_the_next_turn_works(simulator, model):
    keeper = keeper_for(simulator, model)
    await keeper.open()
    events = keeper.events()
    simulator.knobs.drop_after_audio_deltas = 2
    await ask(keeper)
    seen = await collect_until(events, lambda e: isinstance(e, (Reconnected, SessionLost)))
    assert isinstance(seen[-1], Reconnected) and any(isinstance(e, Reconnecting) for e in seen)
    assert keeper.reconnects == 1
    simulator.knobs.drop_after_audio_deltas = None
    await ask(keeper, "Are you back?")
    done = await collect_until(events, lambda e: isinstance(e, ev.ResponseDone))
    assert done[-1].status == "completed"
    await keeper.close()
    second = simulator.connections[-1]
    history = [e for e in second.received if isinstance(e, dict) and e["type"] == "conversation.item.create"][:2]
    assert [h["item"]["role"] for h in history] == ["user", "assistant"]  # context re-sent first
    assistant_type = history[1]["item"]["content"][0]["type"]
    assert assistant_type == ("output_text" if model == "gpt-realtime" else "text")


async def test_session_expiry_starts_a_new_session_at_once(simulator):
    keeper = keeper_for(simulator)
    await keeper.open()
    simulator.knobs.expire_after_s = 0.2
    seen = await collect_until(keeper.events(), lambda e: isinstance(e, (Reconnected, SessionLost)))
    simulator.knobs.expire_after_s = None
    assert any(isinstance(e, ev.ServerError) and e.code == "session_expired" for e in seen)
    reconnecting = next(e for e in seen if isinstance(e, Reconnecting))
    assert reconnecting.delay_s == 0 and "time limit" in reconnecting.reason
    assert isinstance(seen[-1], Reconnected)
    await keeper.close()


async def test_a_refusal_that_no_retry_can_fix_ends_the_conversation_at_once(simulator):
    keeper = keeper_for(simulator)
    await keeper.open()
    keeper.endpoint = Endpoint(simulator.url, "gpt-nope", choose_dialect("auto", "gpt-nope"))  # e.g. access revoked
    simulator.knobs.drop_after_audio_deltas = 1
    await ask(keeper)
    seen = await collect_until(keeper.events(), lambda e: isinstance(e, (Reconnected, SessionLost)))
    assert isinstance(seen[-1], SessionLost) and "gpt-nope" in seen[-1].message
    assert sum(isinstance(e, Reconnecting) for e in seen) == 1


async def test_a_service_that_stays_away_is_given_up_on_with_a_message():
    simulator = Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0)))
    await simulator.__aenter__()
    keeper = keeper_for(simulator)
    await keeper.open()
    events = keeper.events()
    simulator.knobs.drop_after_audio_deltas = 1
    await ask(keeper)
    await simulator.__aexit__(None, None, None)  # the server is gone for good
    seen = await collect_until(events, lambda e: isinstance(e, (Reconnected, SessionLost)))
    attempts = [e for e in seen if isinstance(e, Reconnecting)]
    assert [a.attempt for a in attempts] == [1, 2, 3] and isinstance(seen[-1], SessionLost)
    assert "after 3 attempts" in seen[-1].message and "Connect" in seen[-1].message


def test_backoff_is_capped_and_jittered():
    import random

    backoff, rng = Backoff(first_s=0.5, factor=2, cap_s=4, jitter=0.25, attempts=8), random.Random(3)
    delays = [backoff.delay(n, rng) for n in range(1, 9)]
    assert all(d <= 4 * 1.25 for d in delays) and delays[0] < delays[2]
    assert len({round(d, 6) for d in delays[4:]}) > 1  # capped, but not in lockstep


async def test_renewal_is_make_before_break(simulator):
    keeper = keeper_for(simulator)
    first = await keeper.open()
    assert not keeper.expires_soon() and keeper.expires_soon(now=first.started.expires_at)
    renewed = await keeper.renew()
    assert renewed.renewed and renewed.session_id != first.started.session_id
    await ask(keeper)
    done = await collect_until(keeper.events(), lambda e: isinstance(e, ev.ResponseDone))
    assert done[-1].status == "completed" and len(simulator.connections) == 2
    await keeper.close()
