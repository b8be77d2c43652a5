"""Keeping a conversation up across sessions, against the simulator's fault knobs over a real
socket: a drop mid-reply reconnects with backoff and the next turn works; expiry starts a new
session at once; a refusal no retry can fix ends it; context is re-sent."""

import pytest

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.selection import choose_dialect
from talkapp.session.keeper import Backoff, Reconnected, Reconnecting, SessionKeeper, SessionLost
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

FAST = Backoff(first_s=0.01, cap_s=0.05, attempts=3)
HISTORY = [
    cmd.AddHistory("user", "What's the weather in Paris?"),
    cmd.AddHistory("assistant", "Sunny, 21 degrees."),
]


def keeper_for(simulator, model="gpt-realtime", history=lambda: HISTORY):
    endpoint = Endpoint(simulator.url, model, choose_dialect("auto", model))
    return SessionKeeper(
        endpoint,
        "sk-test",
        lambda: cmd.SessionConfig(turn_detection=None),
        history,
        backoff=FAST,
        seed=1,
    )


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
    history = [
        e
        for e in second.received
        if isinstance(e, dict) and e["type"] == "conversation.item.create"
    ][:2]
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
    keeper.endpoint = Endpoint(
        simulator.url, "gpt-nope", choose_dialect("auto", "gpt-nope")
    )  # e.g. access revoked
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

    backoff, rng = (
        Backoff(first_s=0.5, factor=2, cap_s=4, jitter=0.25, attempts=8),
        random.Random(3),
    )
    delays = [backoff.delay(n, rng) for n in range(1, 9)]
    assert all(d <= 4 * 1.25 for d in delays) and delays[0] < delays[2]
    assert len({round(d, 6) for d in delays[4:]}) > 1  # capped, but not in lockstep


async def test_renewal_is_make_before_break():
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        keeper = keeper_for(sim)
        first = await keeper.open()
        assert not keeper.expires_soon() and keeper.expires_soon(now=first.started.expires_at)
        renewed = await keeper.renew()
        assert renewed.renewed and renewed.session_id != first.started.session_id
        await ask(keeper)
        done = await collect_until(keeper.events(), lambda e: isinstance(e, ev.ResponseDone))
        assert done[-1].status == "completed" and len(sim.connections) == 2
        await keeper.close()


@pytest.mark.slow  # waits out the liveness watch's real gaps
async def test_a_connection_that_goes_silent_mid_reply_is_declared_dead_and_replaced():
    """A dead path: the socket stays open, nothing arrives, pings go unanswered. The keeper
    notices it by its own ping (a reply was owed), reconnects, and the next turn works."""
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=1.0))) as sim:
        keeper = keeper_for(sim)
        await keeper.open()
        events = keeper.events()
        sim.knobs.go_silent_after_audio_deltas = 2
        await ask(keeper)
        seen = await collect_until(events, lambda e: isinstance(e, (Reconnected, SessionLost)))
        assert sim.connections[0].went_silent
        assert isinstance(seen[-1], Reconnected), seen
        reconnecting = next(e for e in seen if isinstance(e, Reconnecting))
        assert "went silent mid-reply" in reconnecting.reason and "ping" in reconnecting.reason
        await ask(keeper, "Are you back?")
        done = await collect_until(events, lambda e: isinstance(e, ev.ResponseDone))
        assert done[-1].status == "completed" and len(sim.connections) == 2
        await keeper.close()


def test_the_watch_and_the_keepalive_notice_a_dead_path_in_time():
    """The budget, from the constants: a silent reply is noticed and a reconnect started within
    10 s; an idle dead path within 30 s (the transport's keepalive)."""
    from talkapp.session import liveness
    from talkapp.transport import websocket

    first_retry = Backoff().first_s * (1 + Backoff().jitter)
    assert liveness.STALL_S + liveness.WATCH_EVERY_S + liveness.PING_TIMEOUT_S + first_retry < 10
    assert websocket.KEEPALIVE_INTERVAL_S + websocket.KEEPALIVE_TIMEOUT_S <= 30


def test_only_an_owed_reply_makes_silence_suspicious():
    from talkapp.session.liveness import StallWatch

    watch = StallWatch(stall_s=3)
    assert not watch.due(100)  # idle: the keepalive's job
    watch.sent(cmd.AppendAudio(b"\0\0"), 100)
    assert not watch.due(200)
    watch.sent(cmd.CommitAudio(), 200)
    assert not watch.due(203) and watch.due(203.5)
    watch.received(ev.AudioDelta("r", "i", b""), 203.5)
    assert not watch.due(206) and watch.due(207)
    watch.probed(207)  # answered: look again after another quiet gap
    assert not watch.due(209)
    watch.received(ev.ResponseDone("r", "completed"), 209)
    assert not watch.due(300)
    watch.received(ev.SpeechStopped("u"), 300)  # service VAD: a reply is on its way
    assert watch.due(304)


@pytest.mark.slow  # waits out the liveness watch's real gaps
async def test_a_slow_but_live_service_is_not_declared_dead():
    """Thinking for longer than the stall gap: the ping is answered, the reply completes."""
    async with Simulator(SimulatorConfig(latency_ms=4500, knobs=Knobs(audio_pace=0))) as sim:
        keeper = keeper_for(sim)
        await keeper.open()
        await ask(keeper)
        done = await collect_until(
            keeper.events(), lambda e: isinstance(e, (ev.ResponseDone, Reconnecting))
        )
        assert isinstance(done[-1], ev.ResponseDone) and len(sim.connections) == 1
        await keeper.close()


def resent_history(connection) -> list[tuple[str, str, str]]:
    """(role, content type, text) of every message item the client created on a connection."""
    items = [
        e["item"]
        for e in connection.received
        if isinstance(e, dict) and e["type"] == "conversation.item.create"
    ]
    return [
        (i["role"], i["content"][0]["type"], i["content"][0]["text"])
        for i in items
        if i["type"] == "message"
    ]


@pytest.mark.parametrize(
    "model, assistant_text", [("gpt-realtime", "output_text"), ("gpt-4o-realtime-preview", "text")]
)
async def test_a_planned_renewal_resends_the_conversation_as_the_dialects_items(
    model, assistant_text
):
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        keeper = keeper_for(sim, model)
        await keeper.open()
        assert resent_history(sim.connections[0]) == []  # the first session starts empty
        await keeper.renew()
        await keeper.close()
        assert resent_history(sim.connections[1]) == [
            ("user", "input_text", "What's the weather in Paris?"),
            ("assistant", assistant_text, "Sunny, 21 degrees."),
        ]
        assert sim.connections[1].errors == []  # the service took them as they are


async def test_an_azure_session_is_renewed_before_30_minutes_even_when_it_does_not_say_so():
    import time

    from talkapp.session.keeper import AZURE_CAP_S, RENEW_BEFORE_S

    async with Simulator(
        SimulatorConfig(knobs=Knobs(audio_pace=0), azure_cap_s=3 * 3600)
    ) as sim:  # says 3 h
        model = "gpt-realtime"
        endpoint = Endpoint(
            f"ws://127.0.0.1:{sim.port}/openai/v1",
            model,
            choose_dialect("auto", model),
            auth="api-key",
        )
        keeper = SessionKeeper(
            endpoint, "sk-test", lambda: cmd.SessionConfig(turn_detection=None), backoff=FAST
        )
        await keeper.open()
        opened = time.time()
        assert not keeper.expires_soon(now=opened + AZURE_CAP_S - RENEW_BEFORE_S - 60)
        assert keeper.expires_soon(now=opened + AZURE_CAP_S - RENEW_BEFORE_S + 60)
        await keeper.close()
