"""The simulator's provider doors over a real loopback WebSocket, with a raw-JSON client (no codec
of ours): Azure's GA and preview paths with the `api-key` header, xAI's hybrid dialect, and
reasoning accepted only by the gpt-realtime-2 family."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from talkapp.simulator import Simulator
from talkapp.simulator.catalogue import family, takes_reasoning
from talkapp.simulator.handshake import Admitted, Refused, admit
from talkapp.simulator.voice import synthesize

from .conftest import KEY, Client, collapsed, fast_config, session, types

BEARER = {"Authorization": f"Bearer {KEY}"}
API_KEY = {"api-key": KEY}
BETA = {"OpenAI-Beta": "realtime=v1"}
XAI_MODEL = "grok-voice-latest"
XAI_MANUAL = {"turn_detection": None}


@asynccontextmanager
async def at(sim: Simulator, path_and_query: str, headers: dict):
    url = f"ws://{sim.host}:{sim.port}{path_and_query}"
    async with connect(url, additional_headers=headers, max_size=None, max_queue=None) as ws:
        yield Client(ws)


async def refusal(sim: Simulator, path_and_query: str, headers: dict) -> tuple[dict, int, str]:
    async with at(sim, path_and_query, headers) as c:
        error = await c.recv()
        with pytest.raises(ConnectionClosed):
            await c.recv()
        return error["error"], c.ws.close_code, c.ws.close_reason


async def http_refusal(sim: Simulator, path_and_query: str, headers: dict) -> tuple[dict, int]:
    """Azure refuses at the upgrade: an HTTP status and `{"error": {"code", "message"}}`."""
    with pytest.raises(InvalidStatus) as refused:
        async with at(sim, path_and_query, headers):
            pass
    response = refused.value.response
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)["error"], response.status_code


@pytest.fixture
async def sim():
    config = fast_config(azure_deployments={"voice-prod": "gpt-realtime-2"}, xai_ping_event_s=0.05)
    async with Simulator(config) as running:
        yield running


# ---- Azure, GA: /openai/v1/realtime?model=<deployment>, api-key ----


async def test_azure_ga_takes_the_api_key_header_and_speaks_ga(sim):
    async with at(sim, "/openai/v1/realtime?model=gpt-realtime", API_KEY) as c:
        created = await c.recv()
    assert created["type"] == "session.created" and created["session"]["type"] == "realtime"
    (record,) = sim.connections
    assert (record.dialect, record.model) == ("ga", "gpt-realtime")
    assert record.headers["api-key"] == "sk-…cdef"  # recorded masked, like Authorization


async def test_azure_maps_a_deployment_to_its_model_and_knows_no_other(sim):
    async with at(sim, "/openai/v1/realtime?model=voice-prod", API_KEY) as c:
        assert (await c.recv())["session"]["model"] == "gpt-realtime-2"
    error, status = await http_refusal(sim, "/openai/v1/realtime?model=nobody", API_KEY)
    assert (error["code"], status) == ("DeploymentNotFound", 404)
    assert sim.connections[-1].http_status == 404 and sim.connections[-1].dialect is None
    assert error["message"].startswith("The API deployment for this resource does not exist.")


async def test_azure_takes_an_entra_token_as_bearer_but_needs_one_or_the_other(sim):
    async with at(sim, "/openai/v1/realtime?model=gpt-realtime", BEARER) as c:
        assert (await c.recv())["type"] == "session.created"
    error, status = await http_refusal(sim, "/openai/v1/realtime?model=gpt-realtime", {})
    assert (error["code"], status) == ("401", 401)
    assert "missing subscription key" in error["message"]


async def test_azure_checks_configured_keys_without_echoing_them():
    secret = "azure-key-THISISSECRET-0123456789"
    async with Simulator(fast_config(api_keys=frozenset({KEY}))) as sim:
        error, status = await http_refusal(
            sim, "/openai/v1/realtime?model=gpt-realtime", {"api-key": secret}
        )
        recorded = json.dumps([c.__dict__ for c in sim.connections], default=str)
    assert status == 401 and "invalid subscription key" in error["message"]
    assert "THISISSECRET" not in json.dumps(error) and "THISISSECRET" not in recorded


async def test_azure_ga_refuses_the_beta_header(sim):
    error, status = await http_refusal(
        sim, "/openai/v1/realtime?model=gpt-realtime", {**API_KEY, **BETA}
    )
    assert (error["code"], status) == ("beta_api_shape_disabled", 400)


# ---- Azure, preview: /openai/realtime?api-version=…&deployment=…, beta shapes ----

PREVIEW = "/openai/realtime?api-version=2025-04-01-preview&deployment="


@pytest.mark.parametrize(
    "headers", [API_KEY, {**API_KEY, **BETA}], ids=["api-key", "api-key+beta-header"]
)
async def test_azure_preview_speaks_beta_whatever_the_headers(headers):
    retired = fast_config(beta_mode="retired")  # OpenAI's retirement is not Azure's
    async with (
        Simulator(retired) as sim,
        at(sim, PREVIEW + "gpt-4o-realtime-preview", headers) as c,
    ):
        created = await c.recv()
        await c.send({"type": "session.update", "session": {"type": "realtime"}})
        rejected = await c.recv()
    assert "modalities" in created["session"] and "type" not in created["session"]
    assert (rejected["error"]["code"], rejected["error"]["param"]) == (
        "unknown_parameter",
        "session.type",
    )
    assert sim.connections[0].dialect == "beta"


@pytest.mark.parametrize(
    "query, code, status",
    [
        ("/openai/realtime?deployment=gpt-4o-realtime-preview", "404", 404),
        (
            "/openai/realtime?api-version=2099-01-01-preview&deployment=gpt-4o-realtime-preview",
            "BadRequest",
            400,
        ),
        (
            "/openai/realtime?api-version=2024-10-01-preview&deployment=gpt-4o-realtime-preview",
            "BadRequest",
            400,
        ),  # retired
        ("/openai/realtime?api-version=2025-04-01-preview", "DeploymentNotFound", 404),
        (
            PREVIEW + "gpt-realtime-2",
            "invalid_beta",
            400,
        ),  # a GA-only model has no preview protocol
    ],
)
async def test_azure_preview_refusals(sim, query, code, status):
    error, got = await http_refusal(sim, query, API_KEY)
    assert (error["code"], got) == (code, status)


async def test_azure_rate_limit_is_a_429_at_the_upgrade_with_the_seconds_to_wait(sim):
    sim.knobs.azure_rate_limited_s = 7
    with pytest.raises(InvalidStatus) as refused:
        async with at(sim, "/openai/v1/realtime?model=gpt-realtime", API_KEY):
            pass
    response = refused.value.response
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    error = json.loads(response.body)["error"]
    assert error["code"] == "429" and "retry after 7 seconds" in error["message"]


async def test_openai_does_not_take_azures_key_header(sim):
    error, code, _ = await refusal(sim, "/v1/realtime?model=gpt-realtime", API_KEY)
    assert (error["message"], code) == ("Missing bearer or basic authentication in header", 3000)


# ---- xAI: /v1/realtime?model=grok-voice-latest, Bearer, the hybrid dialect ----


async def test_xai_opens_with_the_conversation_then_a_flat_session(sim):
    async with at(sim, f"/v1/realtime?model={XAI_MODEL}", BEARER) as c:
        first, second = await c.recv(), await c.recv()
    assert first["type"] == "conversation.created"
    assert first["conversation"]["object"] == "realtime.conversation"
    assert second["type"] == "session.created"
    session = second["session"]
    assert (
        "type" not in session
        and session["voice"]
        and session["turn_detection"]["type"] == "server_vad"
    )
    assert session["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert sim.connections[0].dialect == "xai"


async def test_xai_needs_bearer_auth_and_ignores_openais_beta_rules():
    async with Simulator(fast_config(beta_mode="retired")) as sim:
        error, code, _ = await refusal(sim, f"/v1/realtime?model={XAI_MODEL}", API_KEY)
        assert code == 3000 and error["message"].startswith("Missing bearer")
        async with at(sim, f"/v1/realtime?model={XAI_MODEL}", {**BEARER, **BETA}) as c:
            assert (await c.recv())["type"] == "conversation.created"


@pytest.mark.parametrize(
    "update, code, param",
    [
        ({"type": "realtime"}, "unknown_parameter", "session.type"),  # a GA session
        (
            {"input_audio_format": "pcm16"},
            "unknown_parameter",
            "session.input_audio_format",
        ),  # beta
        (
            {"audio": {"output": {"voice": "Ara"}}},
            "unknown_parameter",
            "session.audio.output.voice",
        ),
        (
            {"audio": {"input": {"format": "audio/pcm"}}},
            "invalid_type",
            "session.audio.input.format",
        ),
        (
            {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 4000}}}},
            "integer_below_min_value",
            "session.audio.input.format.rate",
        ),
        (
            {"turn_detection": {"type": "semantic_vad"}},
            "invalid_value",
            "session.turn_detection.type",
        ),
        (
            {"reasoning": {"effort": "low"}},
            "invalid_value",
            "session.reasoning.effort",
        ),  # high or none
    ],
)
async def test_xai_validates_its_hybrid_session_strictly(sim, update, code, param):
    async with at(sim, f"/v1/realtime?model={XAI_MODEL}", BEARER) as c:
        await c.until("session.created")
        await c.send({"type": "session.update", "session": update, "event_id": "x1"})
        reply = (await c.until(lambda e: e["type"] != "ping"))[-1]
    assert reply["type"] == "error"
    assert (reply["error"]["code"], reply["error"]["param"], reply["error"]["event_id"]) == (
        code,
        param,
        "x1",
    )


async def test_xai_answers_a_turn_with_ga_event_names_and_pings_between(sim):
    hybrid = {
        "voice": "Rex",
        "instructions": "Be brief.",
        "turn_detection": None,
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}},
            "output": {"format": {"type": "audio/pcm", "rate": 24000}},
        },
        "tools": [{"type": "web_search"}],
    }
    async with at(sim, f"/v1/realtime?model={XAI_MODEL}", BEARER) as c:
        await c.until("session.created")
        await c.send({"type": "session.update", "session": hybrid})
        updated = await c.until("session.updated")
        await c.append(synthesize("What is the weather like", voice="ash"))
        await c.send({"type": "input_audio_buffer.commit"})
        await asyncio.sleep(0.2)  # long enough for a ping or two
        await c.send({"type": "response.create"})
        events = await c.until("response.done")
    session = updated[-1]["session"]
    assert (session["voice"], session["instructions"], session["turn_detection"]) == (
        "Rex",
        "Be brief.",
        None,
    )
    assert "ping" in types(events) and all(
        isinstance(e["timestamp"], int) for e in events if e["type"] == "ping"
    )
    turn = [t for t in collapsed(events) if t != "ping"]
    assert "response.output_audio.delta" in turn and "conversation.item.added" in turn
    assert not any(t.startswith("response.audio") for t in turn)  # no beta names
    assert events[-1]["response"]["status"] == "completed"


# ---- reasoning: the gpt-realtime-2 family only ----


@pytest.mark.parametrize(
    "model", ["gpt-realtime-2", "gpt-realtime-2.1-mini", "gpt-realtime-2-2026-05-07"]
)
async def test_reasoning_models_accept_an_effort(sim, model):
    update = {"type": "realtime", "reasoning": {"effort": "low"}}
    async with session(sim, "ga", model=model) as c:
        await c.send({"type": "session.update", "session": update})
        assert (await c.recv())["session"]["reasoning"] == {"effort": "low"}
        await c.send({"type": "response.create", "response": {"reasoning": {"effort": "high"}}})
        assert (await c.recv())["type"] == "response.created"


@pytest.mark.parametrize(
    "model", ["gpt-realtime", "gpt-realtime-mini", "gpt-realtime-1.5", "gpt-realtime-2025-08-28"]
)
async def test_other_models_reject_an_effort_and_keep_their_session(sim, model):
    async with session(sim, "ga", model=model) as c:
        update = {"type": "realtime", "instructions": "changed", "reasoning": {"effort": "low"}}
        await c.send({"type": "session.update", "session": update, "event_id": "r1"})
        error = (await c.recv())["error"]
        await c.send({"type": "response.create", "response": {"reasoning": {"effort": "low"}}})
        response_error = (await c.recv())["error"]
        await c.send({"type": "session.update", "session": {"type": "realtime"}})
        after = (await c.recv())["session"]
    assert error == {
        "type": "invalid_request_error",
        "code": "unknown_parameter",
        "param": "session.reasoning",
        "message": "Unknown parameter: 'session.reasoning'.",
        "event_id": "r1",
    }
    assert (response_error["code"], response_error["param"]) == (
        "unknown_parameter",
        "response.reasoning",
    )
    assert after["instructions"] == ""  # the rejected update was discarded whole


async def test_azure_reasoning_follows_the_deployments_model(sim):
    async with at(sim, "/openai/v1/realtime?model=voice-prod", API_KEY) as c:  # runs gpt-realtime-2
        await c.recv()
        await c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "reasoning": {"effort": "xhigh"}},
            }
        )
        assert (await c.recv())["type"] == "session.updated"


# ---- admission as a pure function ----


def test_catalogue_of_families_and_reasoning():
    assert family(XAI_MODEL) == "xai" and family("grok-nope") is None
    assert takes_reasoning("gpt-realtime-2.1") and takes_reasoning("gpt-realtime-2-2026-05-07")
    assert not takes_reasoning("gpt-realtime-2025-08-28") and not takes_reasoning(None)


@pytest.mark.parametrize(
    "path, headers, expected",
    [
        (
            "/v1/realtime?model=grok-voice-latest",
            {"authorization": "Bearer k"},
            Admitted("xai", XAI_MODEL, "conversation"),
        ),
        (
            "/openai/v1/realtime?model=gpt-realtime",
            {"api-key": "k"},
            Admitted("ga", "gpt-realtime", "conversation"),
        ),
        (
            "/openai/v1/realtime/?model=gpt-realtime-mini",
            {"authorization": "Bearer entra"},
            Admitted("ga", "gpt-realtime-mini", "conversation"),
        ),
        (
            "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-realtime",
            {"api-key": "k"},
            Admitted("beta", "gpt-realtime", "conversation"),
        ),
    ],
)
def test_admission_by_door(path, headers, expected):
    assert admit(path, headers, fast_config()) == expected


def test_azure_checks_the_key_before_anything_else():
    decision = admit("/openai/realtime?deployment=x", {}, fast_config())
    assert isinstance(decision, Refused) and decision.close_code == 3000


@pytest.mark.parametrize(
    "door", ["/openai/v1/realtime?model=gpt-realtime", PREVIEW + "gpt-4o-realtime-preview"]
)
async def test_azure_sessions_last_30_minutes_on_either_door(sim, door):
    import time

    before = time.time()
    async with at(sim, door, API_KEY) as c:
        created = await c.recv()
    assert before + 1800 - 5 <= created["session"]["expires_at"] <= time.time() + 1800
