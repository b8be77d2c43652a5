"""MCP end to end (GA): the real engine with MCP servers from its toolbox, the simulator over a
real socket. The servers' tool lists and calls show as cards; an approval request reaches the
owner, whose answer (approve or deny) goes back as an item followed by exactly one reply; a
remembered answer is given without asking; beta sessions leave MCP out and say so; the auth
header reaches the wire but never a session recording."""

from __future__ import annotations

import json

import pytest
from engine_harness import running_engines
from test_tool_flow import client_events, kinds, spoken_reply

from talkapp.protocol import events as ev
from talkapp.protocol.commands import McpServer
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.selection import DIALECTS
from talkapp.session import engine_events as out
from talkapp.session.engine import Engine
from talkapp.session.turns import Mode
from talkapp.tools.toolbox import ToolBox

DOCS = McpServer(
    "docs",
    "https://mcp.example.invalid/mcp",
    require_approval="always",
    auth_header="Authorization",
    auth_value="Bearer mcp-s3cret-value",
)
OPEN = McpServer(
    "open", "https://open.example.invalid/mcp", allowed_tools=("lookup",), require_approval="never"
)
ASK = "Search the docs for the release notes"


def settled_cards(engine: Engine, kind: str) -> list:
    return [c for c in engine.transcript.cards() if c.kind == kind and c.settled]


async def test_the_servers_are_declared_and_their_tool_lists_show(engine_with, simulator):
    engine, log = await engine_with(DOCS, OPEN)
    declared = [t for t in client_events(simulator)[0]["session"]["tools"] if t["type"] == "mcp"]
    assert [(t["server_label"], t["require_approval"]) for t in declared] == [
        ("docs", "always"),
        ("open", "never"),
    ]
    assert declared[0]["headers"] == {"Authorization": "Bearer mcp-s3cret-value"} and declared[1][
        "allowed_tools"
    ] == ["lookup"]
    await log.wait_for(
        lambda e: (
            isinstance(e, out.ToolCardChanged)
            and e.card.kind == "mcp_list"
            and e.card.name == "open"
            and e.card.status == "done"
            and e.card.result
        )
    )
    lists = {c.name: (c.status, c.result) for c in settled_cards(engine, "mcp_list")}
    assert lists == {"docs": ("done", "search, fetch"), "open": ("done", "lookup")}


async def test_a_call_without_approval_shows_its_card_and_is_spoken(engine_with, simulator):
    engine, log = await engine_with(OPEN)
    await engine.send_text("Please lookup the opening hours")
    said = await spoken_reply(log, "returned")
    (call,) = settled_cards(engine, "mcp")
    assert (call.name, call.server, call.status) == ("lookup", "open", "done")
    assert (
        json.loads(call.result)["simulated"] is True
        and json.loads(call.arguments)
        and call.duration_ms is not None
    )
    assert "The lookup tool of the open MCP server returned" in said
    assert kinds(client_events(simulator)[1:]) == [
        "message",
        "response.create",
    ]  # the service ran it: nothing to send
    assert not log.of(out.ApprovalRequested)


@pytest.mark.parametrize("approve", [True, False])
async def test_an_approval_request_is_answered_by_the_user_then_one_reply_follows(
    engine_with, simulator, approve
):
    engine, log = await engine_with(DOCS)
    await engine.send_text(ASK)
    asked = await log.wait_for(lambda e: isinstance(e, out.ApprovalRequested))
    assert (asked.server, asked.tool) == ("docs", "search") and json.loads(asked.arguments)["query"]
    await engine.answer_approval(asked.request_id, approve)
    said = await spoken_reply(log, "returned" if approve else "not approved")

    sent = client_events(simulator)[1:]
    assert kinds(sent) == ["message", "response.create", "mcp_approval_response", "response.create"]
    answer = sent[2]["item"]
    assert (answer["approval_request_id"], answer["approve"]) == (asked.request_id, approve)
    assert ("reason" in answer) == (not approve)
    (card,) = settled_cards(engine, "mcp_approval")
    assert card.status == ("approved" if approve else "denied") and card.note == ""
    assert bool(settled_cards(engine, "mcp")) == approve
    assert ("returned" in said) == approve
    assert not await engine.tools.answer(asked.request_id, True)  # answered once, not twice
    assert simulator.connections[-1].errors == []


