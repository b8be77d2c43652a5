"""Function tools: what the model is told (a `FunctionTool` declaration) and what runs (an async
implementation taking the parsed arguments and returning the output text for the model).

A tool that cannot do what was asked raises `ToolFailed` with a sentence for the model; the
runner sends that sentence as the call's output, so the model can tell the user.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from talkapp.protocol.commands import FunctionTool


class ToolFailed(Exception):
    """The tool could not do what was asked; `str()` is written for the model (and the card)."""


Run = Callable[[dict], Awaitable[str]]


@dataclass(frozen=True)
class Tool:
    declaration: FunctionTool
    run: Run

    @property
    def name(self) -> str:
        return self.declaration.name


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool

    def declarations(self) -> tuple[FunctionTool, ...]:
        return tuple(t.declaration for t in self._tools.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    async def call(self, name: str, arguments: str) -> str:
        """Run `name` with the model's JSON `arguments`; raises `ToolFailed` when it cannot."""
        tool = self._tools.get(name)
        if tool is None:
            raise ToolFailed(f"There is no tool named {name!r} here.")
        try:
            parsed = json.loads(arguments or "{}")
        except ValueError:
            raise ToolFailed(f"The arguments for {name} are not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise ToolFailed(f"The arguments for {name} must be a JSON object.")
        return await tool.run(parsed)
