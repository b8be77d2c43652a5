"""The tool registry and the built-in tools on their own: the calculator refuses anything but
arithmetic, the clipboard tool refuses until the user allowed it, the clock names its zone; the
tool settings survive the settings file; MCP header values come from the real OS keyring (a
private Secret Service) into the session's MCP tools and nowhere else."""

import asyncio
import datetime as dt
import json
import os
from pathlib import Path

import pytest

from talkapp.protocol.commands import FunctionTool
from talkapp.settings.model import (
    McpServerSettings,
    RememberedApproval,
    Settings,
    ToolSettings,
    from_json,
    to_json,
)
from talkapp.tools import builtin
from talkapp.tools.calculator import CalculatorError, evaluate, formatted
from talkapp.tools.isolated import IsolatedFailure, run_isolated
from talkapp.tools.mcp import (
    forget_header_value,
    has_header_value,
    new_secret_name,
    store_header_value,
)
from talkapp.tools.registry import Tool, ToolFailed, ToolRegistry
from talkapp.tools.toolbox import open_toolbox

URL = "https://mcp.example.invalid/mcp"


def run(coro):
    return asyncio.run(coro)


# ---- the calculator ----


@pytest.mark.parametrize(
    "expression, value",
    [
        ("2 + 2", 4),
        ("(17.5 * 3) / 4", 13.125),
        ("2 ** 10", 1024),
        ("2^8", 256),
        ("-(3 - 5) * 4", 8),
        ("sqrt(16) + abs(-2)", 6.0),
        ("round(pi, 3)", 3.142),
        ("7 // 2 + 7 % 2", 4),
        ("max(1, 5, 3)", 5),
        ("1e3 / 8", 125.0),
    ],
)
def test_the_calculator_does_arithmetic(expression, value):
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize(
    "expression, why",
    [
        ("__import__('os').system('echo hacked')", "not allowed"),
        ("open('/etc/passwd').read()", "not allowed"),
        ("(1).__class__.__bases__", "not allowed"),
        ("[x for x in range(10)]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("'a' * 3", "not allowed"),
        ("x = 3", "not an arithmetic expression"),
        ("True + 1", "not True or False"),
        ("9 ** 9 ** 9", "Exponents larger than"),
        ("10 ** 400", "too large"),
        ("1 / 0", "division by zero"),
        ("sqrt(-1)", "cannot be computed"),
        ("1 +" * 200 + "1", "longer than"),
        ("", "empty"),
        ("round(1, -10**7)", "round\\(\\) to more than"),
        ("round(7, -10**300)", "round\\(\\) to more than"),
        ("round(2.5, 0.5)", "whole number"),
        ("round(1, 2, 3)", "at most a count"),
        ("999999 ** 999", "too large"),
        ("(10**299) ** 2", "too large"),
    ],
)
def test_the_calculator_refuses_what_is_not_safe_arithmetic(expression, why):
    with pytest.raises(CalculatorError, match=why):
        evaluate(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "round(1, -10**7)",
        "round(7, -10**300)",
        "9 ** 9 ** 9",
        "(10**300) ** 1000",
        "999 ** 1000",
        "10**300 * 10**300 * 10**300",
        "max(10**300, 10**300) ** 1000",
        "round(10**300, -401)",
    ],
)
def test_hostile_expressions_are_refused_before_they_cost_anything(expression):
    # Each would take seconds, gigabytes or forever to compute: the operands are checked
    # before the operation runs (a refusal after computing would hang this test instead).
    with pytest.raises(CalculatorError):
        evaluate(expression)


def test_results_read_as_a_person_says_them():
    assert (
        formatted(4.0) == "4"
        and formatted(0.1 + 0.2) == "0.3"
        and formatted(2**40) == "1099511627776"
    )


def test_the_calculate_tool_answers_the_model_and_refuses_through_tool_failed():
    assert json.loads(run(builtin.calculate({"expression": "6*7"}))) == {
        "expression": "6*7",
        "result": "42",
    }
    with pytest.raises(ToolFailed, match="not allowed"):
        run(builtin.calculate({"expression": "__import__('os')"}))
    with pytest.raises(ToolFailed, match="as a string"):
        run(builtin.calculate({}))
    with pytest.raises(ToolFailed, match="round\\(\\) to more than"):
        run(builtin.calculate({"expression": "round(1, -10**7)"}))


# ---- a tool's work in a worker process ----