async def test_a_remembered_answer_is_given_without_asking(engine_with, simulator):
    engine, log = await engine_with(DOCS, remembered=((DOCS.url, "search", True),))
    await engine.send_text(ASK)
    await spoken_reply(log, "returned")
    assert not log.of(out.ApprovalRequested)
    (card,) = settled_cards(engine, "mcp_approval")
    assert (card.status, card.note) == ("approved", "remembered")
    assert kinds(client_events(simulator)[1:]) == [
        "message",
        "response.create",
        "mcp_approval_response",
        "response.create",
    ]


async def test_remember_for_this_tool_answers_the_next_request_itself(engine_with, simulator):
    engine, log = await engine_with(DOCS)
    await engine.send_text(ASK)
    first = await log.wait_for(lambda e: isinstance(e, out.ApprovalRequested))
    await engine.answer_approval(first.request_id, False, remember=True)
    await spoken_reply(log, "not approved")
    await engine.send_text("Search the docs again, please")
    await log.wait_for(
        lambda _: (
            len([t for t in engine.transcript.turns() if t.final and "not approved" in t.text]) == 2
        )
    )
    assert len(log.of(out.ApprovalRequested)) == 1
    assert [(c.status, c.note) for c in settled_cards(engine, "mcp_approval")] == [
        ("denied", "remembered from now on"),
        ("denied", "remembered"),
    ]


async def test_a_beta_session_leaves_mcp_out_and_says_so(engine_with, simulator):
    _, log = await engine_with(DOCS, model="gpt-4o-realtime-preview")
    assert [t for t in client_events(simulator)[0]["session"]["tools"] if t["type"] == "mcp"] == []
    notice = await log.wait_for(lambda e: isinstance(e, out.Notice) and "MCP" in e.text)
    assert "GA models only" in notice.text and simulator.connections[-1].errors == []


async def test_the_auth_header_reaches_the_wire_but_never_a_recording(
    engine_with, simulator, tmp_path
):
    engine, log = await engine_with(DOCS, record_to=tmp_path)
    await engine.send_text(ASK)
    asked = await log.wait_for(lambda e: isinstance(e, out.ApprovalRequested))
    await engine.answer_approval(asked.request_id, True)
    await spoken_reply(log, "returned")
    await engine.stop()
    assert "mcp-s3cret-value" in json.dumps(simulator.connections[-1].received)
    written = "".join(
        p.read_text(errors="replace")
        for p in tmp_path.rglob("*")
        if p.is_file() and p.suffix != ".wav"
    )
    assert (
        "ConfigureSession" in written
        and "[redacted]" in written
        and "mcp-s3cret-value" not in written
    )


async def test_a_server_that_is_not_openais_gets_no_mcp_servers_without_the_profiles_opt_in(
    pulse, simulator
):
    # The profile of every other test here opts in; this one does not, and its server (not
    # OpenAI's host, not Azure) must not see the servers nor their auth headers.
    async with running_engines(simulator) as start:
        _, log = await start(Mode.PUSH_TO_TALK, tools=ToolBox(mcp_servers=(DOCS,)))
        notice = await log.wait_for(lambda e: isinstance(e, out.Notice) and "MCP" in e.text)
    assert "not sent to 127.0.0.1" in notice.text
    assert "mcp-s3cret-value" not in json.dumps(simulator.connections[-1].received)
    assert [t for t in client_events(simulator)[0]["session"]["tools"] if t["type"] == "mcp"] == []


# ---- the wire, decoded (sans I/O) ----


