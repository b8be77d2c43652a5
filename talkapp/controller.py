"""The app's conversation, whatever drives it (the GUI, later a tray or a CLI): it owns the loop
thread, the engine for the active profile, and the built-in simulator when that profile is the
offline one. Qt-free; every method returns at once and results come back through `emit`.

Threads: methods are called from the UI thread; the engine lives on the loop thread and `emit`
is called there (the UI bridge turns that into a queued Qt signal). Commands cross through the
one `EngineHandle` (the terminal's too); a command that fails, the controller's own included,
comes back through `emit` as an error notice (`report_failure`), so the UI never watches a future.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from talkapp.audio.echo import EchoMode
from talkapp.platform.session import SessionHold
from talkapp.protocol.commands import AddHistory, SessionConfig, TurnDetection
from talkapp.session import engine_events as out
from talkapp.session.capture import WireCapture
from talkapp.session.client import Credential, RealtimeSession, SessionRefused
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.handle import EngineHandle, report_failure
from talkapp.session.turns import Mode
from talkapp.settings.entra import EntraToken, EntraUnavailable, default_token_provider
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.secrets import MissingKey, SessionKeys, find_api_key
from talkapp.simulator.config import SIMULATOR_KEY
from talkapp.threads.loop import ENGINE_LOOP_PRIORITY, LoopThread
from talkapp.threads.tuning import UNTUNED, Untuned
from talkapp.tools.builtin import ClipboardConsent, ClipboardRead
from talkapp.tools.toolbox import open_toolbox

if TYPE_CHECKING:  # imported when first used: most sessions never start the simulator
    from talkapp.simulator.on_thread import SimulatorThread


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
    def __init__(
        self,
        settings: Settings,
        emit: Callable[[ControllerEvent], None],
        *,
        session_keys: SessionKeys | None = None,
        clipboard: ClipboardRead | None = None,
        clipboard_consent: ClipboardConsent | None = None,
        tuning: Untuned = UNTUNED,
        output_on_demand: bool | None = None,
    ) -> None:
        """What the composition root hands in: `session_keys`, the keys given for this run only
        (the settings pane's "Use for this session" puts them there); `clipboard`, the UI's
        clipboard reader for the read_clipboard tool (None: that tool reads nothing), and
        `clipboard_consent`, how it asks the user for one read when they chose to be asked;
        `tuning`, the process's live-audio tuning, for the engines (`talkapp.threads.tuning`);
        `output_on_demand`, the engines' output stream only while a reply plays (True) or all
        session (False); None: the engine's default (`AudioOptions.output_on_demand`)."""
        self.settings = settings
        self._emit = emit
        self.session_keys = session_keys if session_keys is not None else SessionKeys()
        self._clipboard = clipboard
        self._clipboard_consent = clipboard_consent
        self._tuning = tuning
        self._output_on_demand = output_on_demand
        self._loop = LoopThread(realtime_priority=ENGINE_LOOP_PRIORITY).start()
        self._hold = SessionHold()
        self._handle: EngineHandle | None = None  # the engine of the open session, if any
        self.muted = False  # hands-free mute, handed to each engine
        self._simulator: SimulatorThread | None = None  # while the offline profile is in use
        self._lifecycle: asyncio.Lock | None = (
            None  # one connect/disconnect at a time (made on the loop)
        )
        self._capture: WireCapture | None = None  # Settings → Recording → Capture, while connected
        # A continued conversation's turns, sent when a session opens.
        self.context: tuple[AddHistory, ...] = ()
        # Before dialing a paid session: a line refusing it (the monthly budget), or None.
        # Called on the loop thread.
        self.budget_gate: Callable[[ProviderProfile], str | None] = lambda _profile: None

    # ---- commands (any thread) ----

    def connect(self) -> concurrent.futures.Future:
        return self._report(self._loop.submit(self._connect()), "connect")

    def disconnect(self) -> concurrent.futures.Future:
        return self._report(self._loop.submit(self._disconnect()), "close the session")

    def press(self) -> None:
        if (handle := self._handle) is not None:
            handle.press()

    def release(self) -> None:
        if (handle := self._handle) is not None:
            handle.release()

    def set_mode(self, mode: str) -> None:
        """The window's switch; a service VAD chosen there is the active profile's from now on
        (`with_mode`), without a reconnect: the engine switches the session's turn detection."""
        self.settings = with_mode(self.settings, mode)
        if (handle := self._handle) is not None:
            handle.set_mode(Mode(mode))

    def set_muted(self, muted: bool) -> None:
        """Hands-free mute; kept for the sessions that follow (a reconnect stays muted)."""
        self.muted = muted
        if (handle := self._handle) is not None:
            handle.set_muted(muted)

    def send_text(self, text: str) -> None:
        if (handle := self._handle) is not None:
            handle.send_text(text)

    def answer_approval(self, request_id: str, approve: bool, remember: bool = False) -> None:
        if (handle := self._handle) is not None:
            handle.answer_approval(request_id, approve, remember)

    def rescan_devices(self) -> concurrent.futures.Future | None:
        """The session's engine looks for audio devices at its next quiet moment (the future
        says whether PortAudio re-scanned); None when no session holds the devices."""
        handle = self._handle
        return handle.rescan_devices() if handle is not None else None

    def apply(self, settings: Settings) -> concurrent.futures.Future | None:
        """New settings; reconnects when what the session or the audio depends on changed."""
        before, self.settings = self.settings, settings
        if self._handle is None or _same_session(before, settings):
            return None
        return self._report(self._loop.submit(self._reconnect()), "reconnect with the new settings")

    def test_connection(
        self, profile: ProviderProfile, api_key: str | None
    ) -> concurrent.futures.Future:
        """Open a session for `profile` and close it; the future's result is one plain line."""
        return self._loop.submit(self._test(profile, api_key))

    def run_on_loop(self, coro) -> concurrent.futures.Future:
        """Run other work (the Compare view's runs) on the engine's loop thread."""
        return self._loop.submit(coro)

    def levels(self) -> tuple[float, float]:
        handle = self._handle
        return handle.levels() if handle is not None else (float("-inf"), float("-inf"))

    @property
    def engine(self) -> Engine | None:
        handle = self._handle
        return handle.engine if handle is not None else None

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
        if self._handle is not None:
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
            simulator = await self._start_simulator()  # `_key_for` started it: this returns it
            profile = dataclasses.replace(profile, base_url=simulator.url)
        tools = await open_toolbox(
            self.settings.tools,
            self._clipboard,
            lambda: self.settings.tools.clipboard_allowed,
            self._clipboard_consent,
            lambda: self.settings.tools.clipboard_ask,
        )
        self._capture = self._open_capture()
        engine = Engine(
            profile,
            key,
            self._emit,
            Mode(self.settings.mode),
            _audio_options(self.settings, self._output_on_demand),
            record_to=self.settings.recordings_folder(),
            tools=tools,
            capture=self._capture,
            tuning=self._tuning,
            context=self.context,
        )
        engine.muted = self.muted
        self._handle = EngineHandle(self._loop, engine, self._emit)
        self._hold.begin()  # Windows' 1 ms timer, no App Nap: while a session runs
        try:
            started = await engine.start()
        except BaseException:  # reported by `connect`; nothing it opened stays open
            self._handle = None
            self._hold.end()
            await engine.stop()
            self._close_capture()
            await self._stop_simulator()
            raise
        if not started:  # refused: the engine's error state says why
            self._handle = None
            self._hold.end()
            self._close_capture()
            await self._stop_simulator()
        return started

    def _open_capture(self) -> WireCapture | None:
        """Settings → Recording → Capture: one file per connection, in the recordings folder."""
        path = self.settings.capture_file()
        if path is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            capture = WireCapture.to_file(path)
        except OSError as exc:
            why = exc.strerror or exc
            self._emit(
                out.Notice(
                    "warning", f"Cannot write the capture {path}: {why}; connecting without it."
                )
            )
            return None
        self._emit(out.Notice("info", f"Capturing this connection to {path}"))
        return capture

    def _close_capture(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.close()

    async def _disconnect_now(self) -> None:
        handle, self._handle = self._handle, None
        self._hold.end()
        if handle is not None:
            await handle.engine.stop()
        self._close_capture()
        await self._stop_simulator()

    async def _key_for(self, profile: ProviderProfile) -> Credential | None:
        if not profile.needs_key:
            await self._start_simulator()
            return SIMULATOR_KEY
        if profile.uses_entra:
            try:
                return EntraToken(default_token_provider())
            except EntraUnavailable as exc:
                self._emit(NeedsKey(profile.name, str(exc)))
                return None
        if profile.key_problem:
            self._emit(out.StateChanged(out.State.ERROR, profile.key_problem, out.CONNECTION))
            return None
        try:
            found = await asyncio.to_thread(
                find_api_key, profile.key_name, profile.env_vars, self.session_keys
            )
            return found.value
        except MissingKey as exc:
            self._emit(NeedsKey(profile.name, str(exc)))
            return None

    async def _start_simulator(self) -> SimulatorThread:
        """The simulator, started unless it runs already."""
        from talkapp.simulator.on_thread import SimulatorThread

        if self._simulator is None:
            simulator = SimulatorThread()
            await simulator.start()
            self._simulator = simulator
        return self._simulator

    async def _stop_simulator(self) -> None:
        simulator, self._simulator = self._simulator, None
        if simulator is not None:
            await simulator.stop()

    async def _test(self, profile: ProviderProfile, api_key: str | None) -> str:
        credential: Credential | None = api_key
        if profile.uses_entra:
            try:
                credential = EntraToken(default_token_provider())
            except EntraUnavailable as exc:
                return f"✗ {exc}"
        elif profile.needs_key and not api_key:
            return "Enter an API key first."
        started = time.perf_counter()
        just_for_this = not profile.needs_key and self._simulator is None
        try:
            if not profile.needs_key:
                simulator = await self._start_simulator()
                profile = dataclasses.replace(profile, base_url=simulator.url)
            session = await RealtimeSession.open(
                profile.endpoint(), credential or SIMULATOR_KEY, SessionConfig()
            )
        except SessionRefused as refused:
            return f"✗ {refused}"
        finally:
            if just_for_this and self._handle is None:
                await self._stop_simulator()
        await session.close()
        ms = 1000 * (time.perf_counter() - started)
        return f"✓ Connected in {ms:.0f} ms · {profile.describe()} accepted"

    def _report(self, future: concurrent.futures.Future, doing: str) -> concurrent.futures.Future:
        return report_failure(future, self._emit, doing)


def with_mode(settings: Settings, mode: str) -> Settings:
    """`settings` in `mode`. The profile holds the one turn-detection setting: which VAD
    hands-free uses (server or semantic, with its parameters); choosing one in the window writes
    it into the active profile. Push-to-talk and TalkApp's local VAD leave the profile as it is."""
    settings = dataclasses.replace(settings, mode=mode)
    if not Mode(mode).service_detects_turns:
        return settings
    profile = settings.active_profile()
    before = profile.session.turn_detection
    if before is not None and before.kind == mode:
        return settings
    turn = TurnDetection(kind="semantic_vad" if mode == Mode.SEMANTIC_VAD else "server_vad")
    session = dataclasses.replace(profile.session, turn_detection=turn)
    return settings.with_profile(dataclasses.replace(profile, session=session), profile.name)


def mode_for(settings: Settings) -> str:
    """The mode the settings ask for once the profile's turn detection is read: "none" in the
    profile is push-to-talk; a hands-free service VAD follows the profile's kind."""
    turn = settings.active_profile().session.turn_detection
    mode = Mode(settings.mode)
    if turn is None:
        return Mode.PUSH_TO_TALK.value if mode.service_detects_turns else mode.value
    if mode.service_detects_turns:
        return turn.kind
    return mode.value


def vad_kind(settings: Settings) -> str:
    """The hands-free VAD the window's list shows: the mode's, else the profile's service VAD."""
    if Mode(settings.mode).hands_free:
        return settings.mode
    turn = settings.active_profile().session.turn_detection
    return turn.kind if turn is not None else Mode.SERVER_VAD.value


def _audio_options(settings: Settings, output_on_demand: bool | None = None) -> AudioOptions:
    """The engine's audio options from the settings; `output_on_demand` (not None) overrides
    the setting that keeps the speaker open."""
    a = settings.audio
    if output_on_demand is None:
        output_on_demand = not a.keep_speaker_open
    return AudioOptions(
        input_device=a.input_device,
        output_device=a.output_device,
        echo=EchoMode(a.echo),
        vad_aggressiveness=a.vad_aggressiveness,
        vad_hangover_ms=a.silence_ms,
        block_ms=a.block_ms,
        output_on_demand=output_on_demand,
    )


def _same_session(before: Settings, after: Settings) -> bool:
    return (before.active_profile(), before.audio, before.recording, before.tools.declared()) == (
        after.active_profile(),
        after.audio,
        after.recording,
        after.tools.declared(),
    )
