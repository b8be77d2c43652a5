"""The real engine in a test: started against the simulator, its events logged, stopped after.

Shared by the tests that drive the engine over a real socket with real audio devices
(test_engine_audio, test_tool_flow, test_mcp); each wraps `running_engines` in a fixture that
says what its engines differ in.
"""

from __future__ import annotations

import asyncio
import contextlib

from talkapp.audio.echo import EchoMode
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile

TEST_KEY = "sk-test"  # the simulator takes any key unless told otherwise


class EventLog:
    """The engine's `emit`: every event, in order, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list = []
        self._changed = asyncio.Event()

    def __call__(self, event) -> None:  # called on the loop (the engine's emit)
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, predicate, timeout: float = 20.0):
        async with asyncio.timeout(timeout):
            while True:
                found = [e for e in self.events if predicate(e)]
                if found:
                    return found[-1]
                self._changed.clear()
                await self._changed.wait()

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


@contextlib.asynccontextmanager
async def running_engines(simulator):
    """Yields `start(mode, model=…, echo=…, **engine_options) -> (engine, log)`; every engine
    started is stopped on the way out."""
    engines: list[Engine] = []

    async def start(mode: Mode, model: str = "gpt-realtime", echo: EchoMode = EchoMode.HEADSET,
                    profile_options: dict | None = None, **options):
        log = EventLog()
        profile = ProviderProfile(base_url=simulator.url, model=model, **(profile_options or {}))
        engine = Engine(profile, TEST_KEY, log, mode, AudioOptions(echo=echo), **options)
        engines.append(engine)
        assert await engine.start(), log.events
        return engine, log

    try:
        yield start
    finally:
        for engine in engines:
            await engine.stop()
