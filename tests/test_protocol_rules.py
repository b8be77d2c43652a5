"""Dialect selection, refusals in plain words, and the layering rule of the protocol package."""

import ast
import json
import sys
from pathlib import Path

import pytest

from talkapp.protocol import commands as cmd
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.dialect import realtime_url
from talkapp.protocol.events import ServerError
from talkapp.protocol.explain import explain, is_dialect_refusal
from talkapp.protocol.selection import DIALECTS, choose_dialect

PROTOCOL = Path(__file__).resolve().parents[1] / "talkapp" / "protocol"


@pytest.mark.parametrize(
    "model, dialect",
    [
        ("gpt-4o-realtime-preview", "beta"),
        ("gpt-4o-realtime-preview-2024-12-17", "beta"),
        ("gpt-4o-mini-realtime-preview-2024-12-17", "beta"),
        ("gpt-realtime", "ga"),
        ("gpt-realtime-mini", "ga"),
        ("gpt-realtime-2", "ga"),
        ("gpt-realtime-2.1-mini", "ga"),
        ("gpt-realtime-7-turbo", "ga"),  # future ids go to the living dialect
        ("my-azure-deployment", "ga"),
    ],
)
def test_auto_routes_by_model_id(model, dialect):
    choice = choose_dialect("auto", model)
    assert choice.dialect.name == dialect
    assert choice.describe().endswith("(auto)")


@pytest.mark.parametrize("setting", ["beta", "ga"])
@pytest.mark.parametrize("model", ["gpt-4o-realtime-preview", "gpt-realtime-2"])
def test_an_explicit_setting_always_wins(setting, model):
    choice = choose_dialect(setting, model)
    assert choice.dialect.name == setting
    assert "auto" not in choice.describe()


def test_an_unknown_setting_is_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="auto, beta, ga"):
        choose_dialect("v2", "gpt-realtime")


def test_only_beta_sends_the_beta_header():
    beta, ga = choose_dialect("beta", "m").dialect, choose_dialect("ga", "m").dialect
    assert beta.headers("k") == {"Authorization": "Bearer k", "OpenAI-Beta": "realtime=v1"}
    assert ga.headers("k") == {"Authorization": "Bearer k"}


@pytest.mark.parametrize(
    "base, url",
    [
        ("https://api.openai.com/v1", "wss://api.openai.com/v1/realtime?model=gpt-realtime"),
        ("http://127.0.0.1:8765/v1/", "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime"),
        ("wss://example.test/v1/realtime", "wss://example.test/v1/realtime?model=gpt-realtime"),
    ],
)
def test_realtime_url(base, url):
    assert realtime_url(base, "gpt-realtime") == url


