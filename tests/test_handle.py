"""The one way a failed command reaches a person (`report_failure`), for the app's Controller
and the terminal's EngineHandle alike: an error notice through the same `emit` as the engine's
events, on a real loop thread."""

from __future__ import annotations

import asyncio
import queue

import pytest

from talkapp.session import engine_events as out
from talkapp.session.handle import report_failure
from talkapp.threads.loop import LoopThread


@pytest.fixture
def loop():
    thread = LoopThread("test-handle").start()
    yield thread
    thread.stop()


def test_a_command_that_raises_comes_back_as_one_error_notice(loop):
    seen: queue.Queue = queue.Queue()

    async def fails() -> None:
        raise ValueError("the session is gone")

    future = report_failure(loop.submit(fails()), seen.put, "end your turn")
    notice = seen.get(timeout=10)
    assert notice == out.Notice("error", "Could not end your turn: ValueError: the session is gone")
    assert isinstance(future.exception(), ValueError)
    assert seen.empty()  # once


def test_a_command_that_succeeds_or_is_cancelled_says_nothing(loop):
    seen: queue.Queue = queue.Queue()
    blocked = asyncio.Event()  # never set: the command waits until it is cancelled

    async def waits() -> None:
        await blocked.wait()

    async def works() -> int:
        return 1

    assert report_failure(loop.submit(works()), seen.put, "work").result(10) == 1
    cancelled = report_failure(loop.submit(waits()), seen.put, "wait")
    cancelled.cancel()
    done = report_failure(loop.submit(works()), seen.put, "work again")  # after the cancel
    assert done.result(10) == 1 and cancelled.cancelled()
    assert seen.empty()
