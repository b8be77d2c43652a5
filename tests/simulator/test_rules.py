"""Frame rules, session.update semantics and state rules over a real WebSocket: one error each."""

from __future__ import annotations

import pytest

from talkapp.simulator import Knobs, Simulator
from talkapp.simulator.voice import synthesize

from .conftest import MANUAL, b64, client, fast_config, session, types, unb64

GA_TYPES = (
    "Supported values are: 'session.update', 'session.close', 'input_audio_buffer.append', "
    "'session.input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', "
    "'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', "
    "'conversation.item.retrieve', 'response.create', and 'response.cancel'."
)
BETA_TYPES = (
    "Supported values are: 'session.update', 'transcription_session.update', "
    "'input_audio_buffer.append', "
    "'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', "
    "'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', "
    "'response.create', and 'response.cancel'."
)
SAY = {
    "type": "conversation.item.create",
    "item": {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Say something."}],
    },
}


async def one_error(c, event: dict | str | bytes) -> dict:
    """Send something bad, then prove exactly one error came back and the session still works."""
    if isinstance(event, dict):
        await c.send(event)
    else:
        await c.ws.send(event)
    error = await c.recv()
    await c.send({"type": "input_audio_buffer.clear"})
    assert (await c.recv())["type"] == "input_audio_buffer.cleared"
    assert error["type"] == "error" and error["event_id"].startswith("event_")
    return error["error"]


async def test_frame_level_errors(sim):
    async with session(sim, "ga") as c:
        binary = await one_error(c, b"\x00\x01")
        assert (binary["code"], binary["message"]) == (
            "invalid_event",
            "Expected a text WebSocket message; binary frames are not supported.",
        )
        bad_json = await one_error(c, "{not json")
        assert bad_json["code"] == "invalid_json"
        assert bad_json["message"].startswith("Invalid event: failed to parse JSON value.")
        assert (await one_error(c, "NaN"))["code"] == "invalid_json"
        unknown = await one_error(c, {"type": "nope", "event_id": "x1"})
        assert unknown == {
            "type": "invalid_request_error",
            "code": "invalid_value",
            "param": "type",
            "message": f"Invalid value: 'nope'. {GA_TYPES}",
            "event_id": "x1",
        }
        beta_name = await one_error(c, {"type": "transcription_session.update", "session": {}})
        assert beta_name["message"] == f"Invalid value: 'transcription_session.update'. {GA_TYPES}"
        assert (await one_error(c, {"session": {}}))["param"] == "type"
        assert (await one_error(c, {"type": "output_audio_buffer.clear"}))[
            "code"
        ] == "invalid_value"


async def test_beta_type_list(sim):
    async with session(sim, "beta") as c:
        error = await one_error(c, {"type": "session.close"})
    assert error["message"] == f"Invalid value: 'session.close'. {BETA_TYPES}"


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_rejected_update_changes_nothing(sim, dialect):
    good = {"ga": {"type": "realtime", "instructions": "first"}, "beta": {"instructions": "first"}}[
        dialect
    ]
    bad = {
        **good,
        "instructions": "second",
        **({"modalities": ["text"]} if dialect == "ga" else {"type": "realtime"}),
    }
    async with session(sim, dialect, update=good) as c:
        error = await one_error(c, {"type": "session.update", "session": bad, "event_id": "u2"})
        assert error["code"] == "unknown_parameter" and error["event_id"] == "u2"
        await c.send(
            {"type": "session.update", "session": {"type": "realtime"} if dialect == "ga" else {}}
        )
        updated = await c.recv()
    assert updated["type"] == "session.updated" and updated["session"]["instructions"] == "first"


