"""Connection time over a real loopback WebSocket: 101 always, then refusals or session.created."""

from __future__ import annotations

import json
import time

import pytest
from fake_keys import fake_key
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from talkapp.simulator import Simulator, SimulatorConfig
from talkapp.simulator.catalogue import family
from talkapp.simulator.handshake import Admitted, Refused, admit

from .conftest import FIXTURES, KEY, client, fast_config


async def refused(sim, model="gpt-realtime", *, headers=None, query=None, dialect="ga"):
    """Connect (the upgrade succeeds), read the one error, then the close frame."""
    async with client(sim, model, headers=headers, query=query, dialect=dialect) as c:
        assert c.ws.response.status_code == 101
        error = await c.recv()
        with pytest.raises(ConnectionClosed):
            await c.recv()
        return error, c.ws.close_code, c.ws.close_reason


async def test_missing_authorization_closes_3000():
    async with Simulator(fast_config()) as sim:
        error, code, reason = await refused(sim, headers={})
    assert error["type"] == "error" and error["event_id"].startswith("event_")
    assert error["error"] == {
        "type": "invalid_request_error",
        "code": None,
        "param": None,
        "event_id": None,
        "message": "Missing bearer or basic authentication in header",
    }
    assert (code, reason) == (3000, "invalid_request_error")


async def test_a_wrong_key_is_refused_without_echoing_it():
    secret = fake_key("proj-THISISSECRET1234567890wxyz")
    async with Simulator(fast_config(api_keys=frozenset({KEY}))) as sim:
        error, code, reason = await refused(sim, headers={"Authorization": f"Bearer {secret}"})
        recorded = json.dumps([c.__dict__ for c in sim.connections], default=str)
    assert error["error"]["code"] == "invalid_api_key"
    assert error["error"]["message"] == (
        "Incorrect API key provided: sk-…wxyz. You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert (code, reason) == (3000, "invalid_request_error.invalid_api_key")
    assert "THISISSECRET" not in json.dumps(error) and "THISISSECRET" not in recorded


async def test_configured_keys_are_accepted():
    async with Simulator(fast_config(api_keys=frozenset({KEY}))) as sim, client(sim) as c:
        assert (await c.recv())["type"] == "session.created"


async def test_beta_header_when_retired():
    async with Simulator(fast_config(beta_mode="retired")) as sim:
        error, code, reason = await refused(sim, "gpt-4o-realtime-preview", dialect="beta")
    assert error["error"]["code"] == "beta_api_shape_disabled"
    assert error["error"]["message"] == (
        "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."
    )
    assert (code, reason) == (4000, "invalid_request_error.beta_api_shape_disabled")


@pytest.mark.parametrize(
    "model", ["gpt-realtime-2", "gpt-realtime-2.1-mini", "gpt-realtime-1.5", "sim-fast"]
)
async def test_beta_header_on_a_ga_only_model(model):
    async with Simulator(fast_config(extra_models=("sim-fast",))) as sim:
        error, code, reason = await refused(sim, model, dialect="beta")
    assert (error["error"]["code"], error["error"]["message"]) == (
        "invalid_beta",
        "Unknown beta requested: 'realtime'.",
    )
    assert (code, reason) == (4000, "invalid_request_error.invalid_beta")


async def test_unknown_and_missing_model(sim):
    error, code, reason = await refused(sim, "gpt-nope")
    assert error["error"]["message"] == 'Model "gpt-nope" is not supported in realtime mode.'
    assert (code, reason) == (4000, "invalid_request_error.invalid_model")
    error, code, reason = await refused(sim, query="")
    assert error["error"]["code"] == "missing_model"
    assert error["error"]["message"].startswith("You must provide a model parameter")
    assert (code, reason) == (4000, "invalid_request_error.missing_model")


async def test_other_paths_are_not_websocket_endpoints(sim):
    with pytest.raises(InvalidStatus) as failed:
        async with connect(sim.url + "/chat?model=gpt-realtime"):
            pass
    assert failed.value.response.status_code == 404


@pytest.mark.parametrize(
    ("dialect", "model", "fixture"),
    [
        ("ga", "gpt-realtime", "ga/01.server.session.created.json"),
        ("beta", "gpt-4o-realtime-preview-2025-06-03", "beta/01.server.session.created.json"),
        ("ga", "gpt-4o-mini-realtime-preview", "ga/01.server.session.created.json"),
        ("beta", "gpt-realtime-mini-2025-10-06", "beta/01.server.session.created.json"),
    ],
)
async def test_session_created_has_the_dialects_shape(sim, dialect, model, fixture):
    expected = json.loads((FIXTURES / fixture).read_text())["session"]
    async with client(sim, model, dialect=dialect) as c:
        created = await c.recv()
    session = created["session"]
    assert created["type"] == "session.created"
    assert list(session) == list(expected)  # same fields, same order
    assert session["model"] == model
    assert session["id"].startswith("sess_") and len(session["id"]) == 5 + 21
    assert created["event_id"].startswith("event_") and len(created["event_id"]) == 6 + 21
    cap = 3600 if dialect == "ga" else 1800
    assert session["expires_at"] - cap == pytest.approx(time.time(), abs=5)


async def test_connections_are_recorded(sim):
    async with client(sim, "gpt-realtime-2") as c:
        await c.recv()
        await c.send({"type": "input_audio_buffer.clear", "event_id": "e1"})
        await c.until("input_audio_buffer.cleared")
    (record,) = sim.connections
    assert record.path == "/v1/realtime?model=gpt-realtime-2"
    assert record.headers["authorization"] == "Bearer sk-…cdef"
    assert (record.dialect, record.model) == ("ga", "gpt-realtime-2")
    assert record.received == [{"type": "input_audio_buffer.clear", "event_id": "e1"}]
    assert record.sent_types() == ["session.created", "input_audio_buffer.cleared"]
    assert sim.received == record.received


def test_catalogue():
    assert family("gpt-realtime-2025-08-28") == "beta_capable"
    assert family("gpt-4o-mini-realtime-preview-2024-12-17") == "beta_capable"
    assert family("gpt-realtime-2.1-2026-07-01") == "ga_only"
    assert family("gpt-realtime-3") is None
    assert family("gpt-4o") is None
    assert family("sim-fast", ("sim-fast",)) == "ga_only"


def test_admission_order_auth_first_then_header_then_model():
    retired = SimulatorConfig(beta_mode="retired")
    beta = {"openai-beta": "realtime=v1"}
    assert admit("/v1/realtime?model=nope", beta, retired).close_code == 3000
    decision = admit("/v1/realtime?model=nope", {**beta, "authorization": "Bearer k"}, retired)
    assert isinstance(decision, Refused) and decision.fault.code == "beta_api_shape_disabled"
    decision = admit(
        "/v1/realtime?model=nope", {**beta, "authorization": "Bearer k"}, SimulatorConfig()
    )
    assert decision.fault.code == "invalid_model"
    decision = admit(
        "/v1/realtime?intent=transcription", {"authorization": "Bearer k"}, SimulatorConfig()
    )
    assert decision == Admitted("ga", None, "transcription")
