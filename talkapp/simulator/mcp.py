"""Simulated remote MCP servers (GA only; pure, and never on the network).

A session's `mcp` tool gets a tool list at once: the tools named in its `allowed_tools`, or a
small fixed catalogue. Calling one produces a deterministic, plainly simulated output. Approval
follows `require_approval`: `never`, `always`, or a filter object naming tools each way; absent
means `always` (the service asks before sharing data with a remote server unless told not to).
"""

from __future__ import annotations

import json

CATALOGUE: dict[str, tuple[str, dict]] = {
    "search": (
        "Search the server's documents.",
        {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    ),
    "fetch": (
        "Fetch one document by its URL.",
        {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
    ),
}
_ANY_INPUT = {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}


def servers(tools: list[dict]) -> list[dict]:
    """The `mcp` tools among a session's or a response's tools."""
    return [t for t in tools or [] if isinstance(t, dict) and t.get("type") == "mcp"]


def listed_tools(server: dict) -> list[dict]:
    """What the server's `mcp_list_tools` item lists: name, description, input schema."""
    allowed = server.get("allowed_tools")
    if isinstance(allowed, dict):
        allowed = allowed.get("tool_names")
    names = (
        [n for n in allowed if isinstance(n, str)] if isinstance(allowed, list) else list(CATALOGUE)
    )
    return [
        {
            "name": name,
            "description": CATALOGUE.get(name, (f"The {name} tool.", None))[0],
            "input_schema": CATALOGUE.get(name, ("", _ANY_INPUT))[1],
        }
        for name in names
    ]


def needs_approval(server: dict, name: str) -> bool:
    policy = server.get("require_approval", "always")
    if policy in ("always", "never"):
        return policy == "always"
    if isinstance(policy, dict):
        if name in (policy.get("never") or {}).get("tool_names", []):
            return False
        if name in (policy.get("always") or {}).get("tool_names", []):
            return True
    return True


def output(server_label: str, name: str, arguments: str) -> str:
    """The simulated result of a call (no server is contacted)."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        args = {}
    if name == "search":
        query = args.get("query", "")
        hit = {"title": f"Simulated result for {query!r}", "url": "https://example.invalid/doc/1"}
        return json.dumps({"results": [hit], "server": server_label, "simulated": True})
    if name == "fetch":
        text = "Simulated document text (the TalkApp simulator never contacts MCP servers)."
        return json.dumps({"url": args.get("url", ""), "text": text, "simulated": True})
    return json.dumps({"tool": name, "arguments": args, "server": server_label, "simulated": True})
