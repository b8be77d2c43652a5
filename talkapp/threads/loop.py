"""The one background asyncio loop, on its own daemon thread.

Crossing into the loop (from the UI or the terminal): `submit(coro)` — never wait on the
returned future from a UI thread; attach a done-callback instead. Crossing out of the loop is
the caller's business (a queued Qt signal for the UI, a print for the terminal).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine

from talkapp.threads import priority

# SCHED_FIFO priority of the loop thread that runs the audio engine: above normal threads, below
# the PortAudio callbacks (`priority.AUDIO_PRIORITY`). Why: the callbacks are Python and wait
# for the GIL; when this thread holds it and a busy normal-priority process preempts it, the
# callbacks starve (bench/audio_latency.py shows the output callbacks' gaps with both cores
# busy). It sleeps between 20 ms pump cycles, so it cannot hog a core. On macOS and Windows the
# thread asks for their equivalents instead (`priority.raise_engine_thread`).
ENGINE_LOOP_PRIORITY = 5


class LoopThread:
    def __init__(self, name: str = "talkapp-loop", realtime_priority: int | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.realtime_priority = realtime_priority
        self.realtime = False  # whether the priority was granted
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> LoopThread:
        self._thread.start()
        return self

    def submit(self, coro: Coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn, *args) -> None:
        """Run a plain function on the loop soon (fire and forget)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        raised = None
        if self.realtime_priority is not None:
            raised = priority.raise_engine_thread(self.realtime_priority)
            self.realtime = raised.granted
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self._cancel_leftovers()
            self.loop.close()
            if raised is not None:
                raised.release()  # MMCSS wants the same thread to leave its task

    def _cancel_leftovers(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
