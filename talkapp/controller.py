"""The app's conversation, whatever drives it (the GUI, later a tray or a CLI): it owns the loop
thread, the engine for the active profile, and the built-in simulator when that profile is the
offline one. Qt-free; every method returns at once and results come back through `emit`.

Threads: methods are called from the UI thread; the engine lives on the loop thread and `emit`
is called there (the UI bridge turns that into a queued Qt signal).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from talkapp.audio.echo import EchoMode
from talkapp.protocol.commands import AddHistory, SessionConfig
from talkapp.session import engine_events as out
from talkapp.session.client import RealtimeSession, SessionRefused
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.turns import Mode
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.secrets import MissingKey, find_api_key
from talkapp.simulator.config import SIMULATOR_KEY
from talkapp.threads.loop import ENGINE_LOOP_PRIORITY, LoopThread
from talkapp.tools.builtin import ClipboardRead
from talkapp.tools.toolbox import open_toolbox


@dataclass(frozen=True)
class NeedsKey:
    """The active profile needs an API key and none was found; the UI offers to add one."""

    profile: str
    message: str


@dataclass(frozen=True)
class BudgetRefused:
    """A paid session was not dialed: this month's spend reached the budget (one line)."""

    message: str


ControllerEvent = out.EngineEvent | NeedsKey | BudgetRefused


