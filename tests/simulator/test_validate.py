"""The strict client-event validator, without sockets: fixtures pass, documented errors match."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talkapp.simulator import schema_beta, schema_ga
from talkapp.simulator.errors import Fault
from talkapp.simulator.validate import first_fault

from .conftest import load

EVENTS = {"ga": schema_ga.EVENTS, "beta": schema_beta.EVENTS}


def check(dialect: str, event: dict) -> Fault | None:
    return first_fault(EVENTS[dialect][event["type"]], event)


@pytest.mark.parametrize(
    ("dialect", "name", "event"),
    [(d, name, e) for d in ("ga", "beta") for name, e in load(d, "*.client.*.json")],
)
def test_every_client_fixture_is_accepted(dialect, name, event):
    assert check(dialect, event) is None, name


def test_fixture_sets_are_complete():
    assert len(load("ga", "*.client.*.json")) == 13
    assert len(load("beta", "*.client.*.json")) == 10


BETA_SESSION = {"modalities": ["audio", "text"], "voice": "alloy", "input_audio_format": "pcm16"}

# (dialect, event, code, message, param) — wording from the reference §1.5, §2.1, §7.1, §7.3, §9.2
DOCUMENTED = [
    (
        "ga",
        {"type": "session.update", "session": BETA_SESSION},
        "missing_required_parameter",
        "Missing required parameter: 'session.type'.",
        "session.type",
    ),
    (
        "ga",
        {"type": "session.update", "session": {"type": "realtime", "modalities": ["audio"]}},
        "unknown_parameter",
        "Unknown parameter: 'session.modalities'.",
        "session.modalities",
    ),
    (
        "ga",
        {"type": "session.update", "session": {"type": "realtime", "voice": "ash"}},
        "unknown_parameter",
        "Unknown parameter: 'session.voice'.",
        "session.voice",
    ),
    (
        "ga",
        {"type": "session.update", "session": {"type": "realtime", "temperature": 0.8}},
        "unknown_parameter",
        "Unknown parameter: 'session.temperature'.",
        "session.temperature",
    ),
    (
        "ga",
        {"type": "session.update", "session": {"type": "realtime", "bogus_field": 1}},
        "unknown_parameter",
        "Unknown parameter: 'session.bogus_field'.",
        "session.bogus_field",
    ),
    (
        "ga",
        {"type": "session.update", "session": {"type": "realtime", "client_secret": {}}},
        "unknown_parameter",
        "Unknown parameter: 'session.client_secret'.",
        "session.client_secret",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "tools": [
                    {"type": "function", "name": "a"},
                    {"type": "function", "name": "b"},
                    {"type": "function", "name": "c", "meta": {}},
                ],
            },
        },
        "unknown_parameter",
        "Unknown parameter: 'session.tools[2].meta'.",
        "session.tools[2].meta",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "tools": [{"type": "function", "function": {"name": "get_weather"}}],
            },
        },
        "missing_required_parameter",
        "Missing required parameter: 'session.tools[0].name'.",
        "session.tools[0].name",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"format": {"type": "pcm16"}}}},
        },
        "invalid_value",
        (
            "Invalid value: 'pcm16'. Supported values are: 'audio/pcm', 'audio/pcmu', "
            "and 'audio/pcma'."
        ),
        "session.audio.input.format.type",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"format": "pcm16"}}},
        },
        "invalid_type",
        (
            "Invalid type for 'session.audio.input.format': expected an object, "
            "but got a string instead."
        ),
        "session.audio.input.format",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
            },
        },
        "integer_below_min_value",
        (
            "Invalid 'session.audio.input.format.rate': integer below minimum value. "
            "Expected a value >= 24000, but got 16000 instead."
        ),
        "session.audio.input.format.rate",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {"type": "realtime", "output_modalities": ["audio", "text"]},
        },
        "invalid_value",
        (
            "Invalid modalities: ['audio', 'text']. "
            "Supported combinations are: ['text'] and ['audio']."
        ),
        "session.output_modalities",
    ),
    (
        "ga",
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"output": {"voice": "breeze"}}},
        },
        "invalid_value",
        (
            "Invalid value: 'breeze'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', "
            "'echo', 'sage', 'shimmer', 'verse', 'marin', and 'cedar'."
        ),
        "session.audio.output.voice",
    ),
    (
        "ga",
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "hi"}],
            },
        },
        "invalid_value",
        "Invalid value: 'text'. Supported values are: 'output_text' and 'output_audio'.",
        "item.content[0].type",
    ),
    (
        "ga",
        {
            "type": "conversation.item.create",
            "item": {"id": "item_" + "x" * 34, "type": "message", "role": "user", "content": []},
        },
        "string_above_max_length",
        (
            "Invalid 'item.id': string too long. Expected a string with maximum length 32, "
            "but got a string with length 39 instead."
        ),
        "item.id",
    ),
    (
        "ga",
        {"type": "conversation.item.create", "item": {"role": "user", "content": []}},
        "missing_required_parameter",
        "Missing required parameter: 'item.type'.",
        "item.type",
    ),
    (
        "ga",
        {"type": "conversation.item.truncate", "item_id": "item_x", "content_index": 0},
        "missing_required_parameter",
        "Missing required parameter: 'audio_end_ms'.",
        "audio_end_ms",
    ),
    (
        "beta",
        {"type": "session.update", "session": {"type": "realtime", **BETA_SESSION}},
        "unknown_parameter",
        "Unknown parameter: 'session.type'.",
        "session.type",
    ),
    (
        "beta",
        {"type": "session.update", "session": {"output_modalities": ["audio"]}},
        "unknown_parameter",
        "Unknown parameter: 'session.output_modalities'.",
        "session.output_modalities",
    ),
    (
        "beta",
        {"type": "session.update", "session": {"modalities": ["audio"]}},
        "invalid_value",
        (
            "Invalid modalities: ['audio']. "
            "Supported combinations are: ['text'] and ['audio', 'text']."
        ),
        "session.modalities",
    ),
    (
        "beta",
        {"type": "session.update", "session": {"temperature": 0.3}},
        "decimal_below_min_value",
        (
            "Invalid 'session.temperature': decimal below minimum value. "
            "Expected a value >= 0.6, but got 0.3 instead."
        ),
        "session.temperature",
    ),
]


@pytest.mark.parametrize(("dialect", "event", "code", "message", "param"), DOCUMENTED)
def test_documented_errors_are_reproduced_exactly(dialect, event, code, message, param):
    fault = check(dialect, event)
    assert fault is not None
    assert (fault.type, fault.code, fault.message, fault.param) == (
        "invalid_request_error",
        code,
        message,
        param,
    )


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        (
            {"type": "realtime", "audio": {"output": {"speed": 2.0}}},
            "decimal_above_max_value",
            "session.audio.output.speed",
        ),
        (
            {"type": "realtime", "audio": {"output": {"speed": 0.1}}},
            "decimal_below_min_value",
            "session.audio.output.speed",
        ),
        (
            {"type": "realtime", "max_output_tokens": 0},
            "integer_below_min_value",
            "session.max_output_tokens",
        ),
        (
            {"type": "realtime", "max_output_tokens": "lots"},
            "invalid_value",
            "session.max_output_tokens",
        ),
        (
            {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.5}}},
            },
            "decimal_above_max_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            {
                "type": "realtime",
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 48000}}},
            },
            "integer_above_max_value",
            "session.audio.input.format.rate",
        ),
        (
            {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm"}}}},
            "missing_required_parameter",
            "session.audio.input.format.rate",
        ),
        ({"type": "realtime", "instructions": 5}, "invalid_type", "session.instructions"),
        (
            {"type": "realtime", "output_modalities": []},
            "invalid_value",
            "session.output_modalities",
        ),
        ({"type": "bogus"}, "invalid_value", "session.type"),
    ],
)
def test_bounds_types_and_enums(session, code, param):
    fault = check("ga", {"type": "session.update", "session": session})
    assert (fault.code, fault.param) == (code, param)


def test_beta_bounds_and_inf():
    assert (
        check("beta", {"type": "session.update", "session": {"max_response_output_tokens": "inf"}})
        is None
    )
    assert (
        check("beta", {"type": "session.update", "session": {"temperature": 1.2, "speed": 1.5}})
        is None
    )
    fault = check("beta", {"type": "session.update", "session": {"temperature": 1.3}})
    assert fault.code == "decimal_above_max_value"
    assert fault.message.endswith("Expected a value <= 1.2, but got 1.3 instead.")


def test_missing_required_beats_unknown_beats_type_errors():
    # unknown key first in the document, type error first too: still the missing one wins
    event = {
        "type": "session.update",
        "session": {"zz": 1, "instructions": 5, "tools": [{"description": "x"}]},
    }
    assert check("ga", event).param == "session.type"
    event["session"]["type"] = "realtime"
    assert check("ga", event).param == "session.tools[0].name"
    event["session"]["tools"][0]["name"] = "f"
    assert check("ga", event).param == "session.zz"
    del event["session"]["zz"]
    assert check("ga", event).param == "session.instructions"


def test_client_event_id_may_be_any_string_and_nothing_else():
    assert check("ga", {"type": "input_audio_buffer.clear", "event_id": "mine"}) is None
    assert check("ga", {"type": "input_audio_buffer.clear", "event_id": 7}).code == "invalid_type"
    assert (
        check("ga", {"type": "input_audio_buffer.clear", "extra": True}).message
        == "Unknown parameter: 'extra'."
    )


def test_audio_must_be_base64():
    fault = check("ga", {"type": "input_audio_buffer.append", "audio": "not base64!"})
    assert (fault.code, fault.param) == ("invalid_value", "audio")


def test_response_create_per_dialect():
    assert (
        check("ga", {"type": "response.create", "response": {"modalities": ["text"]}}).param
        == "response.modalities"
    )
    assert (
        check("beta", {"type": "response.create", "response": {"output_modalities": ["text"]}}).code
        == "unknown_parameter"
    )
    ga_ref = {"type": "response.create", "response": {"input": [{"type": "item_reference"}]}}
    assert check("ga", ga_ref).message == "Missing required parameter: 'response.input[0].id'."
    beta_choice = {
        "type": "response.create",
        "response": {"tool_choice": {"type": "function", "name": "f"}},
    }
    assert check("beta", beta_choice) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "session",
        "item",
        "response",
        "audio",
        "type",
        "item_id",
        "audio_end_ms",
        "content_index",
        "x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    dialect=st.sampled_from(["ga", "beta"]),
    kind=st.sampled_from(sorted(set(schema_ga.EVENTS) | set(schema_beta.EVENTS))),
    body=st.dictionaries(KEYS, JSON, max_size=4),
)
def test_arbitrary_json_is_valid_or_one_error(dialect, kind, body):
    schema = EVENTS[dialect].get(kind)
    if schema is None:
        return
    fault = first_fault(schema, {**body, "type": kind})
    assert fault is None or (isinstance(fault, Fault) and fault.message)
    json.dumps(fault.__dict__ if fault else None)  # an error is always serializable


@settings(max_examples=200, deadline=None)
@given(
    session=st.dictionaries(
        st.sampled_from(["type", "audio", "tools", "turn_detection", "voice", "modalities"]), JSON
    )
)
def test_arbitrary_sessions_never_raise(session):
    for dialect in ("ga", "beta"):
        fault = check(dialect, {"type": "session.update", "session": session})
        assert fault is None or fault.code
