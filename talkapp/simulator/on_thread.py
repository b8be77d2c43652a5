"""The built-in simulator serving from a loop thread of its own, for a caller whose own loop (or
main thread) has other work: the app's Controller, `talkapp talk`, the Compare view's runs.

    async with SimulatorThread(config) as url: …    # from a loop (the app's, a comparison's)
    with SimulatorThread(config) as url: …          # from plain code (`talkapp talk`)

or `await start()` … `await stop()` for an owner that keeps it across calls. Stopping is
shielded: an owner cancelled while the simulator closes still has its socket closed and its
thread ended (the thread ends itself once the close is done).
"""

from __future__ import annotations

import asyncio

from talkapp.simulator.config import SimulatorConfig
from talkapp.simulator.server import Simulator
from talkapp.threads.loop import LoopThread

TIMEOUT_S = 10.0  # the plain-code side's limit for binding or closing a loopback socket


class SimulatorThread:
    def __init__(
        self, config: SimulatorConfig | None = None, name: str = "talkapp-simulator"
    ) -> None:
        # an app session can last hours: by default no event log grows
        self._config = config if config is not None else SimulatorConfig(record_events=False)
        self._name = name
        self._running: tuple[Simulator, LoopThread] | None = None

    @property
    def url(self) -> str:
        return self.simulator.url

    @property
    def simulator(self) -> Simulator:
        """The running simulator (its connections, its knobs); read it from any thread."""
        if self._running is None:
            raise RuntimeError("the simulator is not running")
        return self._running[0]

    # ---- from a loop ----

    async def start(self) -> str:
        loop, sim = LoopThread(self._name).start(), Simulator(self._config)
        try:
            await asyncio.wrap_future(loop.submit(sim.__aenter__()))
        except BaseException:
            loop.call(loop.loop.stop)  # nothing is serving: the thread may end at once
            raise
        self._running = (sim, loop)
        return sim.url

    async def stop(self) -> None:
        if self._running is None:
            return
        (sim, loop), self._running = self._running, None
        closing = loop.submit(sim.__aexit__(None, None, None))
        try:
            await asyncio.shield(asyncio.wrap_future(closing))
        finally:
            if closing.done():
                await asyncio.to_thread(loop.stop)
            else:  # cancelled while it closes: the thread ends itself once closed
                closing.add_done_callback(lambda _closed: loop.call(loop.loop.stop))

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- from plain code ----

    def __enter__(self) -> str:
        loop, sim = LoopThread(self._name).start(), Simulator(self._config)
        try:
            loop.submit(sim.__aenter__()).result(TIMEOUT_S)
        except BaseException:
            loop.stop()
            raise
        self._running = (sim, loop)
        return sim.url

    def __exit__(self, *exc_info: object) -> None:
        if self._running is None:
            return
        (sim, loop), self._running = self._running, None
        try:
            loop.submit(sim.__aexit__(None, None, None)).result(TIMEOUT_S)
        finally:
            loop.stop()