def test_session_shapes_differ_exactly_where_the_dialects_do():
    config = cmd.SessionConfig(voice="ash", instructions="hi", max_output_tokens=100)
    ga = json.loads(
        RealtimeConnection(choose_dialect("ga", "m").dialect).send(cmd.ConfigureSession(config))
    )["session"]
    beta = json.loads(
        RealtimeConnection(choose_dialect("beta", "m").dialect).send(cmd.ConfigureSession(config))
    )["session"]
    assert ga["type"] == "realtime" and "type" not in beta
    assert ga["output_modalities"] == ["audio"] and beta["modalities"] == ["audio", "text"]
    assert ga["audio"]["output"]["voice"] == "ash" and beta["voice"] == "ash"
    assert ga["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert beta["input_audio_format"] == "pcm16"
    assert ga["max_output_tokens"] == 100 and beta["max_response_output_tokens"] == 100


def _error(code, message="m", param=None):
    return ServerError(code=code, message=message, param=param)


@pytest.mark.parametrize(
    "error, setting_named",
    [
        (_error("beta_api_shape_disabled"), "--api ga"),
        (_error("invalid_beta", "Unknown beta requested: 'realtime'."), "--api ga"),
        (
            _error(
                "missing_required_parameter",
                "Missing required parameter: 'session.type'.",
                "session.type",
            ),
            "--api ga",
        ),
        (
            _error("unknown_parameter", "Unknown parameter: 'session.type'.", "session.type"),
            "--api beta",
        ),
    ],
)
def test_dialect_refusals_name_the_setting_that_fixes_them(error, setting_named):
    line = explain(error, "gpt-realtime-2", choose_dialect("auto", "gpt-realtime-2"))
    assert setting_named in line and "dialect" in line
    assert "\n" not in line
    assert is_dialect_refusal(error)


def test_a_rejected_key_is_explained_without_repeating_the_services_message():
    error = _error("invalid_api_key", "Incorrect API key provided: sk-abc***wxyz. You can find …")
    line = explain(error, "gpt-realtime", choose_dialect("auto", "gpt-realtime"))
    assert "sk-" not in line and "OPENAI_API_KEY" in line
    assert not is_dialect_refusal(error)


def test_missing_authentication_and_unknown_model_are_explained():
    choice = choose_dialect("auto", "gpt-nope")
    assert "No API key" in explain(
        _error(None, "Missing bearer or basic authentication in header"), "gpt-nope", choice
    )
    assert "gpt-nope" in explain(
        _error("invalid_model", 'Model "gpt-nope" is not supported'), "gpt-nope", choice
    )


def test_other_errors_keep_the_services_message():
    line = explain(
        _error("item_truncate_invalid_item_id", "Item with item_id not found: x"),
        "m",
        choose_dialect("ga", "m"),
    )
    assert "item_truncate_invalid_item_id" in line and "not found" in line


@pytest.mark.parametrize(
    "error, says",
    [
        (_error("rate_limit_exceeded", "Rate limit reached"), "wait a few seconds"),
        (_error("insufficient_quota", "You exceeded your current quota"), "billing"),
        (ServerError(None, "The server had an error", error_type="server_error"), "not your fault"),
        (_error("invalid_json", "Invalid event: failed to parse JSON value"), "TalkApp bug"),
    ],
)
def test_service_errors_say_what_to_do(error, says):
    assert says in explain(error, "gpt-realtime", choose_dialect("auto", "gpt-realtime"))


def test_the_protocol_package_imports_only_the_standard_library_and_itself():
    stdlib = set(sys.stdlib_module_names)
    for path in PROTOCOL.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or name.startswith("talkapp.protocol"), (
                    f"{path.name} imports {name}"
                )
                assert top != "asyncio", f"{path.name} imports asyncio"


# ---- values on the wire (mutants that a shape check lets through) ----


@pytest.mark.parametrize("dialect", ["beta", "ga"])
def test_a_cancel_names_the_response_and_a_truncate_never_goes_below_zero(dialect):
    wire = RealtimeConnection(DIALECTS[dialect])
    cancel = json.loads(wire.send(cmd.CancelResponse("resp_1")))
    assert (cancel["type"], cancel["response_id"]) == ("response.cancel", "resp_1")
    assert "response_id" not in json.loads(wire.send(cmd.CancelResponse()))  # "the active one"
    truncate = json.loads(wire.send(cmd.TruncateItem("item_a", -5)))
    assert (truncate["item_id"], truncate["content_index"], truncate["audio_end_ms"]) == (
        "item_a",
        0,
        0,
    )


def test_cached_input_tokens_are_read_from_their_own_count():
    usage = {
        "total_tokens": 70,
        "input_tokens": 50,
        "output_tokens": 20,
        "input_token_details": {
            "text_tokens": 10,
            "audio_tokens": 40,
            "image_tokens": 0,
            "cached_tokens": 30,
            "cached_tokens_details": {"text_tokens": 5, "audio_tokens": 25},
        },
        "output_token_details": {"text_tokens": 4, "audio_tokens": 16},
    }
    done = {
        "type": "response.done",
        "event_id": "event_1",
        "response": {"id": "resp_1", "status": "completed", "status_details": None, "usage": usage},
    }
    (event,) = RealtimeConnection(DIALECTS["ga"]).receive(json.dumps(done))
    got = event.usage
    assert (got.input_text, got.input_audio, got.input_cached) == (10, 40, 30)
    assert (got.input_cached_text, got.input_cached_audio, got.output_text, got.output_audio) == (
        5,
        25,
        4,
        16,
    )
