"""The per-connection engine without a socket or a clock (sans I/O), and its pure helpers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talkapp.simulator import SimulatorConfig
from talkapp.simulator.conversation import Item, Part
from talkapp.simulator.engine import Engine
from talkapp.simulator.handshake import Admitted
from talkapp.simulator.replies import CallFunction, Speak, arguments, plan
from talkapp.simulator.responses import Pace, Think
from talkapp.simulator.session_shapes import ga_realtime, merged
from talkapp.simulator.usage import Tokens, cached

from .conftest import b64, load, types


def engine(dialect: str = "ga", model: str = "gpt-realtime") -> Engine:
    return Engine(
        Admitted(dialect, model, "conversation"), SimulatorConfig(), connection_no=0, now=0
    )


def run(e: Engine) -> list[dict]:
    """Play every started response to its end, ignoring pauses (no clock here)."""
    out: list[dict] = []
    for response in e.take_started():
        for step in e.responder.steps(response):
            if not isinstance(step, (Think, Pace)):
                out += step
    return out


def say(text: str) -> dict:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }


def test_a_whole_text_turn_without_a_socket():
    e = engine()
    (created,) = e.opening()
    assert created["session"]["model"] == "gpt-realtime"
    e.receive(say("Hello"))
    assert types(e.receive({"type": "response.create"})) == ["response.created"]
    events = run(e)
    assert events[-2]["type"] == "response.done" and events[-1]["type"] == "rate_limits.updated"
    assert e.ledger.audio_present and e.ledger.requests == 1


@pytest.mark.parametrize(
    "model, limit",
    [("gpt-realtime", 4096), ("gpt-realtime-mini", 4096), ("gpt-realtime-2", 32_768)],
)
def test_max_output_tokens_goes_up_to_each_models_documented_maximum(model, limit):
    e = engine(model=model)
    accepted = e.receive(
        {"type": "session.update", "session": {"type": "realtime", "max_output_tokens": limit}}
    )
    assert types(accepted)[0] == "session.updated"
    (error,) = e.receive(
        {"type": "session.update", "session": {"type": "realtime", "max_output_tokens": limit + 1}}
    )
    assert (error["error"]["code"], error["error"]["param"]) == (
        "integer_above_max_value",
        "session.max_output_tokens",
    )
    assert error["error"]["message"].endswith(
        f"Expected a value <= {limit}, but got {limit + 1} instead."
    )
    (error,) = e.receive({"type": "response.create", "response": {"max_output_tokens": limit + 1}})
    assert error["error"]["param"] == "response.max_output_tokens"
    beta = engine("beta", "gpt-realtime")
    (error,) = beta.receive(
        {"type": "session.update", "session": {"max_response_output_tokens": 4097}}
    )
    assert error["error"]["param"] == "session.max_response_output_tokens"


@pytest.mark.parametrize(
    "dialect, path",
    [
        (
            "ga",
            {
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "my-transcribe-deployment"}}},
            },
        ),
        ("beta", {"input_audio_transcription": {"model": "gpt-4o-transcribe-2026-01-01"}}),
    ],
)
def test_a_transcription_model_is_any_name(dialect, path):
    """New transcribe models and, on Azure, deployment names: the list is not closed."""
    e = engine(dialect)
    assert types(e.receive({"type": "session.update", "session": path}))[0] == "session.updated"


def test_max_output_tokens_ends_the_response_incomplete():
    e = engine()
    e.receive({"type": "response.create", "response": {"max_output_tokens": 60}})
    done = run(e)[-2]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert 0 < done["usage"]["output_tokens"] <= 60
    assert done["output"][0]["status"] == "incomplete"


def test_a_cancel_between_steps_stops_the_stream():
    e = engine("beta", "gpt-4o-realtime-preview")
    e.receive({"type": "response.create"})
    (response,) = e.take_started()
    steps = e.responder.steps(response)
    batches = [s for s in (next(steps) for _ in range(4)) if isinstance(s, list)]
    assert any(ev["type"] == "response.audio.delta" for batch in batches for ev in batch)
    cancelled = e.receive({"type": "response.cancel"})
    assert types(cancelled)[-2:] == ["response.done", "rate_limits.updated"]
    assert not response.active  # the runner stops pulling here


def test_function_call_output_turns_into_speech():
    e = engine()
    tools = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    e.receive({"type": "session.update", "session": {"type": "realtime", "tools": tools}})
    e.receive(say("please lookup"))
    e.receive({"type": "response.create"})
    call = run(e)[-2]["response"]["output"][0]
    e.receive(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": call["call_id"], "output": "42"},
        }
    )
    e.receive({"type": "response.create"})
    spoken = run(e)[-2]["response"]["output"][0]["content"][0]["transcript"]
    assert call["arguments"] == "{}" and spoken.endswith("The lookup tool returned: 42.")


EVENT_TYPES = st.sampled_from(
    [
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "response.create",
        "conversation.item.create",
        "conversation.item.truncate",
        "response.cancel",
        "nope",
        None,
    ]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    dialect=st.sampled_from(["ga", "beta"]),
    frames=st.lists(st.tuples(EVENT_TYPES, JSON), max_size=6),
)
def test_any_frames_become_events_or_exactly_one_error(dialect, frames):
    e = engine(dialect, "gpt-realtime")
    e.receive({"type": "input_audio_buffer.append", "audio": b64(b"\x10\x00" * 4800)})
    for kind, body in frames:
        event = {**(body if isinstance(body, dict) else {"x": body}), "type": kind}
        out = e.receive(event)
        errors = [x for x in out if x["type"] == "error"]
        assert len(errors) <= 1 and (not errors or out == errors)
        json.dumps(out)  # always serializable
        run(e)
    assert e.receive_text("{")[0]["error"]["code"] == "invalid_json"


# --- pure helpers ---------------------------------------------------------------------------


def user_text(text: str) -> Item:
    return Item(
        id="item_u", type="message", role="user", parts=[Part(kind="input_text", text=text)]
    )


WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "required": ["city", "days", "unit"],
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
    },
}


@pytest.mark.parametrize(
    ("text", "choice", "expected"),
    [
        ("What's the weather?", "auto", Speak),
        ("Call get_weather for me", "auto", CallFunction),
        ("Call get weather please", "auto", CallFunction),
        ("Call get_weather for me", "none", Speak),
        ("Hi", "required", CallFunction),
        ("Hi", {"type": "function", "name": "get_weather"}, CallFunction),
    ],
)
def test_when_the_model_calls_a_function(text, choice, expected):
    reply = plan([user_text(text)], [WEATHER], choice, model="m", dialect="GA")
    assert isinstance(reply, expected)


def test_arguments_fill_required_parameters_plausibly():
    assert arguments(WEATHER, "How warm is it in Lisbon today") == {
        "city": "Lisbon",
        "days": 1,
        "unit": "c",
    }
    assert arguments(WEATHER, "")["city"] == "Paris"
    assert arguments({"name": "f"}, "x") == {}


def test_session_merge_semantics():
    base = ga_realtime("sess_x", "gpt-realtime", 0)
    update = {
        "type": "realtime",
        "instructions": "",
        "tools": [],
        "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}},
    }
    after = merged(base, update)
    assert after["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }
    assert after["audio"]["output"] == base["audio"]["output"] and after["instructions"] == ""
    off = merged(after, {"type": "realtime", "audio": {"input": {"turn_detection": None}}})
    assert (
        off["audio"]["input"]["turn_detection"] is None and base["audio"]["input"]["turn_detection"]
    )


def test_cached_tokens_are_whole_blocks_of_the_earlier_prefix():
    assert cached(None, Tokens(500, 100)) == Tokens()
    assert cached(Tokens(130, 70), Tokens(500, 100)) == Tokens(128, 64)
    assert cached(Tokens(900, 0), Tokens(300, 0)) == Tokens(256, 0)


def valid_pool(dialect: str) -> list[dict]:
    pool = [event for _, event in load(dialect, "*.client.*.json")]
    return pool + [
        say("Call get_weather now"),
        {"type": "response.create"},
        {"type": "response.cancel"},
    ]


@settings(max_examples=25, deadline=None)
@given(dialect=st.sampled_from(["ga", "beta"]), data=st.data())
def test_random_sequences_of_valid_events_never_break_the_engine(dialect, data):
    e = engine(dialect, "gpt-realtime")
    pool = valid_pool(dialect)
    for _ in range(data.draw(st.integers(1, 12))):
        event = dict(data.draw(st.sampled_from(pool)))
        known = [item.id for item in e.conversation.items]
        if known and "item_id" in event:
            event["item_id"] = data.draw(st.sampled_from(known))
        out = e.receive(event)
        assert out == [x for x in out if x["type"] != "error"] or len(out) == 1
        if data.draw(st.booleans()):
            run(e)
        in_conversation = [r for r in e.responses if r.active and r.conversation_id]
        assert len(in_conversation) <= 1  # one active response in the default conversation
