"""Whole turns over a real loopback WebSocket, in both dialects: event order, audio, usage."""

from __future__ import annotations

import json

import pytest

from talkapp.audio.pcm import duration_ms
from talkapp.simulator import Knobs, Simulator
from talkapp.simulator.voice import speech_seconds, synthesize

from .conftest import MANUAL, collapsed, fast_config, session, speech_share, spoken, types, unb64

RESPONSE = {
    "ga": [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_audio_transcript.delta",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ],
    "beta": [
        "response.created",
        "response.output_item.added",
        "conversation.item.created",
        "response.content_part.added",
        "response.audio_transcript.delta",
        "response.audio.delta",
        "response.audio.done",
        "response.audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ],
}
USER_ITEM = {
    "ga": ["conversation.item.added", "conversation.item.done"],
    "beta": ["conversation.item.created"],
}
AUDIO_DELTA = {"ga": "response.output_audio.delta", "beta": "response.audio.delta"}
TRANSCRIPT_DELTA = {
    "ga": "response.output_audio_transcript.delta",
    "beta": "response.audio_transcript.delta",
}


def reply_audio(events: list[dict], dialect: str) -> bytes:
    return b"".join(unb64(e["delta"]) for e in events if e["type"] == AUDIO_DELTA[dialect])


def assert_usage_consistent(usage: dict, *, image: bool) -> None:
    inp, out = usage["input_token_details"], usage["output_token_details"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens"] == inp["text_tokens"] + inp["audio_tokens"] + inp.get(
        "image_tokens", 0
    )
    assert usage["output_tokens"] == out["text_tokens"] + out["audio_tokens"]
    cached = inp["cached_tokens_details"]
    assert (
        inp["cached_tokens"]
        == cached["text_tokens"] + cached["audio_tokens"]
        <= usage["input_tokens"]
    )
    assert ("image_tokens" in inp) == image and ("image_tokens" in cached) == image


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_manual_turn(sim, dialect):
    async with session(sim, dialect, update=MANUAL[dialect]) as c:
        await c.append(synthesize("What is the weather like", voice="ash"))
        await c.send({"type": "input_audio_buffer.commit"})
        committed = await c.until(USER_ITEM[dialect][-1])
        assert types(committed) == ["input_audio_buffer.committed", *USER_ITEM[dialect]]
        user = committed[1]["item"]
        assert (
            user["content"] == [{"type": "input_audio", "transcript": None}]
            and user["role"] == "user"
        )
        assert committed[0]["item_id"] == user["id"] and committed[0]["previous_item_id"] is None

        await c.send({"type": "response.create"})
        events = await c.turn()
    assert collapsed(events) == RESPONSE[dialect]
    done = events[-2]["response"]
    transcript = done["output"][0]["content"][0]["transcript"]
    content_type = {"ga": "output_audio", "beta": "audio"}[dialect]
    assert done["output"][0]["content"][0]["type"] == content_type
    assert transcript == (
        f"This is the TalkApp simulator speaking as {c.ws.request.path.split('=')[1]} over the "
        f"{'GA' if dialect == 'ga' else 'beta'} dialect. I heard 2.0 seconds of audio."
    )
    assert (
        "".join(e["delta"] for e in events if e["type"] == TRANSCRIPT_DELTA[dialect]) == transcript
    )
    audio = reply_audio(events, dialect)
    assert duration_ms(audio) == pytest.approx(speech_seconds(transcript) * 1000, rel=0.01)
    chunks = [duration_ms(unb64(e["delta"])) for e in events if e["type"] == AUDIO_DELTA[dialect]]
    assert len(chunks) > 50 and set(chunks[:-1]) == {60.0} and 0 < chunks[-1] <= 60
    assert done["status"] == "completed" and done["conversation_id"].startswith("conv_")
    assert_usage_consistent(done["usage"], image=dialect == "ga")
    assert done["usage"]["input_token_details"]["audio_tokens"] == 20  # 2 s of user audio
    assert done["usage"]["output_token_details"]["audio_tokens"] == round(duration_ms(audio) / 50)


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_the_reply_is_speech_to_webrtcvad(sim, dialect):
    async with session(sim, dialect, update=MANUAL[dialect]) as c:
        await c.send({"type": "response.create"})
        events = await c.turn()
    assert speech_share(reply_audio(events, dialect)) > 0.8


def transcription_on(dialect: str) -> dict:
    model = {"model": "gpt-4o-mini-transcribe"}
    if dialect == "ga":
        return {
            "type": "realtime",
            "audio": {
                "input": {
                    "transcription": model,
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                }
            },
        }
    return {
        "input_audio_transcription": model,
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
    }


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_server_vad_turn_with_transcription(sim, dialect):
    async with session(sim, dialect, update=transcription_on(dialect)) as c:
        await c.append(spoken())
        events = await c.turn()
    head = types(events)[: 5 + len(USER_ITEM[dialect])]
    assert head == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        *USER_ITEM[dialect],
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
    ]
    started, stopped, committed = events[:3]
    item_id = started["item_id"]
    assert stopped["item_id"] == committed["item_id"] == events[3]["item"]["id"] == item_id
    assert 0 <= started["audio_start_ms"] <= 500 < stopped["audio_end_ms"]
    completed = events[2 + len(USER_ITEM[dialect]) + 2]
    assert (
        completed["transcript"].endswith(" s of speech — the simulator does not transcribe)")
        and completed["item_id"] == item_id
    )
    assert (
        completed["usage"]["total_tokens"]
        == completed["usage"]["input_tokens"] + completed["usage"]["output_tokens"]
    )
    assert collapsed(events[2 + len(USER_ITEM[dialect]) + 3 :]) == RESPONSE[dialect]
    heard = (stopped["audio_end_ms"] - started["audio_start_ms"]) / 1000
    assert events[-2]["response"]["output"][0]["content"][0]["transcript"].endswith(
        f"I heard {heard:.1f} seconds of audio."
    )


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_barge_in_cancels_the_response_then_truncate(dialect):
    async with (
        Simulator(fast_config(knobs=Knobs(audio_pace=1.0))) as sim,  # real time: still talking
        session(sim, dialect) as c,
    ):
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Talk."}],
                },
            }
        )
        await c.send({"type": "response.create"})
        before = await c.until(AUDIO_DELTA[dialect])
        assistant_id = before[-1]["item_id"]
        await c.append(spoken(0.2))
        barge = await c.until("response.done")
        assert barge[0]["type"] != "response.done"
        assert "input_audio_buffer.speech_started" in types(barge)
        done = barge[-1]["response"]
        assert (done["status"], done["status_details"]) == (
            "cancelled",
            {"type": "cancelled", "reason": "turn_detected"},
        )
        assert done["output"][0]["status"] == "incomplete"
        assert types(barge).index("input_audio_buffer.speech_started") < types(barge).index(
            "response.done"
        )
        await c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": assistant_id,
                "content_index": 0,
                "audio_end_ms": 60,
                "event_id": "t1",
            }
        )
        truncated = await c.until(lambda e: e["type"] in ("conversation.item.truncated", "error"))
    assert truncated[-1] == {
        "type": "conversation.item.truncated",
        "event_id": truncated[-1]["event_id"],
        "item_id": assistant_id,
        "content_index": 0,
        "audio_end_ms": 60,
    }


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_client_cancel_mid_stream(dialect):
    async with (
        Simulator(fast_config(knobs=Knobs(audio_pace=1.0))) as sim,
        session(sim, dialect, update=MANUAL[dialect]) as c,
    ):
        await c.send({"type": "response.create"})
        await c.until(AUDIO_DELTA[dialect])
        await c.send({"type": "response.cancel", "event_id": "c1"})
        rest = await c.turn()
        await c.send({"type": "response.cancel", "event_id": "c2"})
        error = await c.recv()
    done = rest[-2]["response"]
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert AUDIO_DELTA[dialect] not in types(
        rest[types(rest).index(AUDIO_DELTA[dialect][:-5] + "done") :]
    )
    assert error["error"]["code"] == "response_cancel_not_active"
    assert error["error"]["message"] == "Cancellation failed: no active response found"
    assert error["error"]["event_id"] == "c2"


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_text_only_responses(sim, dialect):
    text_only = {
        "ga": {"type": "realtime", "output_modalities": ["text"]},
        "beta": {"modalities": ["text"]},
    }[dialect]
    async with session(sim, dialect, update={**text_only, **MANUAL[dialect]}) as c:
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Hi there"}],
                },
            }
        )
        await c.until(USER_ITEM[dialect][-1])
        await c.send({"type": "response.create"})
        events = await c.turn()
    prefix = "response.output_text" if dialect == "ga" else "response.text"
    added = "conversation.item.added" if dialect == "ga" else "conversation.item.created"
    expected = [
        "response.created",
        "response.output_item.added",
        added,
        "response.content_part.added",
        f"{prefix}.delta",
        f"{prefix}.done",
        "response.content_part.done",
        *(["conversation.item.done"] if dialect == "ga" else []),
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ]
    assert collapsed(events) == expected
    text = events[types(events).index(f"{prefix}.done")]["text"]
    assert text.endswith('You said: "Hi there".')
    assert events[types(events).index("response.content_part.done")]["part"] == {
        "type": "text",
        "text": text,
    }
    content = events[-2]["response"]["output"][0]["content"][0]
    assert content == {"type": "output_text" if dialect == "ga" else "text", "text": text}
    assert events[-2]["response"]["usage"]["output_token_details"]["audio_tokens"] == 0


