"""The real engine in a test: started against the simulator, its events logged, stopped after.

Shared by the tests that drive the engine over a real socket with real audio devices
(test_engine_audio, test_tool_flow, test_mcp), as a pytest plugin (tests/conftest.py):
- `simulator`: the built-in simulator on the test's loop, configured by `simulator_config`
  (fast by default; a module that needs another overrides that fixture);
- `engine_with`: push-to-talk engines on it with the given function tools and MCP servers;
- `running_engines`, for a module whose engines differ in something else.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from talkapp.audio.echo import EchoMode
from talkapp.protocol.commands import McpServer
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.threads.tuning import tuned_for_live_audio
from talkapp.tools.registry import Tool, ToolRegistry
from talkapp.tools.toolbox import DEFAULT_TIMEOUT_S, ToolBox

TEST_KEY = "sk-test"  # the simulator takes any key unless told otherwise
MODELS = {"ga": "gpt-realtime", "beta": "gpt-4o-realtime-preview"}


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
    started is stopped on the way out. The process is tuned for live audio meanwhile, as the
    app and `talkapp talk` tune theirs (real devices under test), and untuned after."""
    engines: list[Engine] = []

    with tuned_for_live_audio() as tuning:

        async def start(
            mode: Mode,
            model: str = "gpt-realtime",
            echo: EchoMode = EchoMode.HEADSET,
            profile_options: dict | None = None,
            audio: AudioOptions | None = None,
            **options,
        ):
            log = EventLog()
            profile = ProviderProfile(
                base_url=simulator.url, model=model, **(profile_options or {})
            )
            engine = Engine(
                profile,
                TEST_KEY,
                log,
                mode,
                audio or AudioOptions(echo=echo),
                tuning=tuning,
                **options,
            )
            engines.append(engine)
            assert await engine.start(), log.events
            return engine, log

        try:
            yield start
        finally:
            for engine in engines:
                await engine.stop()


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """audio_pace=0: replies stream as fast as possible (pacing is not under test)."""
    return SimulatorConfig(knobs=Knobs(audio_pace=0))


@pytest.fixture
async def simulator(simulator_config):
    async with Simulator(simulator_config) as sim:
        yield sim


@pytest.fixture
async def engine_for(pulse, simulator):
    """`await engine_for(mode, **start options) -> (engine, log)`: `running_engines`' start on
    the real sound server and the simulator."""
    async with running_engines(simulator) as start:
        yield start


@pytest.fixture
async def engine_with(pulse, simulator):
    """`await engine_with(*tools_and_servers, dialect="ga" | model=…, remembered=…,
    timeout_s=…, **engine options) -> (engine, log)`: a started push-to-talk engine whose
    toolbox holds those function tools (`Tool`) and MCP servers (`McpServer`)."""
    async with running_engines(simulator) as start:

        def with_tools(
            *items: Tool | McpServer,
            dialect: str = "ga",
            model: str | None = None,
            remembered=(),
            timeout_s: float = DEFAULT_TIMEOUT_S,
            **options,
        ):
            box = ToolBox(
                registry=ToolRegistry(i for i in items if isinstance(i, Tool)),
                mcp_servers=tuple(i for i in items if isinstance(i, McpServer)),
                remembered=remembered,
                timeout_s=timeout_s,
            )
            if box.mcp_servers:  # the simulator is not OpenAI's host: the profile opts in to them
                options.setdefault("profile_options", {"send_mcp_servers": True})
            return start(Mode.PUSH_TO_TALK, model=model or MODELS[dialect], tools=box, **options)

        yield with_tools
