"""Waiting with a time limit on the asyncio loop, the one way the project does it.

Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that arrives as what it
waits for completes, so a task cancelled at that moment runs on. The engine's pump did, and
`stop` never returned (seen in CI: a short press, then quit). `asyncio.timeout` does not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], timeout: float | None) -> T:
    """`await awaitable`, cancelled after `timeout` s (None: no limit) with `TimeoutError`."""
    async with asyncio.timeout(timeout):
        return await awaitable


async def sleep_until_set(event: asyncio.Event, timeout: float) -> None:
    """Wait for `event`, at most `timeout` s."""
    with contextlib.suppress(TimeoutError):
        await within(event.wait(), timeout)