FUNCTION_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_the_function_call_flow(sim, dialect):
    tools = {"ga": {"type": "realtime", **MANUAL["ga"]}, "beta": dict(MANUAL["beta"])}[dialect]
    async with session(sim, dialect, update={**tools, "tools": FUNCTION_TOOLS}) as c:
        ask = "What is the weather in Tokyo? Use get_weather."
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": ask}],
                },
            }
        )
        await c.until(USER_ITEM[dialect][-1])
        await c.send({"type": "response.create"})
        call_events = await c.turn()
        expected = [
            "response.created",
            "response.output_item.added",
            USER_ITEM[dialect][0],
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            *USER_ITEM[dialect][1:],
            "response.output_item.done",
            "response.done",
            "rate_limits.updated",
        ]
        assert collapsed(call_events) == expected
        args_done = call_events[types(call_events).index("response.function_call_arguments.done")]
        assert json.loads(args_done["arguments"]) == {"city": "Tokyo"}
        assert ("name" in args_done) == (dialect == "ga")
        deltas = "".join(
            e["delta"] for e in call_events if e["type"] == "response.function_call_arguments.delta"
        )
        assert deltas == args_done["arguments"]
        call = call_events[-2]["response"]["output"][0]
        assert (call["type"], call["name"], call["status"]) == (
            "function_call",
            "get_weather",
            "completed",
        )
        assert call["call_id"].startswith("call_") and len(call["call_id"]) == 5 + 16

        await c.send(
            {
                "type": "conversation.item.create",
                "item": {"type": "function_call_output", "call_id": "call_nope", "output": "{}"},
                "event_id": "bad",
            }
        )
        assert (await c.recv())["error"]["param"] == "item.call_id"
        output = {
            "type": "function_call_output",
            "call_id": call["call_id"],
            "output": '{"temp_c": 18}',
        }
        await c.send({"type": "conversation.item.create", "item": output})
        echoed = await c.until(USER_ITEM[dialect][-1])
        assert (
            echoed[0]["previous_item_id"] == call["id"]
            and echoed[0]["item"]["output"] == '{"temp_c": 18}'
        )
        await c.send({"type": "response.create"})
        spoken_reply = await c.turn()
    assert collapsed(spoken_reply) == RESPONSE[dialect]
    assert (
        'The get_weather tool returned: {"temp_c": 18}.'
        in spoken_reply[-2]["response"]["output"][0]["content"][0]["transcript"]
    )


