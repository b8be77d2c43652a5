"""Everything one session may use: the functions TalkApp runs, the MCP servers the service calls,
the answers the user asked to remember, and how long a function may take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from talkapp.protocol.commands import FunctionTool, McpServer
from talkapp.settings.model import ToolSettings
from talkapp.tools.builtin import ClipboardConsent, ClipboardRead, builtin_tools
from talkapp.tools.mcp import mcp_servers
from talkapp.tools.registry import ToolRegistry

DEFAULT_TIMEOUT_S = 8.0


@dataclass(frozen=True)
class ToolBox:
    registry: ToolRegistry = field(default_factory=ToolRegistry)
    mcp_servers: tuple[McpServer, ...] = ()
    remembered: tuple[tuple[str, str, bool], ...] = ()  # (server URL, tool, approve)
    timeout_s: float = DEFAULT_TIMEOUT_S

    def declarations(self) -> tuple[FunctionTool, ...]:
        return self.registry.declarations()


async def open_toolbox(
    settings: ToolSettings,
    clipboard: ClipboardRead | None = None,
    clipboard_allowed: Callable[[], bool] = lambda: False,
    clipboard_consent: ClipboardConsent | None = None,
    clipboard_asks: Callable[[], bool] = lambda: False,
) -> ToolBox:
    """The toolbox for a new session (reads MCP header values from the keyring, off the loop)."""
    return ToolBox(
        registry=ToolRegistry(
            builtin_tools(settings, clipboard, clipboard_allowed, clipboard_consent, clipboard_asks)
        ),
        mcp_servers=await mcp_servers(settings),
        remembered=tuple((r.url, r.tool, r.approve) for r in settings.remembered if r.url),
        timeout_s=settings.timeout_s if settings.timeout_s > 0 else DEFAULT_TIMEOUT_S,
    )
