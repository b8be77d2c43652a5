"""The Gemini Live dialect without I/O: what it sends (checked against google-genai's types)
and how Google's server messages become TalkApp's events."""

from __future__ import annotations

import base64
import json
from array import array

import pytest
from gemini_types import validate_client_message
from hypothesis import given, settings
from hypothesis import strategies as st

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.gemini import explain_close, gemini_url
from talkapp.protocol.gemini_audio import Downsampler
from talkapp.protocol.selection import choose_dialect

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
TOOL = cmd.FunctionTool(
    "get_weather",
    "The weather in a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def P(conn: RealtimeConnection) -> str:
    """This connection's id prefix (ids are unique across connections)."""
    return conn._codec.prefix  # type: ignore[union-attr]


def connection() -> RealtimeConnection:
    return RealtimeConnection(choose_dialect("auto", MODEL).dialect)


def sent(conn: RealtimeConnection, *commands: cmd.Command) -> list[dict]:
    return [validate_client_message(f) for c in commands for f in conn.frames(c)]


def receive(conn: RealtimeConnection, message: dict) -> tuple[ev.ServerEvent, ...]:
    return conn.receive(json.dumps(message))


def test_auto_speaks_gemini_to_gemini_models_only():
    assert choose_dialect("auto", MODEL).describe() == "Gemini (auto)"
    assert choose_dialect("auto", "models/gemini-live-2.5-flash").dialect.name == "gemini"
    assert choose_dialect("auto", "gpt-realtime").dialect.name == "ga"
    assert choose_dialect("gemini", "anything").dialect.name == "gemini"


@pytest.mark.parametrize(
    ("base", "url"),
    [
        (
            "https://generativelanguage.googleapis.com",
            (
                "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta"
                ".GenerativeService.BidiGenerateContent"
            ),
        ),
        (
            "ws://127.0.0.1:9/v1",
            (
                "ws://127.0.0.1:9/ws/google.ai.generativelanguage.v1.GenerativeService"
                ".BidiGenerateContent"
            ),
        ),
        (
            "ws://127.0.0.1:9/",
            (
                "ws://127.0.0.1:9/ws/google.ai.generativelanguage.v1beta.GenerativeService"
                ".BidiGenerateContent"
            ),
        ),
    ],
)
def test_url_appends_googles_path_and_keeps_the_key_out_of_it(base, url):
    assert gemini_url(base, MODEL) == url
    endpoint = Endpoint(base, MODEL, choose_dialect("auto", MODEL), auth="bearer")
    assert endpoint.url == url and "key" not in endpoint.url
    assert endpoint.headers("k-123") == {"x-goog-api-key": "k-123"}  # whatever the provider says


def test_setup_carries_the_whole_configuration():
    config = cmd.SessionConfig(
        instructions="Be brief.",
        voice="Kore",
        speech_language="de-DE",
        tools=(TOOL,),
        turn_detection=cmd.TurnDetection(threshold=0.3, silence_duration_ms=700),
        context_compression_tokens=20000,
    )
    (wire,) = sent(connection(), cmd.ConfigureSession(config, resume_handle="handle-1"))
    setup = wire["setup"]
    assert setup["model"] == f"models/{MODEL}"
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    speech = setup["generationConfig"]["speechConfig"]
    assert speech == {
        "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}},
        "languageCode": "de-DE",
    }
    assert setup["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    (declaration,) = setup["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "get_weather"
    assert declaration["parametersJsonSchema"] == TOOL.parameters
    detection = setup["realtimeInputConfig"]["automaticActivityDetection"]
    assert detection["disabled"] is False
    assert detection["startOfSpeechSensitivity"] == "START_SENSITIVITY_HIGH"
    assert detection["silenceDurationMs"] == 700
    assert setup["inputAudioTranscription"] == {} and setup["outputAudioTranscription"] == {}
    assert setup["sessionResumption"] == {"handle": "handle-1"}
    assert setup["contextWindowCompression"] == {
        "triggerTokens": 20000,
        "slidingWindow": {"targetTokens": 10000},
    }


def test_push_to_talk_marks_activity_and_asks_nothing_more():
    conn = connection()
    config = cmd.SessionConfig(turn_detection=None, transcription_model=None)
    wires = sent(
        conn,
        cmd.ConfigureSession(config),
        cmd.AppendAudio(bytes(960)),
        cmd.AppendAudio(bytes(960)),
        cmd.CommitAudio(),
        cmd.CreateResponse(),
        cmd.CancelResponse(),
        cmd.TruncateItem(f"{P(conn)}-item-1", 300),
        cmd.AppendAudio(bytes(960)),  # the mic's last block, after the commit: not a new turn
        cmd.ClearAudio(),  # the next turn starts (a press)
        cmd.AppendAudio(bytes(960)),
    )
    setup = wires[0]["setup"]
    assert setup["realtimeInputConfig"] == {"automaticActivityDetection": {"disabled": True}}
    assert "inputAudioTranscription" not in setup
    kinds = [next(iter(w["realtimeInput"])) for w in wires[1:]]
    assert kinds == ["activityStart", "audio", "audio", "activityEnd", "activityStart", "audio"]
    blob = wires[2]["realtimeInput"]["audio"]
    assert blob["mimeType"] == "audio/pcm;rate=16000"
    # 20 ms at 16 kHz, less the last group of samples, held back until the next chunk
    assert 636 <= len(base64.b64decode(blob["data"])) <= 640


def test_hands_free_sends_audio_only():
    conn = connection()
    wires = sent(conn, cmd.ConfigureSession(cmd.SessionConfig()), cmd.AppendAudio(bytes(960)))
    assert list(wires[1]["realtimeInput"]) == ["audio"]
    assert sent(conn, cmd.CommitAudio()) == []


def test_a_spoken_turn_becomes_one_response():
    conn = connection()
    assert receive(conn, {"setupComplete": {"sessionId": "s-1"}}) == (
        ev.SessionStarted("s-1", ""),
        ev.SessionConfigured("s-1"),
    )
    audio = base64.b64encode(b"\x01\x00\x02\x00").decode()
    part = {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": audio}}
    first = receive(conn, {"serverContent": {"modelTurn": {"parts": [part]}}})
    assert first == (
        ev.SpeechStopped(f"{P(conn)}-user-1"),  # Gemini's detection ended the turn: the reply began
        ev.ResponseStarted(f"{P(conn)}-response-1"),
        ev.AudioDelta(f"{P(conn)}-response-1", f"{P(conn)}-item-1", b"\x01\x00\x02\x00"),
    )
    receive(conn, {"serverContent": {"inputTranscription": {"text": "What time"}}})
    receive(conn, {"serverContent": {"inputTranscription": {"text": " is it?"}}})
    receive(conn, {"serverContent": {"outputTranscription": {"text": "It is noon."}}})
    assert receive(conn, {"serverContent": {"generationComplete": True}}) == (
        ev.AudioDone(f"{P(conn)}-response-1", f"{P(conn)}-item-1"),
    )
    usage = {
        "promptTokenCount": 30,
        "responseTokenCount": 50,
        "totalTokenCount": 80,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 10},
            {"modality": "AUDIO", "tokenCount": 20},
        ],
        "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 50}],
    }
    done = receive(conn, {"serverContent": {"turnComplete": True}, "usageMetadata": usage})
    assert done == (
        ev.TranscriptDone("user", f"{P(conn)}-user-1", "What time is it?", from_deltas=True),
        ev.TranscriptDone("assistant", f"{P(conn)}-item-1", "It is noon.", from_deltas=True),
        ev.ResponseDone(
            f"{P(conn)}-response-1",
            "completed",
            usage=ev.Usage(input_text=10, input_audio=20, output_audio=50),
        ),
    )
    # The next turn is numbered anew.
    assert receive(conn, {"serverContent": {"outputTranscription": {"text": "Hi"}}})[:2] == (
        ev.SpeechStopped(f"{P(conn)}-user-2"),
        ev.ResponseStarted(f"{P(conn)}-response-2"),
    )


def test_with_activity_marked_by_us_the_reply_carries_no_speech_edge():
    conn = connection()
    sent(conn, cmd.ConfigureSession(cmd.SessionConfig(turn_detection=None)))
    events = receive(conn, {"serverContent": {"outputTranscription": {"text": "Hi"}}})
    assert not [e for e in events if isinstance(e, ev.SpeechStopped)]


def test_interrupted_stops_the_reply_at_once():
    conn = connection()
    receive(conn, {"serverContent": {"outputTranscription": {"text": "Once upon"}}})
    events = receive(conn, {"serverContent": {"interrupted": True}})
    assert events == (
        ev.SpeechStarted(f"{P(conn)}-user-1"),
        ev.AudioDone(f"{P(conn)}-response-1", f"{P(conn)}-item-1"),
        ev.ResponseDone(f"{P(conn)}-response-1", "cancelled", "turn_detected"),
    )
    assert receive(conn, {"serverContent": {"turnComplete": True}}) == ()


def test_tool_call_round_trip_names_the_function():
    conn = connection()
    call = {"functionCalls": [{"id": "fc-1", "name": "get_weather", "args": {"city": "Oslo"}}]}
    events = receive(conn, {"toolCall": call})
    requested = [e for e in events if isinstance(e, ev.ToolCallRequested)]
    assert requested == [
        ev.ToolCallRequested(
            "fc-1", "get_weather", '{"city": "Oslo"}', f"{P(conn)}-item-1", f"{P(conn)}-response-1"
        )
    ]
    assert isinstance(events[-1], ev.ResponseDone)  # the engine answers it as after response.done
    (wire,) = sent(conn, cmd.SendToolResult("fc-1", '{"temp_c": 4}'))
    assert wire == {
        "toolResponse": {
            "functionResponses": [{"id": "fc-1", "name": "get_weather", "response": {"temp_c": 4}}]
        }
    }
    (wire,) = sent(conn, cmd.SendToolResult("fc-2", "plain words"))
    assert wire["toolResponse"]["functionResponses"][0]["response"] == {"output": "plain words"}
    assert receive(conn, {"toolCallCancellation": {"ids": ["fc-1"]}}) == (
        ev.ToolCallCancelled(("fc-1",)),
    )


def test_go_away_and_resumption_handles():
    conn = connection()
    assert receive(conn, {"goAway": {"timeLeft": "12.5s"}}) == (ev.GoingAway(12.5),)
    update = {"newHandle": "h-2", "resumable": True, "lastConsumedClientMessageIndex": 4}
    assert receive(conn, {"sessionResumptionUpdate": update}) == (ev.ResumptionHandle("h-2", True),)
    assert receive(conn, {"sessionResumptionUpdate": {"resumable": False}}) == (
        ev.ResumptionHandle(None, False),
    )


@pytest.mark.parametrize(
    "frame",
    [
        "[]",
        '{"serverContent": 3}',
        '{"toolCall": {"functionCalls": [{"name": "x"}]}}',
        (
            '{"serverContent": {"modelTurn": {"parts": [{"inlineData": '
            '{"mimeType": "audio/pcm", "data": "@@"}}]}}}'
        ),
    ],
)
def test_bad_messages_are_malformed_not_fatal(frame):
    (event,) = connection().receive(frame)
    assert isinstance(event, ev.MalformedEvent)


def test_unknown_message_is_unrecognized():
    assert connection().receive('{"somethingNew": {}}') == (ev.Unrecognized("somethingNew"),)


def test_closes_explained_in_one_line():
    key = explain_close(1008, "API key not valid. Please pass a valid API key.", MODEL)
    assert key is not None and "keyring set talkapp gemini" in key and "\n" not in key
    model = explain_close(
        1008,
        "models/gemini-2.0-flash is not found for API version v1beta, or is not supported for "
        "bidiGenerateContent.",
        "gemini-2.0-flash",
    )
    assert model is not None and "no Live model gemini-2.0-flash" in model
    setup = explain_close(1007, "Request contains an invalid argument.", MODEL)
    assert setup is not None and "rejected the session setup" in setup
    assert explain_close(4000, "", MODEL) is None


def test_downsampler_keeps_duration_and_level_across_chunks():
    tone = array("h", [8000 if (n // 12) % 2 else -8000 for n in range(2400)])  # 1 kHz square
    whole = Downsampler().convert(tone.tobytes())
    pieces = Downsampler()
    chunked = b"".join(pieces.convert(tone[i : i + 7].tobytes()) for i in range(0, 2400, 7))
    assert whole == chunked
    out = array("h", whole)
    assert abs(len(out) - 1600) <= 2
    assert max(out) > 6000 and min(out) < -6000  # a 1 kHz tone passes


def test_a_typed_turn_joins_the_transcript_when_the_reply_begins():
    conn = connection()
    sent(conn, cmd.SendText("What time is it?"))
    events = receive(conn, {"serverContent": {"outputTranscription": {"text": "Noon."}}})
    assert events[0] == ev.ItemAdded(f"{P(conn)}-user-1", "message", "user", "What time is it?")
    # ... once: the next stretch of the same reply adds nothing.
    receive(conn, {"toolCall": {"functionCalls": [{"id": "c", "name": "f", "args": {}}]}})
    later = receive(conn, {"serverContent": {"outputTranscription": {"text": "More."}}})
    assert not [e for e in later if isinstance(e, (ev.ItemAdded, ev.SpeechStopped))]


_MEMBERS = st.sampled_from(
    [
        "setupComplete",
        "serverContent",
        "modelTurn",
        "parts",
        "inlineData",
        "data",
        "mimeType",
        "text",
        "thought",
        "inputTranscription",
        "outputTranscription",
        "interrupted",
        "generationComplete",
        "turnComplete",
        "usageMetadata",
        "promptTokensDetails",
        "modality",
        "tokenCount",
        "toolCall",
        "functionCalls",
        "id",
        "name",
        "args",
        "toolCallCancellation",
        "ids",
        "goAway",
        "timeLeft",
        "sessionResumptionUpdate",
        "newHandle",
        "resumable",
        "voiceActivity",
        "voiceActivityType",
    ]
)
_LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.just("AAAA")
_GEMINI_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_MEMBERS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(messages=st.lists(st.dictionaries(_MEMBERS, _GEMINI_JSON, max_size=4), max_size=6))
def test_any_message_shaped_json_decodes_without_raising(messages):
    conn = connection()
    for message in messages:
        events = conn.receive(json.dumps(message))
        assert isinstance(events, tuple)
        assert all(type(event).__module__ == ev.__name__ for event in events)