def test_an_isolated_call_runs_in_another_process_without_the_parents_secrets(monkeypatch):
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "made-up-" + "x" * 8)
    monkeypatch.setenv("TALKAPP_HARMLESS", "kept")
    child_pid = run(run_isolated("os:getpid"))
    assert isinstance(child_pid, int) and child_pid != os.getpid()
    assert run(run_isolated("os:getenv", "SOME_SERVICE_API_KEY")) is None
    assert run(run_isolated("os:getenv", "TALKAPP_HARMLESS")) == "kept"


def test_an_isolated_call_that_raises_is_a_failure_and_a_value_error_a_refusal():
    with pytest.raises(IsolatedFailure) as refused:
        run(run_isolated("talkapp.tools.calculator:evaluate_formatted", "1/0"))
    assert refused.value.refused and "division by zero" in str(refused.value)
    with pytest.raises(IsolatedFailure) as failed:
        run(run_isolated("os:listdir", "/no/such/folder/here"))
    assert not failed.value.refused and "FileNotFoundError" in str(failed.value)


def test_cancelling_an_isolated_call_kills_its_process_at_once():
    async def scenario():
        # A child that would otherwise sleep for ten minutes; the time limit ends it.
        task = asyncio.create_task(run_isolated("time:sleep", 600))
        await asyncio.sleep(0)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # returns once the child is killed and reaped, not after 600 s
        return [p for p in _children() if "talkapp.tools.worker" in p]

    assert run(scenario()) == []