async def test_ga_updates_merge_nested_audio_settings(sim):
    async with session(sim, "ga") as c:
        await c.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {
                        "input": {
                            "turn_detection": {"type": "server_vad", "silence_duration_ms": 700},
                            "transcription": {"model": "whisper-1"},
                        },
                        "output": {"voice": "cedar"},
                    },
                },
            }
        )
        first = (await c.recv())["session"]["audio"]
        await c.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"noise_reduction": {"type": "far_field"}}},
                },
            }
        )
        second = (await c.recv())["session"]
    assert first["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 700,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }
    assert first["input"]["transcription"] == {
        "model": "whisper-1",
        "language": None,
        "prompt": None,
    }
    assert second["audio"]["input"]["noise_reduction"] == {"type": "far_field"}
    assert second["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 700
    assert second["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "cedar",
        "speed": 1.0,
    }


async def test_a_transcription_update_on_a_realtime_session(sim):
    async with session(sim, "ga") as c:
        error = await one_error(c, {"type": "session.update", "session": {"type": "transcription"}})
    assert (
        error["message"]
        == "Passing a transcription session update event to a realtime session is not allowed."
    )


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_the_voice_locks_after_assistant_audio(sim, dialect):
    def voice(name):
        return (
            {"type": "realtime", "audio": {"output": {"voice": name}}}
            if dialect == "ga"
            else {"voice": name}
        )

    async with session(sim, dialect, update={**voice("ash"), **MANUAL[dialect]}) as c:
        await c.send({"type": "session.update", "session": voice("coral")})
        assert (await c.recv())["type"] == "session.updated"  # no audio yet: allowed
        await c.send({"type": "response.create"})
        await c.turn()
        error = await one_error(c, {"type": "session.update", "session": voice("sage")})
        await c.send({"type": "session.update", "session": voice("coral")})
        same = await c.recv()
    assert error["code"] == "cannot_update_voice"
    assert error["message"] == "Cannot update a conversation's voice if assistant audio is present."
    assert same["type"] == "session.updated"


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_one_active_response_at_a_time(dialect):
    async with (
        Simulator(fast_config(knobs=Knobs(audio_pace=1.0))) as sim,
        session(sim, dialect, update=MANUAL[dialect]) as c,
    ):
        await c.send({"type": "response.create"})
        created = await c.until("response.created")
        await c.send({"type": "response.create", "event_id": "again"})
        error = await c.until("error")
    rid = created[-1]["response"]["id"]
    assert error[-1]["error"]["code"] == "conversation_already_has_active_response"
    assert error[-1]["error"]["message"] == (
        f"Conversation already has an active response in progress: {rid}. "
        "Wait until the response is finished before creating a new one."
    )
    assert error[-1]["error"]["event_id"] == "again"
    assert "response.created" not in types(error)


@pytest.mark.parametrize(("ms", "shown"), [(0, "0.00"), (50, "50.00"), (99, "99.00")])
async def test_committing_less_than_100_ms(sim, ms, shown):
    async with session(sim, "ga", update=MANUAL["ga"]) as c:
        if ms:
            await c.send({"type": "input_audio_buffer.append", "audio": b64(b"\x01\x00" * 24 * ms)})
        error = await one_error(c, {"type": "input_audio_buffer.commit", "event_id": "k"})
    assert error["code"] == "input_audio_buffer_commit_empty" and error["event_id"] == "k"
    assert error["message"] == (
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
        f"but buffer only has {shown}ms of audio."
    )


async def test_g711_input_counts_8_bytes_per_ms(sim):
    update = {
        "type": "realtime",
        "audio": {"input": {"format": {"type": "audio/pcmu"}, "turn_detection": None}},
    }
    async with session(sim, "ga", update=update) as c:
        await c.send({"type": "input_audio_buffer.append", "audio": b64(b"\xff" * 400)})
        error = await one_error(c, {"type": "input_audio_buffer.commit"})
        await c.send({"type": "input_audio_buffer.append", "audio": b64(b"\xff" * 800)})
        await c.send({"type": "input_audio_buffer.commit"})
        committed = await c.recv()
    assert error["message"].endswith("buffer only has 50.00ms of audio.")
    assert committed["type"] == "input_audio_buffer.committed"


async def test_truncate_rules(sim):
    async with session(sim, "ga", update=MANUAL["ga"]) as c:
        await c.send(SAY)
        user = (await c.until("conversation.item.done"))[-1]["item"]["id"]
        await c.send({"type": "response.create"})
        assistant = (await c.turn())[-2]["response"]["output"][0]["id"]

        def truncate(item_id, end, index=0):
            return {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": index,
                "audio_end_ms": end,
            }

        unknown = await one_error(c, truncate("item_nope", 10))
        not_audio = await one_error(c, truncate(user, 10))
        too_long = await one_error(c, truncate(assistant, 600_000))
        index = await one_error(c, truncate(assistant, 10, index=1))
        await c.send(truncate(assistant, 1200))
        truncated = await c.recv()
        await c.send({"type": "conversation.item.retrieve", "item_id": assistant})
        retrieved = (await c.recv())["item"]
    assert (unknown["code"], unknown["message"]) == (
        "item_truncate_invalid_item_id",
        "Item with item_id not found: item_nope",
    )
    assert not_audio["param"] == "item_id"
    assert too_long["message"].startswith("Audio content of ") and too_long["message"].endswith(
        "shorter than 600000ms"
    )
    assert (index["code"], index["param"]) == ("integer_above_max_value", "content_index")
    assert truncated["type"] == "conversation.item.truncated" and truncated["audio_end_ms"] == 1200
    content = retrieved["content"][0]
    assert len(content["transcript"].split()) == 3  # 1.2 s at 2.5 words per second
    assert len(unb64(content["audio"])) == 1200 * 48


async def test_items_insert_delete_and_retrieve(sim):
    async with session(sim, "ga", update=MANUAL["ga"]) as c:
        await c.send(SAY)
        first = (await c.until("conversation.item.done"))[-1]["item"]["id"]
        system = {
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "Be kind."}],
        }
        await c.send(
            {
                "type": "conversation.item.create",
                "previous_item_id": "root",
                "item": {**system, "id": "sys1"},
            }
        )
        added = (await c.until("conversation.item.done"))[0]
        await c.send(
            {
                "type": "conversation.item.create",
                "previous_item_id": "sys1",
                "item": {**system, "id": "sys2"},
            }
        )
        between = (await c.until("conversation.item.done"))[0]
        missing_prev = await one_error(
            c, {"type": "conversation.item.create", "previous_item_id": "nope", "item": system}
        )
        duplicate = await one_error(
            c, {"type": "conversation.item.create", "item": {**system, "id": "sys1"}}
        )
        await c.send({"type": "conversation.item.delete", "item_id": first})
        deleted = await c.recv()
        gone = await one_error(c, {"type": "conversation.item.retrieve", "item_id": first})
    assert added["previous_item_id"] is None and added["item"]["id"] == "sys1"
    assert between["previous_item_id"] == "sys1"
    assert missing_prev["param"] == "previous_item_id" and duplicate["param"] == "item.id"
    assert deleted == {
        "type": "conversation.item.deleted",
        "event_id": deleted["event_id"],
        "item_id": first,
    }
    assert gone["code"] == "item_retrieve_invalid_item_id"


