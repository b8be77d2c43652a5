"""The official `openai` SDK as an independent implementation: as a client, and as a validator
of every server event the simulator emits (a discriminated TypeAdapter per dialect, §9.2)."""

from __future__ import annotations

import typing
from typing import Annotated, Union

import pytest
from openai import AsyncOpenAI
from openai.types.beta.realtime import RealtimeServerEvent as BetaServerEvent
from openai.types.realtime import RealtimeServerEvent as GAServerEvent
from pydantic import Field, TypeAdapter, ValidationError

from talkapp.simulator import Simulator

from .conftest import KEY, fast_config, session, spoken


def discriminated(alias) -> TypeAdapter:
    members = typing.get_args(typing.get_args(alias)[0])  # Annotated[Union[...], PropertyInfo]
    return TypeAdapter(Annotated[Union[members], Field(discriminator="type")])  # noqa: UP007 - runtime tuple


SERVER = {"ga": discriminated(GAServerEvent), "beta": discriminated(BetaServerEvent)}


def sdk_client(sim: Simulator) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=KEY, base_url=f"http://127.0.0.1:{sim.port}/v1", websocket_base_url=sim.url
    )


async def test_the_ga_sdk_runs_a_text_turn(sim):
    async with sdk_client(sim).realtime.connect(model="gpt-realtime") as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        assert (await conn.recv()).type == "session.updated"
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello from the SDK"}],
            }
        )
        await conn.response.create()
        text, done = "", None
        async for event in conn:
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.done":
                done = event
                break
    assert text.endswith('You said: "Hello from the SDK".')
    assert done.response.status == "completed" and done.response.usage.total_tokens > 0
    (record,) = sim.connections
    assert record.path == "/v1/realtime?model=gpt-realtime" and "openai-beta" not in record.headers
    assert record.errors == []


async def test_the_beta_sdk_runs_a_text_turn(sim):
    async with sdk_client(sim).beta.realtime.connect(model="gpt-4o-realtime-preview") as conn:
        assert (await conn.recv()).type == "session.created"
        await conn.session.update(session={"modalities": ["text"], "voice": "ash"})
        updated = await conn.recv()
        assert updated.type == "session.updated" and updated.session.voice == "ash"
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hi, beta"}],
            }
        )
        await conn.response.create()
        text = ""
        async for event in conn:
            if event.type == "response.text.delta":
                text += event.delta
            if event.type == "response.done":
                break
    assert text.endswith('You said: "Hi, beta".')
    (record,) = sim.connections
    assert record.headers["openai-beta"] == "realtime=v1" and record.dialect == "beta"
    assert record.errors == []


TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]
SETUP = {
    "ga": {
        "type": "realtime",
        "tools": TOOLS,
        "audio": {
            "input": {
                "transcription": {"model": "gpt-4o-mini-transcribe"},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
            }
        },
    },
    "beta": {
        "tools": TOOLS,
        "input_audio_transcription": {"model": "gpt-4o-mini-transcribe"},
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
    },
}
TEXT_ONLY = {"ga": {"output_modalities": ["text"]}, "beta": {"modalities": ["text"]}}
DELTA = {"ga": "response.output_audio.delta", "beta": "response.audio.delta"}


async def whole_session(sim: Simulator, dialect: str) -> None:
    """Every kind of server event a conversation produces, driven by a raw client."""
    async with session(sim, dialect, update=SETUP[dialect]) as c:
        await c.append(spoken())  # VAD turn, transcription, audio reply
        reply = (await c.turn())[-2]["response"]["output"][0]["id"]
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Please get_weather for Oslo"}],
                },
            }
        )
        await c.send({"type": "response.create"})
        call = (await c.turn())[-2]["response"]["output"][0]
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": "sunny",
                },
            }
        )
        await c.send({"type": "response.create"})
        await c.turn()
        await c.send({"type": "response.create", "response": TEXT_ONLY[dialect]})
        await c.turn()
        for event in (
            {
                "type": "conversation.item.truncate",
                "item_id": reply,
                "content_index": 0,
                "audio_end_ms": 500,
            },
            {"type": "conversation.item.retrieve", "item_id": reply},
            {"type": "conversation.item.delete", "item_id": reply},
            {"type": "input_audio_buffer.clear"},
            {"type": "input_audio_buffer.commit"},
        ):
            await c.send(event)
            await c.recv()
        sim.knobs.audio_pace = 1.0  # slow enough to interrupt
        await c.send({"type": "response.create"})
        await c.until(DELTA[dialect])
        await c.send({"type": "response.cancel"})
        await c.turn()
        await c.send({"type": "response.create"})
        await c.until(DELTA[dialect])
        await c.append(spoken(0.2))  # barge-in, then the automatic reply
        await c.turn()  # the interrupted response
        sim.knobs.audio_pace = 0
        auto = await c.turn()
        assert auto[-2]["response"]["status"] == "completed"


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_every_emitted_server_event_validates_against_the_sdk(dialect):
    async with Simulator(fast_config()) as sim:
        await whole_session(sim, dialect)
    sent = sim.connections[0].sent
    kinds = {e["type"] for e in sent}
    assert {
        "input_audio_buffer.speech_started",
        "conversation.item.input_audio_transcription.completed",
        "response.function_call_arguments.done",
        "conversation.item.truncated",
        "conversation.item.retrieved",
        "conversation.item.deleted",
        "error",
        "input_audio_buffer.cleared",
        "rate_limits.updated",
    } <= kinds
    statuses = [e["response"]["status_details"] for e in sent if e["type"] == "response.done"]
    assert {"type": "cancelled", "reason": "client_cancelled"} in statuses
    assert {"type": "cancelled", "reason": "turn_detected"} in statuses
    failures = []
    for event in sent:
        try:
            SERVER[dialect].validate_python(event)
        except ValidationError as exc:
            failures.append(f"{event['type']}: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}")
    assert failures == []
    assert [e["error"]["code"] for e in sent if e["type"] == "error"] == [
        "input_audio_buffer_commit_empty"
    ]
