"""What the simulated model answers (pure, deterministic, honest about being a simulator).

It cannot understand speech, so it says what it can know: who is speaking, in which dialect,
how much audio it heard, the text it was given, or what a tool returned. It calls a function
when the tool choice demands one or the latest user text names a declared function.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from talkapp.simulator.conversation import Item

MAX_ECHO = 200  # characters of user text or tool output repeated back


@dataclass(frozen=True)
class Speak:
    text: str


@dataclass(frozen=True)
class CallFunction:
    name: str
    arguments: str  # a JSON object


Reply = Speak | CallFunction


def plan(
    items: list[Item], tools: list[dict], tool_choice: object, *, model: str, dialect: str
) -> Reply:
    """The reply to the conversation `items` (oldest first)."""
    last = items[-1] if items else None
    if last is not None and last.type == "function_call_output":
        return Speak(_intro(model, dialect) + _tool_result(last, items))
    call = _function_to_call(items, _functions(tools), tool_choice)
    if call is not None:
        return CallFunction(call["name"], json.dumps(arguments(call, _latest_user_text(items))))
    return Speak(_intro(model, dialect) + _heard(items))


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


def _tool_result(output: Item, items: list[Item]) -> str:
    call_id = output.fields.get("call_id")
    call = next(
        (i for i in items if i.type == "function_call" and i.fields.get("call_id") == call_id), None
    )
    name = call.fields.get("name", "the tool") if call else "the tool"
    return f" The {name} tool returned: {_clip(output.fields.get('output', ''))}."


def _functions(tools: list[dict]) -> list[dict]:
    return [t for t in tools if t.get("type", "function") == "function" and t.get("name")]


def _function_to_call(items: list[Item], functions: list[dict], choice: object) -> dict | None:
    if not functions or choice == "none":
        return None
    if isinstance(choice, dict) and choice.get("type") == "function":
        return next((f for f in functions if f["name"] == choice.get("name")), None)
    mentioned = (
        None if _called_since_user(items) else _mentioned(functions, _latest_user_text(items))
    )
    if mentioned is not None:
        return mentioned
    return functions[0] if choice == "required" else None


def _called_since_user(items: list[Item]) -> bool:
    """A mention asks for one call: once called after the user spoke, it is answered."""
    for item in reversed(items):
        if item.role == "user":
            return False
        if item.type == "function_call":
            return True
    return False


def _mentioned(functions: list[dict], text: str) -> dict | None:
    words = text.lower()
    for function in functions:
        name = function["name"].lower()
        if name in words or name.replace("_", " ") in words:
            return function
    return None


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
