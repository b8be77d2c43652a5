"""The built-in tools a desktop user would want and that are safe to hand a model:

  get_current_time  the date, time and weekday (this computer's time zone, or a named one)
  calculate         arithmetic, by `calculator.evaluate` (no `eval`)
  read_clipboard    the text on the clipboard, only once the user allowed it in the settings

The clipboard is read through a `ClipboardRead` the UI provides (Qt's clipboard lives on the
main thread); the permission is asked at every call, so allowing it takes effect at once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from talkapp.protocol.commands import FunctionTool
from talkapp.settings.model import ToolSettings
from talkapp.tools.isolated import IsolatedFailure, run_isolated
from talkapp.tools.registry import Tool, ToolFailed

ClipboardRead = Callable[[], Awaitable[str]]  # the clipboard's text ("" when it holds none)
ClipboardConsent = Callable[[], Awaitable[bool]]  # asks the user, for this one call
MAX_CLIPBOARD = 4000  # characters handed to the model; the rest is cut with a note
NOT_ALLOWED = (
    "The user has not allowed TalkApp to read the clipboard. They can allow it in "
    "Settings → Tools & MCP (“Allow reading the clipboard”)."
)
DECLINED = "The user declined to share the clipboard this time."

TIME = FunctionTool(
    "get_current_time",
    "The current date, time and weekday, in the user's time zone unless another is named.",
    {
        "type": "object",
        "properties": {
            "timezone": {
                "type": "string",
                "description": "An IANA time zone such as Europe/Paris; omit for the user's own.",
            }
        },
    },
)
CALCULATE = FunctionTool(
    "calculate",
    "Evaluate an arithmetic expression exactly (numbers, + - * / // % ** ( ), pi, e, sqrt, sin, "
    "log, …).",
    {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "e.g. (17.5 * 3) / 4"}},
        "required": ["expression"],
    },
)
CLIPBOARD = FunctionTool(
    "read_clipboard",
    "Read the text the user copied to the clipboard (only works if they allowed it in the "
    "settings).",
)


async def current_time(
    args: dict, now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone()
) -> str:
    name = args.get("timezone")
    moment = now()
    if isinstance(name, str) and name.strip():
        try:
            moment = moment.astimezone(ZoneInfo(name.strip()))
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolFailed(
                f"{name!r} is not a time zone name (try one like Europe/Paris)."
            ) from None
    return json.dumps(
        {
            "iso": moment.isoformat(timespec="seconds"),
            "weekday": moment.strftime("%A"),
            "timezone": moment.tzname() or str(moment.tzinfo),
        }
    )


async def calculate(args: dict) -> str:
    expression = args.get("expression")
    if not isinstance(expression, str):
        raise ToolFailed('Give the expression as a string, e.g. {"expression": "2 + 2"}.')
    try:
        # In a worker process: nothing it computes can stall the conversation, and the tool's
        # time limit kills it (cancelling this call kills the process).
        result = await run_isolated("talkapp.tools.calculator:evaluate_formatted", expression)
    except IsolatedFailure as failure:
        reason = str(failure) if failure.refused else f"The calculator failed ({failure})."
        raise ToolFailed(reason) from None
    return json.dumps({"expression": expression, "result": result})


def clipboard_reader(
    read: ClipboardRead | None,
    allowed: Callable[[], bool],
    consent: ClipboardConsent | None = None,
    asks: Callable[[], bool] = lambda: False,
):
    """`allowed()`: always, without asking; else, when `asks()` and there is a `consent`, the
    user is asked at this call (the clipboard is read only on their yes); else refused."""

    async def read_clipboard(args: dict) -> str:
        if read is None:
            raise ToolFailed(
                "There is no clipboard to read here (TalkApp runs without its window)."
            )
        if not allowed():
            if consent is None or not asks():
                raise ToolFailed(NOT_ALLOWED)
            if not await consent():
                raise ToolFailed(DECLINED)
        text = await read()
        if not text:
            return json.dumps({"text": "", "note": "The clipboard holds no text."})
        cut = len(text) > MAX_CLIPBOARD
        return json.dumps(
            {"text": text[:MAX_CLIPBOARD]}
            | (
                {"note": f"cut to the first {MAX_CLIPBOARD} of {len(text)} characters"}
                if cut
                else {}
            )
        )

    return read_clipboard


def builtin_tools(
    settings: ToolSettings,
    clipboard: ClipboardRead | None = None,
    clipboard_allowed: Callable[[], bool] = lambda: False,
    clipboard_consent: ClipboardConsent | None = None,
    clipboard_asks: Callable[[], bool] = lambda: False,
) -> list[Tool]:
    """The built-ins the settings turn on."""
    reader = clipboard_reader(clipboard, clipboard_allowed, clipboard_consent, clipboard_asks)
    chosen = [
        (settings.clock, TIME, current_time),
        (settings.calculator, CALCULATE, calculate),
        (settings.clipboard, CLIPBOARD, reader),
    ]
    return [Tool(declaration, run) for on, declaration, run in chosen if on]
