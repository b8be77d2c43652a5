"""The child side of `isolated.run_isolated`: run one pure function for a tool in a process of
its own, so that whatever it computes cannot stall the engine's loop (a big-integer operation
holds the GIL for as long as it runs, so a thread would not do) and the time limit can end it.

Reads one JSON request from stdin, `{"target": "module:function", "args": [...]}`, writes one
JSON answer to stdout: `{"ok": value}`, `{"refused": sentence}` (the function raised a
`ValueError`: its message is for the model) or `{"failed": "Type: message"}`. The request comes
from TalkApp itself; only `args` come from the model, and they are data.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

MEMORY_LIMIT = 1 << 30  # bytes of address space: a runaway allocation fails here, not the app


def _limit_resources(cpu_s: int) -> None:
    """Lower priority (the app's audio threads come first) and a hard CPU and memory ceiling,
    in case the parent could not kill us (it always tries first)."""
    try:
        import resource
    except ImportError:  # Windows: the parent's kill is the limit
        return
    for limit, value in ((resource.RLIMIT_CPU, cpu_s), (resource.RLIMIT_AS, MEMORY_LIMIT)):
        try:
            _, hard = resource.getrlimit(limit)
            capped = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (capped, hard))
        except (ValueError, OSError):
            pass
    try:
        os.nice(10)
    except OSError:
        pass


def answer(request: dict) -> dict:
    module, _, name = str(request.get("target", "")).partition(":")
    try:
        function = getattr(importlib.import_module(module), name)
        return {"ok": function(*request.get("args", []))}
    except ValueError as refused:
        return {"refused": str(refused)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which tells the model
        return {"failed": f"{type(exc).__name__}: {exc}"}


def main() -> int:
    request = json.loads(sys.stdin.readline() or "{}")
    _limit_resources(int(request.get("cpu_s", 10)))
    sys.stdout.write(json.dumps(answer(request)) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
