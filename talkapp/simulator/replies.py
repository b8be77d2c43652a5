"""What the simulated model answers (pure, deterministic, honest about being a simulator).

It cannot understand speech, so it says what it can know: who is speaking, in which dialect,
how much audio it heard, the text it was given, or what a tool returned. It calls a function
when the tool choice demands one or the latest user text names a declared function (every
function it names, in one response: parallel calls). It calls an MCP server's tool when the
text names one its server lists, asking for approval first when the server requires it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from talkapp.simulator import mcp
from talkapp.simulator.conversation import Item

MAX_ECHO = 200  # characters of user text or tool output repeated back


@dataclass(frozen=True)
class Speak:
    text: str


@dataclass(frozen=True)
class CallFunction:
    name: str
    arguments: str  # a JSON object


@dataclass(frozen=True)
class CallFunctions:
    """Several function calls in one response (parallel calls)."""

    calls: tuple[CallFunction, ...]


@dataclass(frozen=True)
class AskApproval:
    """An `mcp_approval_request` item: the response ends and waits for the client's answer."""

    server: str
    name: str
    arguments: str


@dataclass(frozen=True)
class CallMcp:
    """The service calls the MCP tool itself, then speaks its output (one response)."""

    server: str
    name: str
    arguments: str
    output: str
    then: Speak
    approval_request_id: str | None = None


Reply = Speak | CallFunction | CallFunctions | AskApproval | CallMcp
_CALLS = ("function_call", "mcp_call", "mcp_approval_request")


def plan(
    items: list[Item], tools: list[dict], tool_choice: object, *, model: str, dialect: str
) -> Reply:
    """The reply to the conversation `items` (oldest first)."""
    intro = _intro(model, dialect)
    last = items[-1] if items else None
    if last is not None and last.type == "mcp_approval_response":
        return _after_approval(last, items, intro)
    if last is not None and last.type == "function_call_output":
        return Speak(intro + _tool_results(items))
    text = _latest_user_text(items)
    calls = [
        CallFunction(f["name"], json.dumps(arguments(f, text)))
        for f in _functions_to_call(items, _functions(tools), tool_choice)
    ]
    if calls:
        return calls[0] if len(calls) == 1 else CallFunctions(tuple(calls))
    return _mcp_call(items, tools, text, intro) or Speak(intro + _heard(items))


def _intro(model: str, dialect: str) -> str:
    return f"This is the TalkApp simulator speaking as {model} over the {dialect} dialect."


def _heard(items: list[Item]) -> str:
    user = next((i for i in reversed(items) if i.role == "user"), None)
    if user is None:
        return " I have not heard anything from you yet."
    audio = user.audio_part()
    if audio is not None and audio.audio:
        return f" I heard {audio.audio_ms / 1000:.1f} seconds of audio."
    return f' You said: "{_clip(user.text())}".'


def _tool_results(items: list[Item]) -> str:
    """What every output sent after the last call says (all outputs of parallel calls)."""
    outputs: list[Item] = []
    for item in reversed(items):
        if item.type != "function_call_output":
            break
        outputs.insert(0, item)
    return "".join(_tool_result(output, items) for output in outputs)


def _tool_result(output: Item, items: list[Item]) -> str:
    call_id = output.fields.get("call_id")
    call = next(
        (i for i in items if i.type == "function_call" and i.fields.get("call_id") == call_id), None
    )
    name = call.fields.get("name", "the tool") if call else "the tool"
    return f" The {name} tool returned: {_clip(output.fields.get('output', ''))}."


def _mcp_call(items: list[Item], tools: list[dict], text: str, intro: str) -> Reply | None:
    if _called_since_user(items):
        return None
    for server in mcp.servers(tools):
        label = server.get("server_label", "")
        for tool in mcp.listed_tools(server):
            if not _names(tool["name"], text):
                continue
            args = json.dumps(arguments({"parameters": tool["input_schema"]}, text))
            if mcp.needs_approval(server, tool["name"]):
                return AskApproval(label, tool["name"], args)
            return _run_mcp(label, tool["name"], args, intro, None)
    return None


