"""Every example server event in tests/fixtures/protocol decodes to the right normalized event,
with its fields taken from the wire, in the dialect it was recorded in."""

import base64
import json
from pathlib import Path

import pytest
from protocol_fixtures import FIXTURES

from talkapp.protocol import events as ev
from talkapp.protocol.accepted import SessionSummary
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.selection import DIALECTS


def _fixtures(kind: str):
    files = sorted(FIXTURES.glob(f"*/*.{kind}.*.json"))
    return [pytest.param(f, id=f"{f.parent.name}/{f.name}") for f in files]


def _wire_type(path: Path) -> str:
    return json.loads(path.read_text())["type"]


def _expected(raw: dict):
    """What a correct decoder must produce for `raw`, written from the reference, not the code."""
    t = raw["type"]
    renamed = {
        "response.audio.delta": "response.output_audio.delta",
        "response.audio_transcript.delta": "response.output_audio_transcript.delta",
        "response.audio_transcript.done": "response.output_audio_transcript.done",
        "response.audio.done": "response.output_audio.done",
        "response.text.delta": "response.output_text.delta",
        "conversation.item.created": "conversation.item.added",
    }
    t = renamed.get(t, t)
    item = raw.get("item", {})
    match t:
        case "session.created":
            return [
                ev.SessionStarted(
                    raw["session"]["id"], raw["session"]["model"], raw["session"]["expires_at"]
                )
            ]
        case "session.updated":
            s = raw["session"]
            audio = s.get("audio", {})
            voice = s.get("voice") or audio.get("output", {}).get("voice")
            if audio:  # GA: nested under audio.input / audio.output
                output = audio["output"]["format"]
                turn, transcription = (
                    audio["input"]["turn_detection"],
                    audio["input"]["transcription"],
                )
                output_format = f"{output['type']} {output['rate']} Hz"
            else:  # beta: flat
                turn, transcription = s["turn_detection"], s["input_audio_transcription"]
                output_format = s["output_audio_format"]
            accepted = SessionSummary(
                voice=voice,
                turn_detection=turn["type"],
                transcription=transcription["model"],
                output_format=output_format,
                tools=tuple(tool["name"] for tool in s["tools"]),
                stated=("voice", "turn_detection", "transcription", "output_format", "tools"),
            )
            return [ev.SessionConfigured(s["id"], voice, accepted=accepted)]
        case "input_audio_buffer.speech_started":
            return [ev.SpeechStarted(raw["item_id"], raw["audio_start_ms"])]
        case "input_audio_buffer.speech_stopped":
            return [ev.SpeechStopped(raw["item_id"], raw["audio_end_ms"])]
        case "input_audio_buffer.committed":
            return [ev.InputCommitted(raw["item_id"])]
        case "input_audio_buffer.cleared":
            return [ev.InputCleared()]
        case "conversation.item.added":
            texts = [
                c["text"]
                for c in item.get("content", [])
                if c.get("type") in ("input_text", "text", "output_text")
            ]
            added = [ev.ItemAdded(item["id"], item["type"], item.get("role"), " ".join(texts))]
            if item["type"] == "mcp_list_tools":  # an MCP server's tools, shown on a card
                return added + [
                    ev.McpToolsListed(
                        item["id"], item["server_label"], tuple(t["name"] for t in item["tools"])
                    )
                ]
            return added
        case "conversation.item.input_audio_transcription.delta":
            return [ev.TranscriptDelta("user", raw["item_id"], raw["delta"])]
        case "conversation.item.input_audio_transcription.completed":
            return [ev.TranscriptDone("user", raw["item_id"], raw["transcript"])]
        case "response.output_audio_transcript.delta" | "response.output_text.delta":
            return [ev.TranscriptDelta("assistant", raw["item_id"], raw["delta"])]
        case "response.output_audio_transcript.done":
            return [ev.TranscriptDone("assistant", raw["item_id"], raw["transcript"])]
        case "response.output_audio.delta":
            return [
                ev.AudioDelta(raw["response_id"], raw["item_id"], base64.b64decode(raw["delta"]))
            ]
        case "response.output_audio.done":
            return [ev.AudioDone(raw["response_id"], raw["item_id"])]
        case "response.function_call_arguments.delta":
            return [ev.ToolCallArgumentsDelta(raw["call_id"], raw["delta"])]
        case "response.output_item.done" if item["type"] == "function_call":
            return [
                ev.ToolCallRequested(
                    item["call_id"], item["name"], item["arguments"], item["id"], raw["response_id"]
                )
            ]
        case "response.output_item.added" if (
            item["type"] == "function_call"
        ):  # the card opens; arguments stream next
            return [
                ev.ToolCallStarted(item["call_id"], item["name"], item["id"], raw["response_id"])
            ]
        case "response.created":
            return [ev.ResponseStarted(raw["response"]["id"])]
        case "response.done":
            r = raw["response"]
            return [
                (
                    "ResponseDone",
                    r["id"],
                    r["status"],
                    (r["status_details"] or {}).get("reason"),
                    r["usage"],
                )
            ]
        case "conversation.item.truncated":
            return [ev.ItemTruncated(raw["item_id"], raw["audio_end_ms"])]
        case "rate_limits.updated":
            return [ev.RateLimitsUpdated(tuple(ev.RateLimit(**r) for r in raw["rate_limits"]))]
        case "error":
            e = raw["error"]
            return [ev.ServerError(e["code"], e["message"], e["param"], e["type"], e["event_id"])]
        case "mcp_list_tools.completed":
            return [ev.McpListingProgressed(raw["item_id"], "completed")]
        case (
            "conversation.item.done"
            | "response.output_item.added"
            | "response.output_item.done"
            | "response.content_part.added"
            | "response.content_part.done"
            | "response.function_call_arguments.done"
        ):
            return []  # known, nothing for the app (a call is announced once, by output_item.done)
    raise AssertionError(f"no expectation written for {raw['type']}")


