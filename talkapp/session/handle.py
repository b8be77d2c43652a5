"""The engine from any thread: every call crosses into the loop and returns at once.

The caller never waits on the loop (a UI thread must not block); a command that fails comes
back as an error `Notice` through the same `emit` the engine uses (`report_failure`: the one
way a failed command reaches a person, in the app and in the terminal alike).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any

from talkapp.audio.devices import DeviceKey
from talkapp.platform.session import SessionHold
from talkapp.session import engine_events as out
from talkapp.session.engine import Engine
from talkapp.session.turns import Mode
from talkapp.threads.loop import LoopThread


def report_failure(
    future: concurrent.futures.Future[Any], emit: Callable[[out.Notice], None], doing: str
) -> concurrent.futures.Future[Any]:
    """When `future` (a command on the loop) raises, say so through `emit` as an error notice
    ("Could not `doing`: …"); returns `future`. A cancelled command is no failure."""

    def report(done: concurrent.futures.Future[Any]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            emit(out.Notice("error", f"Could not {doing}: {type(error).__name__}: {error}"))

    future.add_done_callback(report)
    return future


class EngineHandle:
    """`hold`: what the session holds of the system while it runs (Windows' 1 ms timer, the
    App Nap opt-out on macOS), from `start` to `stop`."""

    def __init__(
        self,
        loop: LoopThread,
        engine: Engine,
        emit: Callable[[out.EngineEvent], None],
        hold: SessionHold | None = None,
    ) -> None:
        self._loop = loop
        self._engine = engine
        self._emit = emit
        self._hold = SessionHold() if hold is None else hold

    @property
    def engine(self) -> Engine:
        return self._engine

    def start(self) -> concurrent.futures.Future[Any]:
        self._hold.begin()
        return self._submit(self._engine.start(), "start the session")

    def stop(self) -> concurrent.futures.Future[Any]:
        self._hold.end()
        return self._submit(self._engine.stop(), "close the session")

    def press(self) -> None:
        self._submit(self._engine.press(), "start listening")

    def release(self) -> None:
        self._submit(self._engine.release(), "end your turn")

    def set_mode(self, mode: Mode) -> None:
        self._submit(self._engine.set_mode(mode), "change the mode")

    def set_muted(self, muted: bool) -> None:
        """Hands-free, muted: nothing is sent and the microphone closes until unmuted."""
        self._submit(self._engine.set_muted(muted), "mute the microphone")

    def send_text(self, text: str) -> None:
        self._submit(self._engine.send_text(text), "send the message")

    def answer_approval(self, request_id: str, approve: bool, remember: bool = False) -> None:
        self._submit(
            self._engine.answer_approval(request_id, approve, remember), "answer the tool request"
        )

    def set_devices(self, input_key: DeviceKey | None, output_key: DeviceKey | None) -> None:
        self._submit(self._engine.set_devices(input_key, output_key), "switch audio devices")

    def rescan_devices(self) -> concurrent.futures.Future[Any]:
        """Its result: whether PortAudio re-scanned (`Engine.rescan_devices`)."""
        return self._submit(self._engine.rescan_devices(), "look for audio devices")

    def levels(self) -> tuple[float, float]:
        return self._engine.levels()  # two float reads: safe without crossing

    def _submit(self, coro: Coroutine[Any, Any, Any], doing: str) -> concurrent.futures.Future[Any]:
        return report_failure(self._loop.submit(coro), self._emit, doing)
