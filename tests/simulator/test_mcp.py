"""The simulator's MCP behaviour (GA only) and parallel function calls, over a real socket with
raw JSON: the tool list on a session with an `mcp` tool, a call the service runs itself, the
approval round-trip both ways, and every event it sends checked against the official SDK."""

from __future__ import annotations

import json

import pytest

from talkapp.simulator import Simulator

from .conftest import MANUAL, collapsed, fast_config, session, types
from .test_sdk import SERVER

DOCS = {
    "type": "mcp",
    "server_label": "docs",
    "server_url": "https://mcp.example.invalid/mcp",
    "require_approval": "always",
}
OPEN = {**DOCS, "server_label": "open", "require_approval": "never", "allowed_tools": ["lookup"]}
TEXT = {"type": "realtime", **MANUAL["ga"], "output_modalities": ["text"]}


def said(text: str) -> dict:
    content = [{"type": "input_text", "text": text}]
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": content},
    }


async def ask(c, text: str, dialect: str = "ga") -> list[dict]:
    """A typed user message, then one response, to its end."""
    await c.send(said(text))
    await c.until("conversation.item.done" if dialect == "ga" else "conversation.item.created")
    await c.send({"type": "response.create"})
    return await c.turn()


def outputs(turn: list[dict]) -> list[dict]:
    return turn[-2]["response"]["output"]


def approval(request_id: str, approve: bool, item_id: str = "mcpa_1") -> dict:
    item = {
        "type": "mcp_approval_response",
        "id": item_id,
        "approval_request_id": request_id,
        "approve": approve,
    }
    return {"type": "conversation.item.create", "item": item}


async def test_a_session_with_an_mcp_tool_lists_its_tools_at_once(sim):
    async with session(sim, "ga") as c:
        await c.send({"type": "session.update", "session": {**TEXT, "tools": [DOCS, OPEN]}})
        events = await c.until(
            lambda e: e["type"] == "conversation.item.done" and e["item"]["server_label"] == "open"
        )
        await c.send({"type": "session.update", "session": {**TEXT, "tools": [DOCS, OPEN]}})
        again = await c.until("session.updated")  # the same servers are not listed again
    one = [
        "conversation.item.added",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "conversation.item.done",
    ]
    assert types(events) == ["session.updated", *one, *one]
    docs, opened = (e["item"] for e in events if e["type"] == "conversation.item.done")
    assert docs["id"].startswith("mcpl_") and [t["name"] for t in docs["tools"]] == [
        "search",
        "fetch",
    ]
    assert [t["name"] for t in opened["tools"]] == ["lookup"]  # from allowed_tools
    assert events[1]["item"]["tools"] == [] and events[2]["item_id"] == docs["id"]
    assert types(again) == ["session.updated"]


async def test_a_server_that_needs_no_approval_is_called_and_its_output_spoken(sim):
    async with session(sim, "ga", update={**TEXT, "tools": [OPEN]}) as c:
        await c.until("conversation.item.done")
        turn = await ask(c, "Please lookup the opening hours")
    assert collapsed(turn)[:10] == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "conversation.item.done",
        "response.output_item.done",
        "response.output_item.added",
    ]
    call, message = outputs(turn)
    assert (call["type"], call["server_label"], call["name"]) == ("mcp_call", "open", "lookup")
    assert json.loads(call["output"])["simulated"] is True and "approval_request_id" not in call
    added = [e for e in turn if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [0, 1]
    assert "The lookup tool of the open MCP server returned" in message["content"][0]["text"]


@pytest.mark.parametrize("approve", [True, False])
async def test_an_approval_round_trip(sim, approve):
    async with session(sim, "ga", update={**TEXT, "tools": [DOCS]}) as c:
        await c.until("conversation.item.done")
        asked = await ask(c, "Search the docs for the release notes")
        (request,) = outputs(asked)
        assert (request["type"], request["server_label"], request["name"]) == (
            "mcp_approval_request",
            "docs",
            "search",
        )
        assert request["id"].startswith("mcpr_") and json.loads(request["arguments"])["query"]
        await c.send(approval("mcpr_nope", True))
        assert (await c.recv())["error"]["param"] == "item.approval_request_id"
        await c.send(approval(request["id"], approve))
        (await c.until("conversation.item.done"))
        await c.send(approval(request["id"], approve, "mcpa_2"))  # answered already
        assert (await c.recv())["error"]["param"] == "item.approval_request_id"
        await c.send({"type": "response.create"})
        answered = await c.turn()
    if approve:
        call, message = outputs(answered)
        assert call["type"] == "mcp_call" and call["approval_request_id"] == request["id"]
        assert "returned" in message["content"][0]["text"]
    else:
        (message,) = outputs(answered)
        assert "was not approved, so I did not run it" in message["content"][0]["text"]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_text_naming_two_functions_calls_both_in_one_response(sim, dialect):
    tools = [
        {"type": "function", "name": "get_current_time", "parameters": {"type": "object"}},
        {"type": "function", "name": "calculate", "parameters": {"type": "object"}},
    ]
    update = {**MANUAL[dialect], "tools": tools} | ({"type": "realtime"} if dialect == "ga" else {})
    async with session(sim, dialect, update=update) as c:
        turn = await ask(c, "Use calculate and get_current_time", dialect)
    calls = outputs(turn)
    assert [(o["type"], o["name"]) for o in calls] == [
        ("function_call", "get_current_time"),
        ("function_call", "calculate"),
    ]
    done = [e for e in turn if e["type"] == "response.output_item.done"]
    assert [e["output_index"] for e in done] == [0, 1]


async def test_the_beta_dialect_has_no_mcp_tools(sim):
    async with session(sim, "beta") as c:
        await c.send({"type": "session.update", "session": {"tools": [DOCS]}})
        error = await c.recv()
    assert error["type"] == "error" and error["error"]["param"].startswith("session.tools[0]")


async def test_every_mcp_event_validates_against_the_sdk():
    async with (
        Simulator(fast_config()) as sim,
        session(sim, "ga", update={**TEXT, "tools": [DOCS, OPEN]}) as c,
    ):
        await c.until(
            lambda e: e["type"] == "conversation.item.done" and e["item"]["server_label"] == "open"
        )
        await ask(c, "Please lookup the opening hours")
        (request,) = outputs(await ask(c, "Search the docs for the release notes"))
        await c.send(approval(request["id"], True))
        await c.until("conversation.item.done")
        await c.send({"type": "response.create"})
        await c.turn()
    sent = sim.connections[0].sent
    assert {
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
    } <= {e["type"] for e in sent}
    items = {e["item"]["type"] for e in sent if "item" in e}
    assert {"mcp_list_tools", "mcp_call", "mcp_approval_request", "mcp_approval_response"} <= items
    failures = []
    for event in sent:
        try:
            SERVER["ga"].validate_python(event)
        except Exception as exc:  # noqa: BLE001 - collected and shown together
            failures.append(f"{event['type']}: {exc}")
    assert failures == []
    assert sim.connections[0].errors == []
