"""The packages' dependency direction, read from the source: no cycle between talkapp's
packages, the settings never load the session (or websockets), and the UI only draws (no
sounddevice, no websockets: audio and network live below it)."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

TALKAPP = Path(__file__).resolve().parents[1] / "talkapp"


def _imports(path: Path) -> set[str]:
    """Every absolute module name `path` imports, at any depth (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _unit(path: Path) -> str:
    """A package (`talkapp/session/...` -> `session`) or a top-level module (`cli`)."""
    relative = path.relative_to(TALKAPP)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _graph() -> dict[str, dict[str, list[str]]]:
    """unit -> the units it imports -> the files that do it."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in TALKAPP.rglob("*.py"):
        source = _unit(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "talkapp" and len(parts) > 1 and parts[1] != source:
                graph[source][parts[1]].append(str(path.relative_to(TALKAPP.parent)))
    return graph


def _cycle_through(graph, start: str) -> list[str] | None:
    """A path start -> ... -> start, if the graph has one."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        unit, path = stack.pop()
        for nxt in graph.get(unit, {}):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycle_between_talkapps_packages():
    graph = _graph()
    for unit in sorted(graph):
        cycle = _cycle_through(graph, unit)
        assert cycle is None, " -> ".join(cycle) + f" (first step in {graph[unit][cycle[1]]})"


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}
    assert _cycle_through(graph, "a") == ["a", "b", "c", "a"]
    assert _cycle_through(graph, "d") is None


def test_the_settings_never_import_the_session_or_the_network():
    for path in (TALKAPP / "settings").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("talkapp.session", "talkapp.transport", "websockets")), (
                f"{path.name} imports {name}"
            )


def test_the_ui_imports_neither_audio_devices_nor_the_network():
    for path in (TALKAPP / "ui").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in {"sounddevice", "websockets"}, f"{path.name} imports {name}"
            assert not name.startswith("talkapp.transport"), f"{path.name} imports {name}"


def test_the_platform_module_uses_only_the_standard_library_and_itself():
    for path in (TALKAPP / "platform").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("talkapp.platform"), (
                f"{path.name} imports {name}"
            )