def decoded(event: dict, dialect: str = "ga") -> tuple:
    return RealtimeConnection(DIALECTS[dialect]).receive(
        json.dumps({"event_id": "event_1", **event})
    )


def test_mcp_events_decode_to_facts_announced_once():
    call = {
        "id": "mcp_1",
        "type": "mcp_call",
        "server_label": "docs",
        "name": "search",
        "arguments": '{"q":"x"}',
    }
    assert decoded(
        {
            "type": "response.output_item.added",
            "response_id": "resp_1",
            "output_index": 0,
            "item": {**call, "arguments": ""},
        }
    ) == (ev.McpCallStarted("mcp_1", "docs", "search", "resp_1"),)
    assert decoded(
        {
            "type": "response.mcp_call_arguments.delta",
            "response_id": "resp_1",
            "item_id": "mcp_1",
            "output_index": 0,
            "delta": '{"q"',
            "obfuscation": "zz",
        }
    ) == (ev.McpCallArgumentsDelta("mcp_1", '{"q"'),)
    for known in (
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
    ):
        assert (
            decoded(
                {
                    "type": known,
                    "response_id": "resp_1",
                    "item_id": "mcp_1",
                    "output_index": 0,
                    "arguments": "",
                }
            )
            == ()
        )
    done = {"type": "response.output_item.done", "response_id": "resp_1", "output_index": 0}
    assert decoded({**done, "item": {**call, "output": "found"}}) == (
        ev.McpCallDone("mcp_1", "docs", "search", '{"q":"x"}', "found", None, "resp_1"),
    )
    failed = decoded(
        {
            **done,
            "item": {
                **call,
                "error": {"type": "http_error", "code": 502, "message": "bad gateway"},
            },
        }
    )
    assert failed[0].error == "http error 502: bad gateway" and failed[0].output is None
    request = {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "docs",
        "name": "search",
        "arguments": "{}",
    }
    assert decoded({**done, "item": request}) == (
        ev.McpApprovalRequested("mcpr_1", "docs", "search", "{}", "resp_1"),
    )
    assert decoded({"type": "mcp_list_tools.failed", "item_id": "mcpl_1"}) == (
        ev.McpListingProgressed("mcpl_1", "failed"),
    )
    listed = {
        "id": "mcpl_1",
        "type": "mcp_list_tools",
        "server_label": "docs",
        "tools": [{"name": "search", "input_schema": {}}],
    }
    assert decoded(
        {"type": "conversation.item.done", "previous_item_id": None, "item": listed}
    ) == (ev.McpToolsListed("mcpl_1", "docs", ("search",)),)
    assert decoded({"type": "mcp_list_tools.completed", "item_id": "mcpl_1"}, "beta") == (
        ev.Unrecognized("mcp_list_tools.completed"),
    )  # MCP is GA only


def test_a_function_call_cut_short_is_not_a_call_to_run():
    item = {
        "id": "item_1",
        "type": "function_call",
        "status": "incomplete",
        "name": "get_weather",
        "call_id": "call_1",
        "arguments": '{"ci',
    }
    for dialect in ("ga", "beta"):
        assert (
            decoded(
                {
                    "type": "response.output_item.done",
                    "response_id": "resp_1",
                    "output_index": 0,
                    "item": item,
                },
                dialect,
            )
            == ()
        )


async def test_a_card_whose_reply_was_cut_off_says_it_did_not_run():
    from test_tool_flow import runner

    tools, r = runner()
    await tools.on_event(ev.ToolCallStarted("call_1", "get_weather", "item_1", "resp_1"))
    await tools.on_event(ev.ToolCallArgumentsDelta("call_1", '{"ci'))
    await tools.on_event(ev.ResponseDone("resp_1", "cancelled"))
    assert (
        r.cards[-1].status == "failed"
        and "cut off" in r.cards[-1].error
        and r.go_on == []
        and r.sent == []
    )
