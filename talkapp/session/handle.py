"""The engine from any thread: every call crosses into the loop and returns at once.

The caller never waits on the loop (a UI thread must not block); failures of a command come
back as an error `Notice` through the same `emit` the engine uses.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine

from talkapp.audio.devices import DeviceKey
from talkapp.session import engine_events as out
from talkapp.session.engine import Engine
from talkapp.session.turns import Mode
from talkapp.threads.loop import LoopThread


class EngineHandle:
    def __init__(self, loop: LoopThread, engine: Engine, emit: Callable[[out.EngineEvent], None]) -> None:
        self._loop = loop
        self._engine = engine
        self._emit = emit

    def start(self) -> concurrent.futures.Future:
        return self._submit(self._engine.start())

    def stop(self) -> concurrent.futures.Future:
        return self._submit(self._engine.stop())

    def press(self) -> None:
        self._submit(self._engine.press())

    def release(self) -> None:
        self._submit(self._engine.release())

    def set_mode(self, mode: Mode) -> None:
        self._submit(self._engine.set_mode(mode))

    def send_text(self, text: str) -> None:
        self._submit(self._engine.send_text(text))

    def answer_approval(self, request_id: str, approve: bool, remember: bool = False) -> None:
        self._submit(self._engine.answer_approval(request_id, approve, remember))

    def set_devices(self, input_key: DeviceKey | None, output_key: DeviceKey | None) -> None:
        self._submit(self._engine.set_devices(input_key, output_key))

    def levels(self) -> tuple[float, float]:
        return self._engine.levels()  # two float reads: safe without crossing

    def _submit(self, coro: Coroutine) -> concurrent.futures.Future:
        future = self._loop.submit(coro)
        future.add_done_callback(self._report)
        return future

    def _report(self, future: concurrent.futures.Future) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            self._emit(out.Notice("error", f"Internal error: {type(error).__name__}: {error}"))