def _after_approval(answer: Item, items: list[Item], intro: str) -> Reply:
    request_id = answer.fields.get("approval_request_id")
    request = next((i for i in items if i.id == request_id), None)
    if request is None:
        return Speak(intro + " I have no record of what you approved.")
    server, name = request.fields.get("server_label", ""), request.fields.get("name", "")
    if not answer.fields.get("approve"):
        return Speak(
            intro + f" The call to {name} on {server} was not approved, so I did not run it."
        )
    return _run_mcp(server, name, request.fields.get("arguments", "{}"), intro, request.id)


def _run_mcp(server: str, name: str, args: str, intro: str, request_id: str | None) -> CallMcp:
    result = mcp.output(server, name, args)
    said = Speak(intro + f" The {name} tool of the {server} MCP server returned: {_clip(result)}.")
    return CallMcp(server, name, args, result, said, request_id)


def _functions(tools: list[dict]) -> list[dict]:
    return [t for t in tools if t.get("type", "function") == "function" and t.get("name")]


def _functions_to_call(items: list[Item], functions: list[dict], choice: object) -> list[dict]:
    if not functions or choice == "none":
        return []
    if isinstance(choice, dict) and choice.get("type") == "function":
        return [f for f in functions if f["name"] == choice.get("name")][:1]
    mentioned = [] if _called_since_user(items) else _mentioned(functions, _latest_user_text(items))
    if mentioned:
        return mentioned
    return functions[:1] if choice == "required" else []


def _called_since_user(items: list[Item]) -> bool:
    """A mention asks for one call: once called after the user spoke, it is answered."""
    for item in reversed(items):
        if item.role == "user":
            return False
        if item.type in _CALLS:
            return True
    return False


def _mentioned(functions: list[dict], text: str) -> list[dict]:
    """Every declared function the text names, in declaration order."""
    return [f for f in functions if _names(f["name"], text)]


def _names(name: str, text: str) -> bool:
    """The text names the tool as a word ("search", not "research"), with _ or spaces."""
    spelled = {name.lower(), name.lower().replace("_", " ")}
    return any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text.lower()) for n in spelled)


def _latest_user_text(items: list[Item]) -> str:
    user = next((i for i in reversed(items) if i.role == "user"), None)
    return user.text() if user is not None else ""


# --- arguments ----------------------------------------------------------------------------

_PLAUSIBLE = {
    "city": "Paris",
    "location": "Paris",
    "place": "Paris",
    "country": "France",
    "date": "2026-01-01",
    "time": "12:00",
    "name": "Alex",
    "unit": "celsius",
    "units": "metric",
    "language": "en",
}
_PLACE = re.compile(r"\b(?:in|at|for|to)\s+([A-Z][a-zA-Z-]+)")
_ARITHMETIC = re.compile(r"[\d.(][\d\s.+\-*/^%()]*[\d)]")  # "what is (2 + 3) * 4?" -> "(2 + 3) * 4"
_QUOTED = re.compile(r"`([^`]+)`")  # "calculate `round(1, 2)`": taken as it is (any expression)


def arguments(function: dict, user_text: str) -> dict:
    """A JSON object filling the function's required parameters with plausible values."""
    params = function.get("parameters") or {}
    properties = params.get("properties") or {}
    return {
        name: _value(name, properties.get(name) or {}, user_text)
        for name in params.get("required") or []
        if isinstance(name, str)
    }


def _value(name: str, spec: dict, user_text: str) -> object:
    if spec.get("enum"):
        return spec["enum"][0]
    kind = spec.get("type", "string")
    if kind in ("integer", "number"):
        return 1
    if kind in ("boolean", "array", "object"):
        return {"boolean": True, "array": [], "object": {}}[kind]
    return _plausible_string(name.lower(), user_text)


def _plausible_string(name: str, user_text: str) -> str:
    sums = _ARITHMETIC.findall(user_text)
    if "expression" in name:
        quoted = _QUOTED.search(user_text)
        if quoted:
            return quoted.group(1)
        return max(sums, key=len).strip() if sums else "1 + 1"
    place = _PLACE.search(user_text)
    if place and any(key in name for key in ("city", "location", "place")):
        return place.group(1)
    for key, value in _PLAUSIBLE.items():
        if key in name:
            return value
    return (
        _clip(user_text, 60)
        if user_text and name in ("query", "q", "text", "question")
        else "example"
    )


def _clip(text: str, limit: int = MAX_ECHO) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