class Controller:
    def __init__(self, settings: Settings, emit: Callable[[ControllerEvent], None]) -> None:
        self.settings = settings
        self._emit = emit
        self._loop = LoopThread(realtime_priority=ENGINE_LOOP_PRIORITY).start()
        self._engine: Engine | None = None
        self._simulator = None  # (Simulator, its LoopThread) while the offline profile is in use
        self._lifecycle: asyncio.Lock | None = None  # one connect/disconnect at a time (made on the loop)
        self.clipboard: ClipboardRead | None = None  # the UI's clipboard reader (Qt's lives on the main thread)
        # A continued conversation's turns, sent when a session opens.
        self.context: tuple[AddHistory, ...] = ()
        # Before dialing a paid session: a line refusing it (the monthly budget), or None.
        # Called on the loop thread.
        self.budget_gate: Callable[[ProviderProfile], str | None] = lambda _profile: None

    # ---- commands (any thread) ----

    def connect(self) -> concurrent.futures.Future:
        return self._loop.submit(self._connect())

    def disconnect(self) -> concurrent.futures.Future:
        return self._loop.submit(self._disconnect())

    def press(self) -> None:
        self._on_engine(lambda e: e.press())

    def release(self) -> None:
        self._on_engine(lambda e: e.release())

    def set_mode(self, mode: str) -> None:
        self.settings = dataclasses.replace(self.settings, mode=mode)
        self._on_engine(lambda e: e.set_mode(Mode(mode)))

    def send_text(self, text: str) -> None:
        self._on_engine(lambda e: e.send_text(text))

    def answer_approval(self, request_id: str, approve: bool, remember: bool = False) -> None:
        self._on_engine(lambda e: e.answer_approval(request_id, approve, remember))

    def apply(self, settings: Settings) -> concurrent.futures.Future | None:
        """New settings; reconnects when what the session or the audio depends on changed."""
        before, self.settings = self.settings, settings
        if self._engine is None or _same_session(before, settings):
            return None
        return self._loop.submit(self._reconnect())

    def test_connection(self, profile: ProviderProfile, api_key: str | None) -> concurrent.futures.Future:
        """Open a session for `profile` and close it; the future's result is one plain line."""
        return self._loop.submit(self._test(profile, api_key))

    def run_on_loop(self, coro) -> concurrent.futures.Future:
        """Run other work (the Compare view's runs) on the engine's loop thread."""
        return self._loop.submit(coro)

    def levels(self) -> tuple[float, float]:
        engine = self._engine
        return engine.levels() if engine is not None else (float("-inf"), float("-inf"))

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def shutdown(self) -> None:
        try:
            self._loop.submit(self._disconnect()).result(timeout=10)
        finally:
            self._loop.stop()

    # ---- on the loop ----

    def _serialized(self) -> asyncio.Lock:
        if self._lifecycle is None:
            self._lifecycle = asyncio.Lock()
        return self._lifecycle

    async def _connect(self) -> bool:
        async with self._serialized():
            return await self._connect_now()

    async def _disconnect(self) -> None:
        async with self._serialized():
            await self._disconnect_now()

    async def _reconnect(self) -> None:
        async with self._serialized():
            await self._disconnect_now()
            await self._connect_now()

    async def _connect_now(self) -> bool:
        if self._engine is not None:
            return True
        profile = self.settings.active_profile()
        key = await self._key_for(profile)
        if key is None:
            return False
        refusal = self.budget_gate(profile) if profile.needs_key else None
        if refusal:
            self._emit(BudgetRefused(refusal))
            self._emit(out.StateChanged(out.State.IDLE))
            return False
        if not profile.needs_key:
            profile = dataclasses.replace(profile, base_url=self._simulator[0].url)
        tools = await open_toolbox(self.settings.tools, self.clipboard, lambda: self.settings.tools.clipboard_allowed)
        engine = Engine(profile, key, self._emit, Mode(self.settings.mode), _audio_options(self.settings),
                        record_to=self.settings.recordings_folder(), tools=tools,
                        context=self.context)
        self._engine = engine
        if not await engine.start():
            self._engine = None
            await self._stop_simulator()
            return False
        return True

    async def _disconnect_now(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.stop()
        await self._stop_simulator()

    async def _key_for(self, profile: ProviderProfile) -> str | None:
        if not profile.needs_key:
            await self._start_simulator()
            return SIMULATOR_KEY
        try:
            return (await asyncio.to_thread(find_api_key, profile.key_name, profile.env_vars)).value
        except MissingKey as exc:
            self._emit(NeedsKey(profile.name, str(exc)))
            return None

    async def _start_simulator(self) -> None:
        from talkapp.simulator import Simulator, SimulatorConfig

        if self._simulator is None:
            loop = LoopThread("talkapp-simulator").start()
            sim = Simulator(SimulatorConfig(record_events=False))  # an app session can last hours
            await asyncio.wrap_future(loop.submit(sim.__aenter__()))
            self._simulator = (sim, loop)

    async def _stop_simulator(self) -> None:
        if self._simulator is not None:
            sim, loop = self._simulator
            self._simulator = None
            await asyncio.wrap_future(loop.submit(sim.__aexit__(None, None, None)))
            loop.stop()

    async def _test(self, profile: ProviderProfile, api_key: str | None) -> str:
        if profile.needs_key and not api_key:
            return "Enter an API key first."
        started = time.monotonic()
        just_for_this = not profile.needs_key and self._simulator is None
        try:
            if not profile.needs_key:
                await self._start_simulator()
                profile = dataclasses.replace(profile, base_url=self._simulator[0].url)
            session = await RealtimeSession.open(profile.endpoint(), api_key or SIMULATOR_KEY, SessionConfig())
        except SessionRefused as refused:
            return f"✗ {refused}"
        finally:
            if just_for_this and self._engine is None:
                await self._stop_simulator()
        await session.close()
        ms = 1000 * (time.monotonic() - started)
        return f"✓ Connected in {ms:.0f} ms · {profile.describe()} accepted"

    def _on_engine(self, action: Callable[[Engine], object]) -> None:
        engine = self._engine
        if engine is not None:
            self._loop.submit(action(engine))


def _audio_options(settings: Settings) -> AudioOptions:
    a = settings.audio
    return AudioOptions(input_device=a.input_device, output_device=a.output_device, echo=EchoMode(a.echo),
                        vad_aggressiveness=a.vad_aggressiveness, vad_hangover_ms=a.silence_ms, block_ms=a.block_ms)


def _same_session(before: Settings, after: Settings) -> bool:
    return ((before.active_profile(), before.audio, before.recording, before.tools.declared())
            == (after.active_profile(), after.audio, after.recording, after.tools.declared()))
