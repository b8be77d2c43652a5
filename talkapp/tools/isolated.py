"""Run a pure function for a tool in a child process (`talkapp/tools/worker.py`), so that it
cannot stall the engine's loop and a time limit really stops it: cancelling the awaiting task
(which is what `asyncio.wait_for` does at the limit) kills the child at once.

One child per call: a call is rare (one per model request) and a fresh process leaves nothing
behind to manage; starting one costs tens of milliseconds. The child gets the environment
without anything that looks like a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import sys

from talkapp.threads.waits import within

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH", re.IGNORECASE)
MAX_ANSWER = 1 << 20  # bytes read back from the child
REAP_WAIT_S = 0.5  # after a kill, how long to wait for the child's exit to be seen


class IsolatedFailure(Exception):
    """The function could not give an answer (it raised, or the child died); `refused` tells
    whether it refused the input with a sentence meant for the model."""

    def __init__(self, message: str, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def worker_command() -> list[str]:
    """A frozen app has no `-m`: its entry point (packaging/talkapp_main.py) runs the worker
    when given `--tool-worker`."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--tool-worker"]
    return [sys.executable, "-m", "talkapp.tools.worker"]


def _child_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not _SECRET_NAME.search(name)}


async def run_isolated(target: str, *args: object, cpu_s: float = 30.0) -> object:
    """`target` ("module:function") applied to `args` (JSON values) in a child process; its
    JSON result. Raises `IsolatedFailure`; cancelling the call kills the child."""
    request = json.dumps({"target": target, "args": list(args), "cpu_s": max(1, math.ceil(cpu_s))})
    child = await asyncio.create_subprocess_exec(
        *worker_command(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=_child_environment(),
        limit=MAX_ANSWER,
    )
    try:
        output, _ = await child.communicate((request + "\n").encode())
    except BaseException:
        _kill(child)
        # Reap it so no zombie is left (shielded: we may be here because we were cancelled), but
        # never for long: the time limit is a promise to the caller, and a child watcher that
        # misses the exit must not turn a stopped tool into a frozen reply.
        with contextlib.suppress(TimeoutError):
            await within(asyncio.shield(child.wait()), REAP_WAIT_S)
        raise
    try:
        answer = json.loads(output.decode() or "null")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        status = child.returncode
        raise IsolatedFailure(f"the worker process ended without an answer (exit status {status})")
    if "ok" in answer:
        return answer["ok"]
    if "refused" in answer:
        raise IsolatedFailure(str(answer["refused"]), refused=True)
    raise IsolatedFailure(str(answer.get("failed", "unknown failure")))


def _kill(child: asyncio.subprocess.Process) -> None:
    try:
        child.kill()
    except ProcessLookupError:
        pass
