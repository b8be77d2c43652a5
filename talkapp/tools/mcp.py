"""Remote MCP servers from the settings, as the session declares them (GA only).

An auth header's value is read from the OS keyring here, at connect time, off the loop thread;
it goes into the `McpServer` the GA dialect sends and nowhere else (not the settings file, not
a log, not a recording). The settings UI stores and forgets it with the same functions.
"""

from __future__ import annotations

import asyncio
import secrets

from talkapp.protocol.commands import McpServer
from talkapp.settings.model import McpServerSettings, ToolSettings
from talkapp.settings.secrets import delete_api_key, find_secret, store_secret


def new_secret_name() -> str:
    """A keyring entry for a new server's header value (stable when the server is renamed)."""
    return f"mcp-{secrets.token_hex(6)}"


def declared(server: McpServerSettings, header_value: str | None) -> McpServer:
    auth_header, auth_value = "", ""  # a header goes out only with its value
    if server.auth_header and header_value:
        auth_header, auth_value = server.auth_header, header_value
    return McpServer(
        label=server.label,
        url=server.url,
        allowed_tools=server.allowed_tools,
        require_approval="never" if server.approval == "never" else "always",
        auth_header=auth_header,
        auth_value=auth_value,
    )


def servers_now(settings: ToolSettings) -> tuple[McpServer, ...]:
    """Blocking (keyring calls): the enabled servers with their header values."""
    enabled = [s for s in settings.mcp_servers if s.enabled and s.label and s.url]
    return tuple(
        declared(s, find_secret(s.secret_name) if s.auth_header and s.secret_name else None)
        for s in enabled
    )


async def mcp_servers(settings: ToolSettings) -> tuple[McpServer, ...]:
    if not any(s.enabled for s in settings.mcp_servers):
        return ()
    return await asyncio.to_thread(servers_now, settings)


def has_header_value(secret_name: str) -> bool:
    """Blocking: whether a value is stored (the value itself does not leave this function)."""
    return bool(secret_name) and find_secret(secret_name) is not None


def store_header_value(secret_name: str, value: str) -> str:
    """Blocking; returns the keyring's name. Raises `KeyringUnavailable`."""
    return store_secret(secret_name, value, "the MCP auth header")


def forget_header_value(secret_name: str) -> None:
    delete_api_key(secret_name)
