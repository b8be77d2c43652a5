"""The engine's idle pump sleeps until woken or a timeout, and a cancellation always ends it:
`stop` cancels the pump and waits for it, also when a press wakes it at the same moment (on
Python 3.11, `asyncio.wait_for` lost that cancellation and `stop` never returned)."""

import asyncio
from pathlib import Path

import pytest

from talkapp.threads.waits import sleep_until_set


async def idle_pump(wake: asyncio.Event) -> None:
    while True:
        wake.clear()
        await sleep_until_set(wake, 0.1)


async def test_a_pump_woken_as_it_is_cancelled_still_ends():
    for _ in range(20):
        wake = asyncio.Event()
        pump = asyncio.create_task(idle_pump(wake))
        await asyncio.sleep(0.005)
        wake.set()
        pump.cancel()  # in the same step: the wake and the cancellation race
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(pump, 2)


async def test_it_returns_when_set_and_after_the_timeout():
    wake = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, wake.set)
    await asyncio.wait_for(sleep_until_set(wake, 5), 2)  # woken, long before 5 s
    assert wake.is_set()
    await asyncio.wait_for(sleep_until_set(asyncio.Event(), 0.01), 2)  # nobody sets it


def test_no_module_waits_with_asyncio_wait_for():
    """`talkapp.threads.waits` is the one way to wait with a limit (see its docstring)."""
    root = Path(__file__).resolve().parent.parent / "talkapp"
    users = [p.name for p in root.rglob("*.py") if "asyncio.wait_for(" in p.read_text()]
    assert users == []
