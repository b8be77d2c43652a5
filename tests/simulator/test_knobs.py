"""Fault knobs on live connections: network drop, expiry, malformed/unknown events, latency."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from talkapp.simulator import Knobs, Simulator

from .conftest import MANUAL, fast_config, session, types

AUDIO_DELTA = {"ga": "response.output_audio.delta", "beta": "response.audio.delta"}


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_drop_after_n_audio_deltas_closes_without_a_close_frame(dialect):
    async with (
        Simulator(fast_config()) as sim,
        session(sim, dialect, update=MANUAL[dialect]) as c,
    ):
        sim.knobs.drop_after_audio_deltas = 3  # flipped on a live connection
        await c.send({"type": "response.create"})
        with pytest.raises(ConnectionClosedError) as dropped:
            while True:
                await c.recv()
    assert types(c.events).count(AUDIO_DELTA[dialect]) == 3
    assert "response.done" not in types(c.events)
    assert dropped.value.rcvd is None  # no close frame: an abrupt network drop
    assert c.ws.close_code == 1006


@pytest.mark.parametrize(("dialect", "minutes"), [("ga", 60), ("beta", 30)])
async def test_session_expiry(dialect, minutes):
    async with Simulator(fast_config()) as sim, session(sim, dialect) as c:
        sim.knobs.expire_after_s = 0.2
        with pytest.raises(ConnectionClosed):
            while True:
                await c.recv()
    assert types(c.events) == ["session.created", "error"]
    error = c.events[-1]
    assert error["error"]["code"] == "session_expired"
    assert (
        error["error"]["message"] == f"Your session hit the maximum duration of {minutes} minutes."
    )
    assert (c.ws.close_code, c.ws.close_reason) == (4000, "invalid_request_error.session_expired")


async def test_expiry_knob_from_the_config_applies_to_new_connections():
    async with (
        Simulator(fast_config(knobs=Knobs(audio_pace=0, expire_after_s=0.1))) as sim,
        session(sim, "ga") as c,
    ):
        with pytest.raises(ConnectionClosed):
            while True:
                await c.recv()
    assert c.events[-1]["error"]["code"] == "session_expired"
    assert sim.connections[0].close_code == 4000


async def test_send_malformed_missing_field_once():
    async with Simulator(fast_config()) as sim, session(sim, "ga", update=MANUAL["ga"]) as c:
        sim.knobs.send_malformed = True
        await c.send({"type": "response.create"})
        first = await c.turn()
        await c.send({"type": "response.create"})
        second = await c.turn()
    created = types(first).index("response.created")
    broken = first[created + 1]
    assert broken["type"] == "response.output_audio.delta"
    assert "delta" not in broken and "item_id" not in broken
    assert (
        types(first).count("response.output_audio.delta")
        == types(second).count("response.output_audio.delta") + 1
    )
    assert first[-2]["response"]["status"] == "completed"  # the stream goes on
    assert sim.knobs.send_malformed is False


async def test_send_malformed_invalid_json():
    async with (
        Simulator(fast_config(knobs=Knobs(audio_pace=0, malformed_kind="invalid_json"))) as sim,
        session(sim, "beta", update=MANUAL["beta"]) as c,
    ):
        sim.knobs.send_malformed = True
        await c.send({"type": "response.create"})
        frames = []
        while not frames or '"rate_limits.updated"' not in frames[-1]:
            frames.append(await c.ws.recv())
    broken = [f for f in frames if not _is_json(f)]
    assert len(broken) == 1 and broken[0].startswith('{"type": "response.created"')
    assert json.loads(frames[-1])["type"] == "rate_limits.updated"


async def test_send_unknown_event_once():
    async with Simulator(fast_config()) as sim, session(sim, "ga", update=MANUAL["ga"]) as c:
        sim.knobs.send_unknown_event = True
        await c.send({"type": "response.create"})
        first = await c.turn()
        await c.send({"type": "response.create"})
        second = await c.turn()
    unknown = [e for e in first if e["type"] == "response.future_thing"]
    assert len(unknown) == 1 and unknown[0]["response_id"] == first[0]["response"]["id"]
    assert "response.future_thing" not in types(second)


async def test_think_time_delays_output_not_other_events():
    async with (
        Simulator(fast_config(latency_ms=300)) as sim,
        session(sim, "ga", update=MANUAL["ga"]) as c,
    ):
        await c.send({"type": "response.create"})
        await c.send({"type": "input_audio_buffer.clear"})
        events = await c.turn()
    order = types(events)
    assert order[0] == "response.created"
    assert order.index("input_audio_buffer.cleared") < order.index("response.output_item.added")


async def test_per_model_latency_orders_two_connections():
    config = fast_config(
        model_latency_ms={"gpt-realtime-mini": 0, "gpt-realtime-2": 400}, latency_ms=1000
    )
    async with (
        Simulator(config) as sim,
        session(sim, "ga", "gpt-realtime-2", update=MANUAL["ga"]) as slow,
        session(sim, "ga", "gpt-realtime-mini", update=MANUAL["ga"]) as fast,
    ):
        await slow.send({"type": "response.create"})
        await slow.until("response.created")
        await fast.send({"type": "response.create"})
        await fast.turn()
        await slow.turn()
    done = [
        n
        for n, direction, e in sim.timeline
        if direction == "out" and e.get("type") == "response.done"
    ]
    slow_no, fast_no = (c.number for c in sim.connections)
    assert done == [fast_no, slow_no]
    assert sim.config.latency_for("gpt-realtime") == 1.0


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