def _children() -> list[str]:
    """Command lines of this process's live children (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "stat").read_text()
            parent = int(status.rsplit(")", 1)[1].split()[1])
            if parent == os.getpid():
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return found


# ---- the clock ----


def test_the_clock_tells_the_time_in_the_users_zone_or_a_named_one():
    moment = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)
    here = json.loads(run(builtin.current_time({}, now=lambda: moment)))
    assert here == {"iso": "2026-03-14T15:09:26+00:00", "weekday": "Saturday", "timezone": "UTC"}
    tokyo = json.loads(run(builtin.current_time({"timezone": "Asia/Tokyo"}, now=lambda: moment)))
    assert tokyo["iso"] == "2026-03-15T00:09:26+09:00" and tokyo["weekday"] == "Sunday"
    with pytest.raises(ToolFailed, match="not a time zone"):
        run(builtin.current_time({"timezone": "Mars/Olympus"}))


# ---- the clipboard ----


def test_the_clipboard_tool_refuses_until_the_user_allows_it():
    allowed = {"now": False}
    reads = []

    async def clipboard() -> str:
        reads.append(1)
        return "the copied text"

    tool = builtin.clipboard_reader(clipboard, lambda: allowed["now"])
    with pytest.raises(ToolFailed, match="has not allowed TalkApp to read the clipboard"):
        run(tool({}))
    assert reads == []  # not even read
    allowed["now"] = True  # the permission is asked at every call: allowing it works at once
    assert json.loads(run(tool({}))) == {"text": "the copied text"}


def test_a_long_clipboard_is_cut_and_an_empty_one_said_so():
    tool = builtin.clipboard_reader(lambda: _async("x" * 10_000), lambda: True)
    long = json.loads(run(tool({})))
    assert len(long["text"]) == builtin.MAX_CLIPBOARD and "10000" in long["note"]
    empty = builtin.clipboard_reader(lambda: _async(""), lambda: True)
    assert json.loads(run(empty({})))["note"] == "The clipboard holds no text."
    with pytest.raises(ToolFailed, match="no clipboard"):
        run(builtin.clipboard_reader(None, lambda: True)({}))


async def _async(value):
    return value


def test_the_settings_choose_the_built_ins():
    every = [t.name for t in builtin.builtin_tools(ToolSettings())]
    assert every == ["get_current_time", "calculate", "read_clipboard"]
    assert [t.name for t in builtin.builtin_tools(ToolSettings(clock=False, clipboard=False))] == [
        "calculate"
    ]


# ---- the registry ----


def test_the_registry_declares_and_runs_and_refuses_bad_calls():
    async def echo(args: dict) -> str:
        return json.dumps(args)

    registry = ToolRegistry([Tool(FunctionTool("echo", "Echo."), echo)])
    assert [d.name for d in registry.declarations()] == ["echo"]
    assert run(registry.call("echo", '{"a": 1}')) == '{"a": 1}'
    assert run(registry.call("echo", "")) == "{}"
    for name, arguments, why in [
        ("nope", "{}", "no tool named"),
        ("echo", "{oops", "not valid JSON"),
        ("echo", "[1]", "must be a JSON object"),
    ]:
        with pytest.raises(ToolFailed, match=why):
            run(registry.call(name, arguments))
    with pytest.raises(ValueError, match="two tools"):
        ToolRegistry([Tool(FunctionTool("echo", ""), echo)] * 2)


# ---- settings ----


def test_tool_settings_survive_the_settings_file_and_hold_no_secret():
    server = McpServerSettings(
        "docs",
        "https://mcp.example.invalid/mcp",
        ("search",),
        "never",
        "Authorization",
        "mcp-abc123",
    )
    answer = RememberedApproval("docs", "search", True, URL)
    settings = Settings(
        tools=ToolSettings(clipboard_allowed=True, mcp_servers=(server,), remembered=(answer,))
    )
    data = json.loads(json.dumps(to_json(settings)))
    problems: list[str] = []
    assert from_json(data, problems) == settings and problems == []
    assert (
        data["tools"]["mcp_servers"][0]["secret_name"] == "mcp-abc123"
    )  # the entry's name, not its value


def test_unusable_tool_settings_fall_back_and_are_named():
    problems: list[str] = []
    data = {
        "tools": {
            "calculator": "yes",
            "mcp_servers": [
                {
                    "label": "docs",
                    "url": "https://x.invalid",
                    "approval": "sometimes",
                    "allowed_tools": "search",
                },
                {"url": "https://no-label.invalid"},
                {"label": "docs", "url": "https://again.invalid"},
            ],
        }
    }
    tools = from_json(data, problems).tools
    assert tools.calculator is True and [s.label for s in tools.mcp_servers] == ["docs"]
    assert tools.mcp_servers[0].approval == "always" and tools.mcp_servers[0].allowed_tools == ()
    assert len(problems) == 4


def test_remembering_an_answer_replaces_the_one_before_and_is_kept_by_the_servers_url():
    servers = (McpServerSettings("docs", URL),)
    tools = ToolSettings(mcp_servers=servers).remember("docs", "search", True)
    tools = tools.remember("docs", "search", False)
    assert tools.remembered == (RememberedApproval("docs", "search", False, URL),)
    assert tools.declared() == ToolSettings(mcp_servers=servers).declared()  # the session's own
    assert tools.forget(tools.remembered[0]).remembered == ()


def test_a_remembered_answer_holds_for_the_url_not_the_label():
    # Another server given the label "docs" does not inherit the answer; an answer saved before
    # URLs were kept (none) is not used at all.
    settings = ToolSettings(
        mcp_servers=(McpServerSettings("docs", "https://other.invalid/mcp"),),
        remembered=(
            RememberedApproval("docs", "search", True, URL),
            RememberedApproval("docs", "fetch", True),
        ),
    )
    box = run(open_toolbox(settings))
    assert box.remembered == ((URL, "search", True),)  # kept by URL: "docs" now is another


# ---- MCP header values in the real keyring ----


def test_an_mcp_header_value_goes_from_the_keyring_into_the_session_tools_only(secret_service):
    name = new_secret_name()
    store_header_value(name, "Bearer mcp-s3cret")
    assert has_header_value(name) and not has_header_value(new_secret_name())
    servers = (
        McpServerSettings(
            "docs", "https://mcp.example.invalid/mcp", ("search",), "always", "Authorization", name
        ),
        McpServerSettings("off", "https://off.example.invalid/mcp", enabled=False),
        McpServerSettings(
            "open",
            "https://open.example.invalid/mcp",
            approval="never",
            auth_header="X-Key",
            secret_name=new_secret_name(),
        ),  # a header with no stored value: sent without it
    )
    settings = ToolSettings(
        mcp_servers=servers, remembered=(RememberedApproval("docs", "search", True, URL),)
    )
    box = run(open_toolbox(settings))
    docs, opened = box.mcp_servers
    assert (docs.label, docs.auth_header, docs.auth_value, docs.require_approval) == (
        "docs",
        "Authorization",
        "Bearer mcp-s3cret",
        "always",
    )
    assert (opened.label, opened.auth_header, opened.auth_value, opened.require_approval) == (
        "open",
        "",
        "",
        "never",
    )
    assert box.remembered == ((URL, "search", True),)
    assert "mcp-s3cret" not in repr(box) and "mcp-s3cret" not in json.dumps(
        to_json(Settings(tools=settings))
    )
    forget_header_value(name)
    assert not has_header_value(name)