async def test_beta_items_carry_the_object_field(sim):
    async with session(sim, "beta") as c:
        await c.send(SAY)
        created = await c.recv()
    assert created["type"] == "conversation.item.created"
    assert list(created["item"])[:4] == ["id", "object", "type", "status"]
    assert created["item"]["object"] == "realtime.item"


async def test_session_close_ends_the_connection(sim):
    async with session(sim, "ga") as c:
        await c.send({"type": "session.close"})
        await c.ws.wait_closed()
    assert c.ws.close_code == 1000


async def test_a_transcription_session(sim):
    async with client(sim, query="intent=transcription") as c:
        created = await c.recv()
        await c.send(
            {
                "type": "session.update",
                "session": {
                    "type": "transcription",
                    "audio": {
                        "input": {
                            "transcription": {"model": "gpt-4o-transcribe"},
                            "turn_detection": None,
                        }
                    },
                },
            }
        )
        updated = await c.recv()
        await c.append(synthesize("one two three four five"))
        await c.send({"type": "input_audio_buffer.commit"})
        events = await c.until("conversation.item.input_audio_transcription.completed")
        refused = await one_error(c, {"type": "response.create"})
    assert (
        created["session"]["type"] == "transcription"
        and created["session"]["object"] == "realtime.transcription_session"
    )
    assert updated["session"]["audio"]["input"]["transcription"]["model"] == "gpt-4o-transcribe"
    assert events[-1]["transcript"] == "(2.0 s of speech — the simulator does not transcribe)"
    assert refused["code"] == "invalid_value"
