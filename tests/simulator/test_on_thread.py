"""The simulator on a loop thread of its own (the Controller's, `talk`'s, the Compare view's):
it serves while open, and a stop that is cancelled midway still closes its socket and ends
its thread."""

from __future__ import annotations

import asyncio
import threading

import pytest
from websockets.asyncio.client import connect

from talkapp.simulator.on_thread import SimulatorThread


def _thread(name: str) -> threading.Thread:
    (found,) = [t for t in threading.enumerate() if t.name == name]
    return found


def _refused(url: str) -> bool:
    async def attempt() -> bool:
        try:
            async with connect(url + "/realtime?model=gpt-realtime", open_timeout=5):
                return False
        except OSError:
            return True

    return asyncio.run(attempt())


async def test_a_cancelled_stop_still_closes_the_socket_and_ends_the_thread():
    running = SimulatorThread(name="test-simulator-cancelled")
    url = await running.start()
    thread = _thread("test-simulator-cancelled")
    assert running.simulator.url == url
    stopping = asyncio.create_task(running.stop())
    await asyncio.sleep(0)  # let the stop begin: the simulator's close is under way on its thread
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()
    assert await asyncio.to_thread(_refused, url)


def test_from_plain_code_it_serves_inside_the_block_only():
    with SimulatorThread(name="test-simulator-plain") as url:
        thread = _thread("test-simulator-plain")
        assert not _refused(url)
    assert not thread.is_alive() and _refused(url)