async def test_tool_choice_required_calls_on_an_audio_turn(sim):
    update = {
        "type": "realtime",
        "tools": FUNCTION_TOOLS,
        "tool_choice": "required",
        "audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 300}}},
    }
    async with session(sim, "ga", update=update) as c:
        await c.append(spoken())
        events = await c.turn()
    assert events[-2]["response"]["output"][0]["type"] == "function_call"
    assert json.loads(events[-2]["response"]["output"][0]["arguments"]) == {"city": "Paris"}


async def test_cached_tokens_grow_across_turns(sim):
    async with session(
        sim, "ga", update={"type": "realtime", "instructions": "Be brief. " * 60, **MANUAL["ga"]}
    ) as c:
        usages = []
        for _ in range(2):
            await c.send({"type": "response.create"})
            usages.append((await c.turn())[-2]["response"]["usage"])
    assert usages[0]["input_token_details"]["cached_tokens"] == 0
    assert usages[1]["input_token_details"]["cached_tokens"] >= 128
    assert usages[1]["input_tokens"] > usages[0]["input_tokens"]  # the first reply is context now
    for u in usages:
        assert_usage_consistent(u, image=True)


async def test_out_of_band_response_runs_beside_the_conversation(sim):
    async with session(sim, "ga", update=MANUAL["ga"]) as c:
        await c.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Remember me"}],
                },
            }
        )
        user = (await c.until("conversation.item.done"))[-1]["item"]
        await c.send(
            {
                "type": "response.create",
                "response": {
                    "conversation": "none",
                    "output_modalities": ["text"],
                    "metadata": {"purpose": "summary"},
                    "input": [{"type": "item_reference", "id": user["id"]}],
                },
            }
        )
        events = await c.turn()
    assert "conversation.item.added" not in types(events)
    done = events[-2]["response"]
    assert done["conversation_id"] is None and done["metadata"] == {"purpose": "summary"}
    assert done["output"][0]["content"][0]["text"].endswith('You said: "Remember me".')


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_semantic_vad_turn(sim, dialect):
    semantic = {"type": "semantic_vad", "eagerness": "high"}
    update = (
        {"type": "realtime", "audio": {"input": {"turn_detection": semantic}}}
        if dialect == "ga"
        else {"turn_detection": semantic}
    )
    async with session(sim, dialect, update=update) as c:
        await c.append(spoken())
        events = await c.turn()
    assert types(events)[:3] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    assert events[-2]["response"]["status"] == "completed"


