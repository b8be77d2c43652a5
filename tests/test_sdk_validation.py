"""Every client event TalkApp emits passes the official SDK's types for its dialect, strictly."""

import json

import pytest
from sdk_strict import problems

from talkapp.protocol import commands as cmd
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.selection import DIALECTS

WEATHER = cmd.FunctionTool(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)

CONFIGS = {
    "defaults": cmd.SessionConfig(),
    "everything": cmd.SessionConfig(
        instructions="Be brief.",
        voice="ash",
        turn_detection=cmd.TurnDetection(
            threshold=0.6, prefix_padding_ms=200, silence_duration_ms=400
        ),
        transcription_model="whisper-1",
        transcription_language="en",
        noise_reduction="far_field",
        tools=(WEATHER,),
        max_output_tokens=512,
        speed=1.1,
    ),
    "semantic_vad": cmd.SessionConfig(
        turn_detection=cmd.TurnDetection(kind="semantic_vad", eagerness="high")
    ),
    "manual_text_only": cmd.SessionConfig(
        turn_detection=None, transcription_model=None, output="text"
    ),
    "built_in_tools_and_mcp": cmd.SessionConfig(
        tools=(WEATHER, cmd.FunctionTool("read_clipboard", "Read the clipboard.")),
        mcp_servers=(
            cmd.McpServer(
                "docs",
                "https://mcp.example.invalid/mcp",
                ("search", "fetch"),
                "always",
                "Authorization",
                "Bearer t0ken",
            ),
            cmd.McpServer("open", "https://open.example.invalid/mcp", require_approval="never"),
        ),
    ),
}

COMMANDS = [
    *(cmd.ConfigureSession(config) for config in CONFIGS.values()),
    cmd.AppendAudio(b"\x00\x01" * 480),
    cmd.CommitAudio(),
    cmd.ClearAudio(),
    cmd.CreateResponse(),
    cmd.CancelResponse(),
    cmd.CancelResponse("resp_123"),
    cmd.TruncateItem("item_abc", 1234),
    cmd.SendText("What's the weather in Paris?"),
    cmd.SendToolResult("call_abc", '{"temperature_c": 18}'),
    cmd.AddHistory("user", "What's the weather in Paris?"),
    cmd.AddHistory("assistant", "Sunny and 21 degrees."),
]


@pytest.mark.parametrize("dialect", ["beta", "ga"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_every_command_validates_against_the_sdk_types_of_its_dialect(dialect, command):
    wire = json.loads(RealtimeConnection(DIALECTS[dialect]).send(command))
    assert problems(wire, dialect) == []


def test_mcp_servers_are_ga_tools_that_the_sdk_accepts_and_beta_leaves_them_out():
    config = CONFIGS["built_in_tools_and_mcp"]
    ga = json.loads(RealtimeConnection(DIALECTS["ga"]).send(cmd.ConfigureSession(config)))
    mcp = [t for t in ga["session"]["tools"] if t["type"] == "mcp"]
    assert mcp == [
        {
            "type": "mcp",
            "server_label": "docs",
            "server_url": "https://mcp.example.invalid/mcp",
            "require_approval": "always",
            "allowed_tools": ["search", "fetch"],
            "headers": {"Authorization": "Bearer t0ken"},
        },
        {
            "type": "mcp",
            "server_label": "open",
            "server_url": "https://open.example.invalid/mcp",
            "require_approval": "never",
        },
    ]
    assert problems(ga, "ga") == []
    beta = json.loads(RealtimeConnection(DIALECTS["beta"]).send(cmd.ConfigureSession(config)))
    assert [t["type"] for t in beta["session"]["tools"]] == ["function", "function"]


@pytest.mark.parametrize(
    "approve, reason", [(True, None), (False, "The user declined this tool call.")]
)
def test_an_approval_answer_is_a_ga_item_that_the_sdk_accepts(approve, reason):
    wire = json.loads(
        RealtimeConnection(DIALECTS["ga"]).send(
            cmd.AnswerApproval("mcpr_K7wQ6aBcDeFgHiJkLmNoP", approve, reason)
        )
    )
    item = wire["item"]
    assert (item["type"], item["approval_request_id"], item["approve"], item.get("reason")) == (
        "mcp_approval_response",
        "mcpr_K7wQ6aBcDeFgHiJkLmNoP",
        approve,
        reason,
    )
    assert len(item["id"]) <= 32  # the SDK's type requires an id; the service caps ids at 32
    assert problems(wire, "ga") == []


def test_the_mcp_auth_header_never_shows_in_a_repr():
    server = cmd.McpServer(
        "docs", "https://x.invalid", auth_header="Authorization", auth_value="Bearer s3cret"
    )
    assert "s3cret" not in repr(cmd.SessionConfig(mcp_servers=(server,)))


def test_reasoning_effort_is_a_ga_field_that_the_sdk_accepts():
    config = cmd.SessionConfig(reasoning_effort="low")
    wire = json.loads(RealtimeConnection(DIALECTS["ga"]).send(cmd.ConfigureSession(config)))
    assert wire["session"]["reasoning"] == {"effort": "low"}
    assert problems(wire, "ga") == []
    beta_wire = json.loads(RealtimeConnection(DIALECTS["beta"]).send(cmd.ConfigureSession(config)))
    assert "reasoning" not in beta_wire["session"]


def test_the_strict_check_catches_the_seed_bug_both_ways():
    """A beta-shaped session on GA and a GA session on beta are refused by the SDK's types too,
    which shows the check can fail."""
    beta_session = json.loads(
        RealtimeConnection(DIALECTS["beta"]).send(cmd.ConfigureSession(cmd.SessionConfig()))
    )
    ga_session = json.loads(
        RealtimeConnection(DIALECTS["ga"]).send(cmd.ConfigureSession(cmd.SessionConfig()))
    )
    assert any("type" in p for p in problems(beta_session, "ga"))
    assert any("session.type" in p or "session.audio" in p for p in problems(ga_session, "beta"))
