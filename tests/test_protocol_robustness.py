"""Whatever the wire carries, decoding returns events; it never raises."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talkapp.protocol import events as ev
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.selection import DIALECTS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


def _known_types():
    return sorted(set(DIALECTS["ga"].decoders) | set(DIALECTS["beta"].decoders))


@settings(max_examples=400, deadline=None)
@given(
    dialect=st.sampled_from(["beta", "ga"]),
    wire_type=st.sampled_from(_known_types()) | st.text(max_size=30),
    body=st.dictionaries(
        st.sampled_from(
            [
                "item_id",
                "response_id",
                "delta",
                "item",
                "response",
                "session",
                "error",
                "rate_limits",
                "audio_start_ms",
                "audio_end_ms",
                "transcript",
                "text",
                "call_id",
                "x",
            ]
        ),
        json_values,
        max_size=6,
    ),
)
def test_any_event_shaped_json_decodes_without_raising(dialect, wire_type, body):
    events = RealtimeConnection(DIALECTS[dialect]).receive(json.dumps({"type": wire_type, **body}))
    assert isinstance(events, tuple)
    for event in events:
        assert type(event).__module__ == ev.__name__


@settings(max_examples=200, deadline=None)
@given(frame=st.text(max_size=200) | st.binary(max_size=50))
def test_any_frame_decodes_without_raising(frame):
    events = RealtimeConnection(DIALECTS["ga"]).receive(frame)
    assert all(type(event).__module__ == ev.__name__ for event in events)


def test_malformed_frames_say_what_is_wrong():
    c = RealtimeConnection(DIALECTS["ga"])
    assert c.receive("{not json") == (ev.MalformedEvent(None, "not valid JSON"),)
    assert c.receive(b"\x00") == (ev.MalformedEvent(None, "binary frame (events are JSON text)"),)
    assert c.receive("[1, 2]") == (ev.MalformedEvent(None, "no event type"),)
    (event,) = c.receive(
        '{"type": "response.output_audio.delta", "response_id": "r", "item_id": "i", '
        '"delta": "%%%"}'
    )
    assert event == ev.MalformedEvent(
        "response.output_audio.delta", "field 'delta' is not valid base64"
    )
    (event,) = c.receive('{"type": "input_audio_buffer.speech_started"}')
    assert isinstance(event, ev.MalformedEvent) and "item_id" in event.problem


# Fields a service may leave out (xAI as pipecat's `services/xai` and tau2-bench model it): each
# has a meaning when absent, and none makes the frame malformed.


@pytest.mark.parametrize("dialect", ["ga", "xai"])
def test_speech_edges_without_their_times_still_count(dialect):
    c = RealtimeConnection(DIALECTS[dialect])
    assert c.receive('{"type": "input_audio_buffer.speech_started", "item_id": "u1"}') == (
        ev.SpeechStarted("u1", None),
    )
    assert c.receive('{"type": "input_audio_buffer.speech_stopped", "item_id": "u1"}') == (
        ev.SpeechStopped("u1", None),
    )


@pytest.mark.parametrize(
    "dialect, delta, done",
    [
        ("ga", "response.output_audio_transcript.delta", "response.output_audio_transcript.done"),
        ("ga", "response.output_text.delta", "response.output_text.done"),
        ("beta", "response.audio_transcript.delta", "response.audio_transcript.done"),
        ("xai", "response.output_audio_transcript.delta", "response.output_audio_transcript.done"),
    ],
)
def test_a_done_without_its_text_is_completed_from_the_deltas(dialect, delta, done):
    c = RealtimeConnection(DIALECTS[dialect])
    ref = {"response_id": "r1", "item_id": "a1", "output_index": 0, "content_index": 0}
    for part in ("Hello ", "there."):
        c.receive(json.dumps({"type": delta, **ref, "delta": part}))
    (event,) = c.receive(json.dumps({"type": done, **ref}))
    assert event == ev.TranscriptDone("assistant", "a1", "Hello there.", from_deltas=True)
    # a done that carries its text keeps it, whatever the deltas said
    c.receive(json.dumps({"type": delta, **ref, "item_id": "a2", "delta": "Hel"}))
    (event,) = c.receive(
        json.dumps({"type": done, **ref, "item_id": "a2", "transcript": "Hello", "text": "Hello"})
    )
    assert event.text == "Hello" and not event.from_deltas


def test_a_user_transcript_done_without_text_is_completed_too():
    c = RealtimeConnection(DIALECTS["ga"])
    base = {"item_id": "u1", "content_index": 0}
    c.receive(
        json.dumps(
            {
                "type": "conversation.item.input_audio_transcription.delta",
                **base,
                "delta": "What time",
            }
        )
    )
    c.receive(
        json.dumps(
            {
                "type": "conversation.item.input_audio_transcription.delta",
                **base,
                "delta": " is it?",
            }
        )
    )
    (event,) = c.receive(
        json.dumps({"type": "conversation.item.input_audio_transcription.completed", **base})
    )
    assert event.text == "What time is it?"


@pytest.mark.parametrize(
    "first, second",
    [
        (
            '{"type": "conversation.created", "conversation": {"id": "conv_1"}}',
            '{"type": "session.created", "session": {"id": "sess_1"}}',
        ),
        (
            '{"type": "session.created", "session": {"id": "sess_1"}}',
            '{"type": "conversation.created", "conversation": {"id": "conv_1"}}',
        ),
        ('{"type": "session.created", "session": {}}', '{"type": "conversation.created"}'),
    ],
)
def test_xai_opens_on_whichever_comes_first(first, second):
    c = RealtimeConnection(DIALECTS["xai"])
    (opened,) = c.receive(first)
    assert isinstance(opened, ev.SessionStarted)
    assert c.receive(second) == ()  # the session is open already; nothing malformed either


def test_unknown_events_are_reported_by_name_only():
    (event,) = RealtimeConnection(DIALECTS["beta"]).receive(
        '{"type": "response.future_thing", "secret": "x"}'
    )
    assert event == ev.Unrecognized("response.future_thing")


def test_an_error_names_the_command_that_caused_it():
    from talkapp.protocol.commands import CommitAudio

    c = RealtimeConnection(DIALECTS["ga"])
    sent = json.loads(c.send(CommitAudio()))
    error = {
        "type": "error",
        "event_id": "event_1",
        "error": {
            "type": "invalid_request_error",
            "code": "input_audio_buffer_commit_empty",
            "message": "buffer too small",
            "param": None,
            "event_id": sent["event_id"],
        },
    }
    (event,) = c.receive(json.dumps(error))
    assert event.caused_by == "CommitAudio"


# ---- real events, broken: every fixture with one field removed or replaced, at any depth ----


from protocol_fixtures import FIXTURES

SERVER_EVENTS = [
    (p.parent.name, json.loads(p.read_text())) for p in sorted(FIXTURES.glob("*/*.server.*.json"))
]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _mutated(event: dict, path: tuple, replacement, delete: bool) -> dict:
    event = json.loads(json.dumps(event))
    if not path:
        return event
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return event


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_a_real_event_with_any_field_broken_decodes_without_raising(data):
    dialect, event = data.draw(st.sampled_from(SERVER_EVENTS))
    path = data.draw(st.sampled_from([p for p in _paths(event) if p and p != ("type",)]))
    replacement = data.draw(
        json_values | st.sampled_from(["%%not-base64%%", "A" * 10_001, -1, 2**63])
    )
    broken = _mutated(event, path, replacement, data.draw(st.booleans()))
    decoded = RealtimeConnection(DIALECTS[dialect]).receive(json.dumps(broken))
    assert all(type(e).__module__ == ev.__name__ for e in decoded)