async def test_create_response_false_detects_turns_without_answering(sim):
    turn = {"type": "server_vad", "create_response": False, "silence_duration_ms": 300}
    async with session(
        sim, "ga", update={"type": "realtime", "audio": {"input": {"turn_detection": turn}}}
    ) as c:
        await c.append(spoken())
        events = await c.until("conversation.item.done")
        await c.send({"type": "input_audio_buffer.clear"})
        after = await c.recv()
    assert "response.created" not in types(events) and after["type"] == "input_audio_buffer.cleared"


@pytest.mark.parametrize(
    ("dialect", "update"),
    [
        ("ga", {"type": "realtime", "audio": {"output": {"format": {"type": "audio/pcmu"}}}}),
        ("beta", {"output_audio_format": "g711_alaw"}),
    ],
)
async def test_g711_output_is_8_bytes_per_ms(sim, dialect, update):
    async with session(sim, dialect, update=update) as c:
        await c.send({"type": "response.create"})
        events = await c.turn()
    chunks = [unb64(e["delta"]) for e in events if e["type"] == AUDIO_DELTA[dialect]]
    assert {len(chunk) for chunk in chunks[:-1]} == {60 * 8}
    done = events[-2]["response"]
    reported = done["audio"]["output"]["format"] if dialect == "ga" else done["output_audio_format"]
    assert reported == ({"type": "audio/pcmu"} if dialect == "ga" else "g711_alaw")