def _comparable(event):
    if isinstance(event, ev.ResponseDone):
        return ("ResponseDone", event.response_id, event.status, event.reason, event.usage)
    return event


@pytest.mark.parametrize("path", _fixtures("server"))
def test_fixture_decodes_to_the_right_event(path):
    raw = json.loads(path.read_text())
    decoded = RealtimeConnection(DIALECTS[path.parent.name]).receive(path.read_text())
    expected = _expected(raw)
    if expected and isinstance(expected[0], tuple):
        ((_, rid, status, reason, usage),) = expected
        (got,) = decoded
        assert _comparable(got)[:4] == ("ResponseDone", rid, status, reason)
        details = usage["input_token_details"]
        assert got.usage.input_total == usage["input_tokens"]
        assert got.usage.output_total == usage["output_tokens"]
        assert got.usage.total == usage["total_tokens"]
        assert got.usage.input_cached == details["cached_tokens"]
        assert got.usage.output_audio == usage["output_token_details"]["audio_tokens"]
    else:
        assert list(decoded) == expected


@pytest.mark.parametrize("dialect", ["beta", "ga"])
def test_the_other_dialects_event_names_are_not_understood(dialect):
    """The renamed events are table entries: a GA audio delta means nothing to the beta table."""
    other = {"beta": "ga", "ga": "beta"}[dialect]
    audio = next(FIXTURES.glob(f"{other}/*.server.response.*audio.delta.json"))
    (event,) = RealtimeConnection(DIALECTS[dialect]).receive(audio.read_text())
    assert event == ev.Unrecognized(_wire_type(audio))


def test_every_server_fixture_type_is_in_its_dialect_table():
    for path in FIXTURES.glob("*/*.server.*.json"):
        assert _wire_type(path) in DIALECTS[path.parent.name].decoders, path.name
