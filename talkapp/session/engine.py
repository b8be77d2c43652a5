"""The engine: one live voice conversation — audio streams, one Realtime session, turn-taking.

Lives on the asyncio loop thread; every method is called there (the thread-safe façade is
`talkapp.session.handle.EngineHandle`). It wires the pure parts together and does the I/O:
  mic pump   capture ring → 24 kHz → echo canceller → level, local VAD → policy, AppendAudio
  session    wire events → transcript, policy → actions (send, play, pause, flush, …)
  speaker    reply audio → playback ring; what was played → echo reference, heard ms
A pump task runs every block; the session reader runs as events arrive. Events for the owner
go through `emit`, which must be cheap and thread-agnostic (a queued Qt signal, a print).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talkapp.audio import devices
from talkapp.audio.devices import DeviceKey
from talkapp.audio.echo import EchoCanceller, EchoMode, open_echo_canceller
from talkapp.audio.pcm import WIRE_RATE
from talkapp.audio.ring import open_ring
from talkapp.audio.silence import MicSilence
from talkapp.audio.streams import AudioIO, AudioStatistics
from talkapp.audio.vad import SpeechDetector
from talkapp.platform import microphone
from talkapp.platform.default_output import DefaultOutputListener, follow_mode
from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.redaction import redact
from talkapp.session import engine_events as out
from talkapp.session import turns
from talkapp.session.capture import WireCapture
from talkapp.session.client import Credential, SessionRefused
from talkapp.session.device_watch import RescanPolicy, moved_to_new_default
from talkapp.session.engine_events import State
from talkapp.session.keeper import Reconnected, Reconnecting, SessionKeeper, SessionLost
from talkapp.session.mic import MicPump
from talkapp.session.recording import SessionRecording, recording_about
from talkapp.session.speaker import Speaker
from talkapp.session.stream_policy import BlockSizer, MicPolicy
from talkapp.session.tool_runner import ToolRunner
from talkapp.session.transcript import ToolCard, Transcript
from talkapp.session.turns import Mode, TurnPolicy
from talkapp.settings.profile import ProviderProfile
from talkapp.threads.tuning import UNTUNED, Untuned
from talkapp.threads.waits import sleep_until_set
from talkapp.tools.toolbox import ToolBox

# The loop's pump (mic → VAD/AEC → socket, playback ring top-up) wakes once per chunk sent
# (mic.SEND_CHUNK_MS), whatever the PortAudio block: reply audio is written to the ring when it
# arrives, not on the pump, and the rings absorb the rest. While a reply plays, a barge-in must
# be decided sooner than that: the mic's callback rings `AudioIO.bell` on a block louder than
# what the mic has been hearing, and the pump runs at once (bench/audio_latency.py: barge-in).
PUMP_PERIOD_MS = 20
# Nothing to move (the microphone closed, nothing playing): the pump only keeps time, and a
# press or reply audio wakes it at once.
IDLE_PUMP_PERIOD_MS = 100
OUTPUT_REST_S = 0.5  # after the last reply audio played, the output stream stops this much later
UNDERFLOW_NOTICE_EVERY_S = (
    60  # a machine that keeps running dry is told once a minute, not every second
)
ECHO_REALIGN_CYCLES = 100  # pump cycles (about a second) between echo delay updates
RING_SECONDS = 4  # capture and playback rings; the speaker keeps only `lead_ms` in its ring
RESEND_TURNS = 20  # turns re-sent as context after a reconnect


@dataclass(frozen=True)
class AudioOptions:
    input_device: DeviceKey | None = None  # None: follow the system default
    output_device: DeviceKey | None = None
    echo: EchoMode = EchoMode.AEC
    # PortAudio block: 5 ms starts a reply soonest (bench/audio_latency.py measures it against
    # 10 ms); the price is a thinner device buffer against a late sound server. The output grows
    # it by itself after running dry (stream_policy.BlockSizer).
    block_ms: float = 5.0
    # The microphone's block: each one can ring the pump's bell for a barge-in, so 20 ms blocks
    # would decide it up to 10 ms later (bench/audio_latency.py); smaller ones only cost
    # callbacks (None: as `block_ms`)
    input_block_ms: float | None = 10.0
    # Stop the output stream while nothing plays: no callbacks while waiting (they were most of
    # what waiting cost); each start primes the device buffer with the reply, first block first.
    # (bench/output_soak.py compares it with the output running all session; bench/idle_cpu.py
    # and bench/audio_latency.py measure what it saves and how soon a reply is heard)
    output_on_demand: bool = True
    vad_aggressiveness: int = 2
    vad_hangover_ms: int = 500  # local-VAD mode: the silence that ends a turn
    # Both streams at the wire's rate where the device takes it (sound-server devices take any
    # rate; real ones say theirs): nothing to resample, and a reply's first audio does not wait
    # for the resampler's look-ahead
    prefer_rate: int | None = WIRE_RATE


@dataclass(frozen=True)
class AudioParts:
    """The open devices and what feeds them; built together, once the streams run."""

    io: AudioIO
    mic: MicPump
    speaker: Speaker
    echo: EchoCanceller


class Engine:
    def __init__(
        self,
        profile: ProviderProfile,
        api_key: Credential,
        emit: Callable[[out.EngineEvent], None],
        mode: Mode = Mode.PUSH_TO_TALK,
        audio: AudioOptions | None = None,
        record_to: Path | None = None,
        resend_context: bool = True,
        tools: ToolBox | None = None,
        capture: WireCapture | None = None,
        tuning: Untuned = UNTUNED,
        context: tuple[cmd.AddHistory, ...] = (),
        mic_access: Callable[[], str] = microphone.authorization,
    ) -> None:
        """`tuning`: the composition root's process-wide tuning (`talkapp.threads.tuning`),
        whose heap hooks the engine calls; none by default. `mic_access`: the system's answer
        to "may TalkApp use the microphone" (`platform.microphone.authorization`)."""
        self._tuning = tuning
        self._mic_access = mic_access
        self._mic_refused: bool | None = None  # None: ask the system at the next opening
        self._mic_refusal_told = False
        self._silence_told = False  # a silent microphone was told, and no sound since
        self.profile = profile
        self._capture = capture  # the wire, frame by frame, for a bug report (its owner closes it)
        self.context = context  # earlier turns of a stored conversation being continued
        self._record_to = record_to  # a folder for session recordings, or None
        self._key = api_key
        self._emit = _logged(emit)
        self.audio_options = audio or AudioOptions()
        self.policy = TurnPolicy(mode, settings=turn_settings_for(profile))
        self.mic_use = MicPolicy(hands_free=mode.hands_free)  # when the microphone is open
        self._blocks = BlockSizer(self.audio_options.block_ms)
        # devices looked for again at quiet moments: asked by the user, or a new default output
        self.device_watch = RescanPolicy(
            follow_mode(), following=self.audio_options.output_device is None
        )
        self._default_output = DefaultOutputListener()  # macOS tells; a no-op elsewhere
        self._rescan_waiters: list[asyncio.Future[bool]] = []
        self._rescanning = False  # the streams are being closed and reopened on a worker
        self._wake = asyncio.Event()  # the pump: something to move now
        self._output_idle_since: float | None = None
        self._output_active = False  # reply audio played within the last `OUTPUT_REST_S`
        self._underflows_at_wake = 0
        self.transcript = Transcript()
        self.tools = ToolRunner(
            tools or ToolBox(), self._send, self._show_card, self._emit, self._tools_answered
        )
        self.resend_context = resend_context
        self._audio: AudioParts | None = None  # None until the streams run
        self._keeper: SessionKeeper | None = None
        self._recording_tap: SessionRecording | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._clock = _TurnClock()
        self._connected = False
        self._renewal: asyncio.Task[Any] | None = None
        self._audible: str | None = (
            None  # the reply item the speaker plays, as last told the policy
        )
        # Context re-sent to a new session, whose echo is expected (not a new turn).
        self._replaying: collections.deque[tuple[str, str]] = collections.deque()
        self._replayed_ids: set[str] = set()
        self._dropped_reported = 0  # capture frames lost to overruns, already told
        self._underflows_told_at = -math.inf
        self._told_cut: set[str] = set()  # items whose transcript or audio was cut, already told
        self._malformed_told: set[str | None] = set()  # event types reported this session
        self._differences_told: set[str] = set()  # what the service kept otherwise, said once
        self.state = State.IDLE

    # ---- commands (loop thread) ----

    async def start(self) -> bool:
        """Open the audio devices and the session. False (with an error state) if either fails."""
        self._set_state(State.CONNECTING)
        if self.mic_use.wanted:
            self._mic_allowed()  # here, not on the worker thread: a refusal is told on the loop
        try:
            await asyncio.to_thread(self._open_audio)
        except devices.AudioUnavailable as exc:
            return self._fail(str(exc), out.AUDIO)
        self._recording_tap = self._recording()
        self._keeper = SessionKeeper(
            self.profile.endpoint(),
            self._key,
            self._session_config,
            self._history,
            tap=lambda: self._recording_tap,
            capture=self._capture,
        )
        try:
            session = await self._keeper.open(with_history=bool(self.context))
        except SessionRefused as refused:
            await asyncio.to_thread(self._close_audio)
            return self._fail(str(refused))
        self._connected = True
        self._emit(out.Connected(session.endpoint.describe(), session.session_id))
        self._tell_differences(session.configured)
        if self.tools.box.mcp_servers and not self.profile.sends_mcp_servers:
            where = self.profile.host or "this server"
            self._emit(
                out.Notice(
                    "info",
                    f"Your MCP servers were not sent to {where}: only OpenAI "
                    "and Azure OpenAI get them (and their auth headers), unless the "
                    "profile allows it.",
                )
            )
        elif self.tools.box.mcp_servers and session.endpoint.choice.dialect.name != "ga":
            self._emit(
                out.Notice(
                    "info",
                    "MCP servers work with GA models only; this "
                    f"{session.endpoint.choice.dialect.label} "
                    "session runs without them.",
                )
            )
        self._set_state(State.LISTENING)
        self._default_output.start()
        await self._do(self.policy.start())
        self._tasks = [
            self._watched(self._read_session(), "reading the session"),
            self._watched(self._pump(), "moving the audio"),
        ]
        self._tuning.freeze_heap()
        return True

    async def stop(self) -> None:
        self.mic_use.stop()
        self._default_output.stop()
        self.tools.reset("The session ended before this finished.")
        await self.tools.close()
        tasks = [*self._tasks, *([self._renewal] if self._renewal is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks, self._renewal = [], None
        if self._keeper is not None:
            await self._keeper.close()
            self._keeper = None
        if self._recording_tap is not None:
            self._recording_tap.close()
            self._recording_tap = None
        await asyncio.to_thread(self._close_audio)
        self._rescanned()  # whoever waits lists the devices now: no stream is open
        self._set_state(State.IDLE)

    async def press(self) -> None:
        now = time.perf_counter()
        await self._do(self.policy.press(now))  # a reply playing is silenced first
        self.mic_use.press(now)
        self._apply_mic(asked=True)

    async def release(self) -> None:
        now = time.perf_counter()
        await self._do(self.policy.release(now))
        self.mic_use.release(now)

    async def set_mode(self, mode: Mode) -> None:
        await self._do(self.policy.set_mode(mode))
        self.mic_use.set_hands_free(mode.hands_free, time.perf_counter())
        self._apply_mic(asked=True)

    @property
    def muted(self) -> bool:
        return self.mic_use.muted

    @muted.setter
    def muted(self, muted: bool) -> None:
        """Before `start` (a reconnect keeps the controller's mute): the microphone opens muted."""
        self.mic_use.set_muted(muted, time.perf_counter())

    async def set_muted(self, muted: bool) -> None:
        """Hands-free without sending anything: the microphone closes (its indicator goes out)
        until unmuted; the session and the mode stay."""
        self.mic_use.set_muted(muted, time.perf_counter())
        self._apply_mic(asked=True)
        if muted and self._audio is not None:
            self._audio.mic.discard()  # what was captured before muting is not sent either

    async def send_text(self, text: str) -> None:
        if text.strip():
            await self._do(self.policy.typed(text.strip()))

    async def answer_approval(self, request_id: str, approve: bool, remember: bool = False) -> None:
        """The user's answer to an MCP approval prompt (`out.ApprovalRequested`)."""
        await self.tools.answer(request_id, approve, remember)

    async def set_devices(self, input_key: DeviceKey | None, output_key: DeviceKey | None) -> None:
        if self._audio is None:
            return  # not started: the options apply when it starts
        await asyncio.to_thread(self._audio.io.set_devices, input_key, output_key)
        self.device_watch.following = output_key is None
        self._rates_changed()

    async def rescan_devices(self) -> bool:
        """Look for audio devices again (the settings' Refresh): at the next quiet moment the
        streams close, PortAudio re-scans, and they reopen. Returns once done: whether PortAudio
        re-scanned (not while another stream of this process is open: the mic test; nor when
        the session ended first, which leaves the re-scan to the caller)."""
        if self._audio is None or not self._tasks:
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._rescan_waiters.append(waiter)
        self.device_watch.ask()
        self._wake.set()
        return await waiter

    @property
    def recording_folder(self) -> Path | None:
        """This session's recording (Settings → Recording), or None when it is not recorded."""
        return self._recording_tap.folder if self._recording_tap is not None else None

    def levels(self) -> tuple[float, float]:
        """(mic dBFS, speaker dBFS); plain floats, safe to read from any thread -- including
        while the loop is still opening the audio (the parts appear together, at the end)."""
        audio = self._audio
        if audio is None:
            return float("-inf"), float("-inf")
        return audio.mic.level_dbfs, audio.speaker.level_dbfs

    @property
    def audio_block_ms(self) -> float:
        """The output's PortAudio block now: it grows by itself after the speaker ran dry."""
        return self._audio.io.output_block_ms if self._audio is not None else self._blocks.block_ms

    def statistics(self) -> AudioStatistics | None:
        return self._audio.io.statistics() if self._audio is not None else None

    @property
    def _parts(self) -> AudioParts:
        """The audio parts, for the code that runs only once `start` opened them."""
        assert self._audio is not None, "the engine's audio is not open"
        return self._audio

    # ---- setup ----

    def _open_audio(self) -> None:
        o = self.audio_options
        capture_in, capture_out = open_ring(int(RING_SECONDS * 48_000))
        playback_in, playback_out = open_ring(int(RING_SECONDS * 48_000))
        # The echo canceller and the VAD load their libraries (tens of thousands of objects):
        # before any stream runs, so that the tuning's collection, not one in mid-stream, sees them.
        echo = open_echo_canceller(o.echo)
        detector = SpeechDetector(
            aggressiveness=o.vad_aggressiveness, hangover_ms=o.vad_hangover_ms
        )
        self._tuning.settle_heap()
        io = AudioIO(
            capture_in,
            playback_out,
            input_device=o.input_device,
            output_device=o.output_device,
            block_ms=o.block_ms,
            prefer_rate=o.prefer_rate,
            output_on_demand=o.output_on_demand,
            prime_output=o.output_on_demand,
            input_block_ms=max(o.block_ms, o.input_block_ms or o.block_ms),
        )
        io.start(input=self.mic_use.wanted and self._mic_allowed())
        mic = MicPump(capture_out, io.input_rate or 48_000, echo, detector)
        speaker = Speaker(playback_in, playback_out, io.output_rate or 48_000, echo)
        speaker.feeds_echo = io.input_open
        self._audio = AudioParts(io, mic, speaker, echo)
        self._report_faults()
        self._align_echo()

    def _close_audio(self) -> None:
        if self._audio is not None:
            self._audio.io.stop()

    def _apply_mic(self, asked: bool = False) -> None:
        """Open or close the microphone as `mic_use` wants (a no-op when it already is).
        `asked`: after a user action, when the system is asked again whether it allows it."""
        if asked:
            self._mic_refused = None
        a = self._audio
        if a is None or self._rescanning or a.io.input_open == self.mic_use.wanted:
            return  # (after a re-scan the pump applies it)
        if self.mic_use.wanted and not self._mic_allowed():
            return  # the system refused it: it would only give silence
        was_open = a.io.input_open
        a.io.set_input(self.mic_use.wanted)
        # While the microphone is closed the echo canceller gets no far end either: the two
        # streams stay in step, and what it learnt of the room is kept for the next opening.
        a.speaker.feeds_echo = a.io.input_open
        if not a.io.input_open:
            a.mic.level_dbfs = float("-inf")  # the meter shows a closed microphone as silent
        if a.io.input_open and not was_open:
            a.mic.set_device_rate(a.io.input_rate or 48_000)
            a.mic.silence.opened(silent=self._silence_told)
            self._align_echo()
            self._wake.set()

    def _mic_allowed(self) -> bool:
        """Whether the system lets TalkApp use the microphone (asked once per user action: on
        macOS a refused app gets silence, which is not sent); a refusal is told once."""
        if self._mic_refused is None:
            status = self._mic_access()
            self._mic_refused = status in microphone.REFUSED
            if self._mic_refused and not self._mic_refusal_told:
                self._mic_refusal_told = True
                self._emit(out.Notice("error", microphone.refused_text(status), out.MICROPHONE))
        return not self._mic_refused

    def _tell_silence(self, change: MicSilence | None) -> None:
        """A second of exact zeros from an open microphone (denied by the system, or muted),
        and its end: once per opening (`audio.silence`). Where the system can say why (macOS),
        its answer names the cause; while it is still asking the user, its prompt says enough."""
        if change is MicSilence.SILENT:
            status = self._mic_access()
            if status == microphone.NOT_DETERMINED:
                return
            self._silence_told = True
            if status in microphone.REFUSED:
                self._emit(out.Notice("error", microphone.refused_text(status), out.MICROPHONE))
            else:
                self._emit(out.Notice("warning", microphone.silent_text(), out.MICROPHONE))
        elif change is MicSilence.SOUND_BACK and self._silence_told:
            self._silence_told = False
            self._emit(out.Notice("info", microphone.SOUND_BACK_TEXT, out.MICROPHONE))

    def _output_wanted(self) -> None:
        """Reply audio is in the ring: the output is active from now on (on demand: its stream
        starts now, primed with the reply, first block first), see `_rest_output`."""
        a = self._parts
        self._output_idle_since = None
        if not self._output_active:
            self._output_active = True
            self._underflows_at_wake = a.io.statistics().output_underflows
            self._wake.set()  # the pump's next cycle comes sooner while a reply plays
        if not self._rescanning:  # else the pump wakes it once the streams are back
            a.io.wake_output()  # a no-op while it runs

    def _rest_output(self, now: float) -> None:
        """Nothing has played for `OUTPUT_REST_S`: stop the output stream; then, if that reply
        ran dry, move to a larger block (applied now, while nothing plays) and say so."""
        a = self._parts
        if self._output_idle_since is None:
            self._output_idle_since = now
            return
        if now - self._output_idle_since < OUTPUT_REST_S:
            return
        a.io.rest_output()
        self._output_idle_since, self._output_active = None, False
        ran_dry = a.io.statistics().output_underflows - self._underflows_at_wake
        change = self._blocks.reply_ended(ran_dry)
        if change is not None:
            a.io.set_output_block(change.block_ms)
            self._report_faults()
        if ran_dry:
            self._report_underflows(
                ran_dry, change.block_ms if change and change.larger else None, now
            )

    def _recording(self) -> SessionRecording | None:
        if self._record_to is None:
            return None
        recording = SessionRecording.in_folder(
            self._record_to, self.profile.model, recording_about(self.profile)
        )
        self._emit(out.Notice("info", f"Recording this session to {recording.folder}"))
        return recording

    def _session_config(self) -> cmd.SessionConfig:
        box = self.tools.box
        # MCP servers carry their auth headers: only to a service that runs them (or opted in).
        mcp = box.mcp_servers if self.profile.sends_mcp_servers else ()
        return dataclasses.replace(
            self.profile.session,
            turn_detection=self.policy.turn_detection(),
            tools=self.profile.session.tools + box.declarations(),
            mcp_servers=mcp,
        )

    def _rates_changed(self) -> None:
        a = self._parts
        a.mic.set_device_rate(a.io.input_rate or 48_000)
        a.speaker.set_device_rate(a.io.output_rate or 48_000)
        self._align_echo()

    def _align_echo(self) -> None:
        """The echo of what the output callback hands over comes back through the mic this much
        later: the output's DAC delay plus the input's ADC delay, from PortAudio's timestamps."""
        self._parts.echo.set_delay_ms(self._parts.io.echo_delay_ms())

    # ---- the two tasks ----

    async def _pump(self) -> None:
        period, idle_period = PUMP_PERIOD_MS / 1000, IDLE_PUMP_PERIOD_MS / 1000
        a = self._parts
        loop = asyncio.get_running_loop()

        def ring() -> None:  # the input thread's way in; a callback must never raise
            with contextlib.suppress(RuntimeError):  # the loop closed under a late block
                loop.call_soon_threadsafe(self._wake.set)

        for cycle in itertools.count():
            now = time.perf_counter()
            if self._report_faults():
                self._rates_changed()
            elif cycle % ECHO_REALIGN_CYCLES == 0:
                self._align_echo()  # the timestamps settle after the streams start
                self._renew_if_due()
                self._report_lost_audio()
            if self.mic_use.tick(now) != a.io.input_open:
                self._apply_mic()
            listening = a.io.input_open or a.mic.has_audio()
            a.mic.echo_resting = not self._output_active
            if listening:
                await self._move_mic(a, now)
            await self._do(self.policy.tick(now))
            no_speaker = a.io.output_rate is None and a.speaker.drop_unplayable()
            drained = a.speaker.feed() or no_speaker
            audible = a.speaker.audible_item()
            if audible is not None and audible != self._audible:
                self._audible = audible
                await self._do(self.policy.item_audible(audible))
            if drained:
                await self._do(self.policy.playback_drained())
            self._clock.check_played(a.speaker, now, self._emit)
            playing = a.speaker.playing or a.io.paused
            if playing and not (self._output_active and a.io.output_running):
                self._output_wanted()  # (or reopened, resting, by fault recovery mid-reply)
            elif not playing and self._output_active:
                self._rest_output(now)
            await self._rescan_if_due(a, now, playing)
            if self._output_active and listening:  # a barge-in rings the bell
                a.io.bell.arm(a.mic.raw_mean_square, ring)
            else:
                a.io.bell.disarm()
            self._wake.clear()  # a press, reply audio or the bell sets it
            if self._output_active or listening:
                await sleep_until_set(self._wake, max(0.0, period - (time.perf_counter() - now)))
            else:
                await sleep_until_set(self._wake, idle_period)

    async def _rescan_if_due(self, a: AudioParts, now: float, playing: bool) -> None:
        """Re-scan the devices when `device_watch` says so (a quiet moment with a reason),
        and say when the output moved to a new system default."""
        if self._default_output.take():
            self.device_watch.default_changed()
        quiet = self.policy.phase is turns.Phase.LISTENING
        busy = playing or self._output_active
        if self.device_watch.due(now, quiet=quiet, mic_open=a.io.input_open, playing=busy) is None:
            return
        before, rescanned = a.io.output_device, False
        self._rescanning = True
        try:
            rescanned = await asyncio.to_thread(a.io.rescan)
        finally:
            self._rescanning = False
            self.device_watch.done(time.perf_counter())
            self._rescanned(rescanned)
        self._rates_changed()
        moved = moved_to_new_default(before, a.io.output_device, self.device_watch.following)
        if moved is not None:
            self._emit(out.Notice("info", moved))

    def _rescanned(self, rescanned: bool = False) -> None:
        waiters, self._rescan_waiters = self._rescan_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(rescanned)

    async def _move_mic(self, a: AudioParts, now: float) -> None:
        """One cycle of the microphone: level, echo, VAD and barge-in, chunks to send."""
        block = a.mic.pull()
        self._tell_silence(block.silence)
        if block.barge_in:
            await self._do(self.policy.barge_in_heard(now))
        for started, ago in block.speech_edges:
            edge = self.policy.local_speech_started if started else self.policy.local_speech_stopped
            await self._do(edge(now - ago))
        if block.voiced_ago is not None:
            self.policy.heard_voice(now - block.voiced_ago)
        for chunk in block.chunks:
            await self._send(cmd.AppendAudio(chunk))

    async def _read_session(self) -> None:
        assert self._keeper is not None
        async for event in self._keeper.events():
            match event:
                case Reconnecting():
                    await self._reconnecting(event)
                case Reconnected():
                    await self._reconnected(event)
                case SessionLost(message=message):
                    self._fail(message)
                    return
                case _:
                    await self._on_server_event(event)

    async def _on_server_event(self, event: ev.ServerEvent) -> None:
        now = time.perf_counter()
        self._clock.on_event(event, now, self._emit)
        changed = None if self._replayed(event) else self.transcript.apply(event, now)
        if changed is not None:
            self._emit(out.TranscriptChanged(changed))
            if changed.cut:
                self._tell_cut(changed.item_id, "A transcript turn was too long; the rest is cut.")
        self._report_server_problem(event)
        if isinstance(event, ev.SessionConfigured):
            self._tell_differences(event)
        await self.tools.on_event(event)
        await self._do(self.policy.on_event(event))

    async def _reconnecting(self, event: Reconnecting) -> None:
        if event.attempt == 1:
            # in the transcript too, so a reader later sees why the reply stopped there
            self._emit(
                out.Notice(
                    "warning",
                    f"Connection lost ({event.reason}); reconnecting. Your transcript is kept.",
                    out.IN_TRANSCRIPT,
                )
            )
            self._connected = False
            self._parts.speaker.cut_off()
            self.tools.reset("The connection was lost before this finished.")
            await self._do(self.policy.connection_lost())
        self._set_state(
            State.RECONNECTING,
            f"Connection lost ({event.reason}); reconnecting, attempt {event.attempt} "
            f"of {event.of}. Your transcript is kept.",
        )

    async def _reconnected(self, event: Reconnected) -> None:
        self._connected = True
        self._malformed_told.clear()  # a new session: its problems are news again
        if event.renewed:  # after a loss, _reconnecting reset them already; a renewal skips it
            self.tools.reset("The session was renewed before this was answered.")
        self._emit(out.Connected(event.label, event.session_id))
        if self._keeper is not None and self._keeper.session is not None:
            self._tell_differences(self._keeper.session.configured)
        if not event.renewed:
            resumed = self._keeper is not None and self._keeper.resumed
            self._emit(
                out.Notice(
                    "info",
                    "Reconnected; the service resumed the conversation where it was."
                    if resumed
                    else "Reconnected; the conversation so far was sent again as context."
                    if self.resend_context
                    else "Reconnected with a fresh conversation.",
                )
            )
        self._set_state(State(self.policy.phase.value))
        await self._do(self.policy.start())

    def _history(self) -> list[cmd.AddHistory]:
        """The conversation so far, for a new session (bounded: older turns cost tokens)."""
        if not self.resend_context:
            items = list(self.context)
        else:
            turns = [
                t
                for t in self.transcript.turns()
                if t.final and t.text.strip() and not t.untranscribed
            ]
            spoken = (
                cmd.AddHistory("user" if t.role == "user" else "assistant", t.text) for t in turns
            )
            items = [*self.context, *spoken][-RESEND_TURNS:]
        self._replaying = collections.deque((i.role, i.text) for i in items)
        return items

    def _replayed(self, event: ev.ServerEvent) -> bool:
        """The service's echo of a turn we re-sent as context: already in the transcript (or,
        for a continued conversation, in the history), not a new turn."""
        if not isinstance(event, ev.ItemAdded) or event.kind != "message":
            return False
        if event.item_id in self._replayed_ids:
            return True  # a second echo of the same item (GA: added, then done)
        if not self._replaying or (event.role, event.text) != self._replaying[0]:
            return False
        self._replaying.popleft()
        self._replayed_ids.add(event.item_id)
        return True

    # ---- actions ----

    async def _do(self, actions: list[turns.Action]) -> None:
        a = self._parts
        flushed: int | None = None  # the generation of a flush these actions made
        for action in actions:
            match action:
                case turns.Send(command=command):
                    if isinstance(command, (cmd.CommitAudio, cmd.SendText)):
                        self._clock.user_done(time.perf_counter())  # the user's turn ends here
                    await self._send(command)
                case turns.StreamMic(on=True, preroll_ms=preroll):
                    a.mic.start_stream(preroll)
                case turns.StreamMic(on=False):
                    last = a.mic.stop_stream()
                    self._tell_silence(last.silence)
                    for chunk in last.chunks:
                        await self._send(cmd.AppendAudio(chunk))
                case turns.Play(item_id=item_id, pcm=pcm):
                    if not a.speaker.play(item_id, pcm):
                        self._tell_cut(
                            item_id,
                            "The service sent more reply audio than can wait "
                            "to be played; the rest of this reply was dropped.",
                        )
                    self._output_wanted()  # its first block goes to the device at once
                case turns.EndOfItem(item_id=item_id):
                    a.speaker.end_of_item(item_id)
                case turns.PausePlayback():
                    a.io.paused = True
                case turns.ResumePlayback():
                    a.io.paused = False
                case turns.FlushPlayback():
                    flushed = a.speaker.flush()
                    a.io.paused = False  # a paused callback reads nothing: let it apply the flush
                case turns.Interrupt(item_id=item_id):
                    await self._interrupted(item_id, flushed)
                case turns.Hint(text=text):
                    self._emit(out.Notice("info", text))
                case turns.PhaseChanged(phase=phase) if self._connected:
                    self._set_state(State(phase.value))
                case turns.SetTurnDetection(turn_detection=td):
                    config = dataclasses.replace(
                        self._session_config(), turn_detection=td
                    )  # tools stay declared
                    await self._send(cmd.ConfigureSession(config))

    async def _interrupted(self, item_id: str, flushed: int | None) -> None:
        """The one measure of what was heard of a cut-off reply: the output callback's position
        where it applied the flush (counted before, a block could still slip out in between)."""
        speaker = self._parts.speaker
        if flushed is None:  # not flushed by these actions: what has played so far is all
            heard = speaker.heard_ms(item_id)
        else:
            heard = await speaker.heard_after_flush(item_id, flushed)
        await self._send(cmd.TruncateItem(item_id, heard))
        spoken = round(speaker.tracker.received_ms(item_id))  # places the cut in the text
        turn = self.transcript.mark_interrupted(item_id, heard, spoken)
        if turn is not None:
            self._emit(out.TranscriptChanged(turn))

    async def _send(self, command: cmd.Command) -> None:
        if self._keeper is not None:
            await self._keeper.send(command)  # dropped while reconnecting: the state says so

    # ---- tools ----

    def _show_card(self, card: ToolCard) -> None:
        self._emit(out.ToolCardChanged(self.transcript.put_card(card)))

    async def _tools_answered(self, respond: bool) -> None:
        await self._do(self.policy.tools_answered() if respond else self.policy.tools_abandoned())

    # ---- reporting ----

    def _report_lost_audio(self) -> None:
        """The capture ring overran: this loop fell so far behind the microphone that the
        oldest audio was dropped (a stalled machine). Said once per episode, not per block."""
        io = self._parts.io
        dropped = io.statistics().capture.frames_dropped
        if dropped > self._dropped_reported:
            lost_ms = 1000 * (dropped - self._dropped_reported) / (io.input_rate or 48_000)
            self._emit(
                out.Notice(
                    "warning",
                    f"TalkApp fell behind the microphone and lost {lost_ms:.0f} ms of audio "
                    "(the computer was very busy); if it keeps happening, close other heavy apps.",
                    out.AUDIO,
                )
            )
            self._dropped_reported = dropped

    def _report_underflows(self, times: int, larger_block_ms: float | None, now: float) -> None:
        """The speaker ran dry while a reply played (PortAudio's flag after a block of reply
        audio: a crackle the user may have heard; never for silence). Told at most once per
        `UNDERFLOW_NOTICE_EVERY_S` -- and always when TalkApp moved to a larger block for it,
        which is the fix, so the notice names no setting and offers no device."""
        if larger_block_ms is None and now - self._underflows_told_at < UNDERFLOW_NOTICE_EVERY_S:
            return
        what = (
            f"TalkApp now plays in larger audio blocks ({larger_block_ms:g} ms) to prevent it."
            if larger_block_ms is not None
            else "If it keeps happening, close other heavy apps."
        )
        self._emit(
            out.Notice(
                "warning",
                f"The speaker ran dry {times} time{'s' if times > 1 else ''} during that reply "
                f"(the computer was busy), so you may have heard a crackle. {what}",
                out.PLAYBACK,
            )
        )
        self._underflows_told_at = now

    def _renew_if_due(self) -> None:
        """Before the service ends the session at its time limit, while nobody is talking."""
        keeper = self._keeper
        if (
            keeper is not None
            and self._connected
            and self.policy.phase is turns.Phase.LISTENING
            and keeper.expires_soon()
            and (self._renewal is None or self._renewal.done())
        ):
            self._renewal = self._watched(self._renew(keeper), "renewing the session")

    async def _renew(self, keeper: SessionKeeper) -> None:
        renewed = await keeper.renew()
        if renewed is not None:  # else the old session goes on; the next cycle tries again
            await self._reconnected(renewed)

    def _report_faults(self) -> bool:
        faults = self._parts.io.poll_faults()
        for fault in faults:
            self._emit(out.Notice("warning", fault.message, out.AUDIO))
        return bool(faults)

    def _report_server_problem(self, event: ev.ServerEvent) -> None:
        match event:
            case ev.ServerError(code=code) if code in turns.HANDLED_ERRORS:
                pass  # the turn policy deals with these (a retry, a hint)
            case ev.ResponseDone(status="failed", error_code=code, error_message=message) if (
                self._keeper and self._keeper.session
            ):
                failure = ev.ServerError(code, message or "the response failed")
                self._emit(
                    out.Notice("error", self._keeper.session.explain(failure), out.CONNECTION)
                )
            case ev.GoingAway(seconds_left=left) if (
                self._keeper is not None and not self._keeper.can_resume
            ):
                within = f" in {left:g} s" if left is not None else " soon"
                self._emit(
                    out.Notice(
                        "warning",
                        f"The service will end this session{within} and gave no handle to resume "
                        "it: TalkApp starts a new one and sends the conversation so far as text "
                        "(the model loses what it heard). Your transcript is kept.",
                        out.IN_TRANSCRIPT,
                    )
                )
            case ev.ServerError(code="session_expired"):
                self._emit(
                    out.Notice(
                        "info", "The session reached the service's time limit; starting a new one."
                    )
                )
            case ev.ServerError() if self._keeper is not None and self._keeper.session is not None:
                self._emit(out.Notice("error", self._keeper.session.explain(event), out.CONNECTION))
            case ev.MalformedEvent(wire_type=kind, problem=problem) if self._first_malformed(kind):
                # once per event type per session: a service that always sends a shape we cannot
                # use would otherwise fill the log on every turn
                self._emit(
                    out.Notice(
                        "warning",
                        f"Ignored a malformed event from the service ({kind or 'frame'}: "
                        f"{problem}); "
                        "further ones of this type are ignored silently.",
                    )
                )

    def _first_malformed(self, kind: str | None) -> bool:
        first = kind not in self._malformed_told
        self._malformed_told.add(kind)
        return first

    def _tell_differences(self, configured: ev.SessionConfigured | None) -> None:
        """What the service kept otherwise than the profile asked: one notice each, once."""
        for text in configured.differences if configured is not None else ():
            if text not in self._differences_told:
                self._differences_told.add(text)
                self._emit(out.Notice("warning", text, out.IN_TRANSCRIPT))

    def _tell_cut(self, item_id: str, message: str) -> None:
        key = f"{item_id}:{message}"
        if key not in self._told_cut:
            self._told_cut.add(key)
            if len(self._told_cut) > 1000:
                self._told_cut.clear()
            self._emit(out.Notice("warning", message))

    def _watched(self, work: Coroutine[Any, Any, Any], doing: str) -> asyncio.Task[Any]:
        """A task of the engine that, should it crash, says so (an error state the user sees,
        the traceback in the log) instead of dying silently while the UI says "listening"."""
        task = asyncio.create_task(work, name=f"engine: {doing}")

        def done(task: asyncio.Task[Any]) -> None:
            if task.cancelled() or task.exception() is None:
                return
            failure = task.exception()
            _log.error("the engine failed while %s", doing, exc_info=failure)
            self._fail(
                f"TalkApp stopped while {doing} ({type(failure).__name__}: {failure}). "
                "Reconnect to go on; the transcript is kept."
            )

        task.add_done_callback(done)
        return task

    def _set_state(self, state: State, detail: str = "", topic: str = "") -> None:
        if state is not self.state or detail:
            self.state = state
            self._emit(out.StateChanged(state, detail, topic))

    def _fail(self, message: str, topic: str = out.CONNECTION) -> bool:
        self._set_state(State.ERROR, message, topic)
        return False


_log = logging.getLogger("talkapp.engine")


def _logged(emit: Callable[[out.EngineEvent], None]) -> Callable[[out.EngineEvent], None]:
    """Log what the engine reports — states, notices, connections, timings — never transcripts,
    nor a tool's arguments or output (a clipboard, a search): only its name and outcome."""

    def emit_and_log(event: out.EngineEvent) -> None:
        match event:  # what the service says in an error may quote a key: never shown or logged
            case out.Notice(text=text):
                event = dataclasses.replace(event, text=redact(text))
            case out.StateChanged(detail=detail) if detail:
                event = dataclasses.replace(event, detail=redact(detail))
        match event:
            case out.TranscriptChanged():
                pass
            case out.ToolCardChanged(card=card):
                if card.settled:
                    _log.info(
                        "tool %s (%s%s): %s%s",
                        card.name,
                        card.kind,
                        f", {card.server}" if card.server else "",
                        card.status,
                        f" in {card.duration_ms:.0f} ms" if card.duration_ms is not None else "",
                    )
            case out.ApprovalRequested(server=server, tool=tool):
                _log.info("approval asked: %s on %s", tool, server)
            case _:
                _log.info("%s", event)
        emit(event)

    return emit_and_log


def turn_settings_for(profile: ProviderProfile) -> turns.TurnSettings:
    """The profile's own service-VAD parameters serve its kind of VAD; the other kind keeps its
    defaults (switching modes mid-session must not need a trip to the settings)."""
    td = profile.session.turn_detection
    defaults = turns.TurnSettings()
    if td is None:
        return defaults
    if td.kind == "semantic_vad":
        return dataclasses.replace(defaults, semantic_vad=td)
    return dataclasses.replace(defaults, server_vad=td)


Emit = Callable[[out.EngineEvent], None]


class _TurnClock:
    """Per-reply timings, from the end of the user's speech; reported once the reply is done
    and its first audio has reached the speaker (or it never will)."""

    def __init__(self) -> None:
        self._user_done: float | None = None
        self._response: ev.ResponseDone | None = None
        self._response_id: str | None = None
        self._item: str | None = None
        self._marks: dict[str, float] = {}
        self._calls_tools = False

    def user_done(self, now: float) -> None:
        self._user_done = now

    def on_event(self, event: ev.ServerEvent, now: float, emit: Emit) -> None:
        match event:
            case ev.SpeechStopped():
                self._user_done = now
            case ev.ResponseStarted(response_id=rid):
                self._response_id, self._response, self._item, self._marks = rid, None, None, {}
                self._calls_tools = False
            case ev.ToolCallRequested(response_id=rid) if rid == self._response_id:
                self._calls_tools = True  # a step towards the reply, not the reply itself
            case ev.AudioDelta(response_id=rid, item_id=item) if (
                rid == self._response_id and self._item is None
            ):
                self._item = item
                self._marks["received"] = now
            case ev.ResponseDone(response_id=rid) if rid == self._response_id:
                self._marks["done"] = now
                self._response = event
                self._maybe_emit(emit)

    def check_played(self, speaker: Speaker, now: float, emit: Emit) -> None:
        if (
            self._item is not None
            and "played" not in self._marks
            and speaker.started_playing(self._item)
        ):
            self._marks["played"] = now
            self._maybe_emit(emit)

    def _maybe_emit(self, emit: Emit) -> None:
        done = self._response
        if done is None or (
            self._item is not None and "played" not in self._marks and done.status == "completed"
        ):
            return
        emit(
            out.TurnMeasured(
                done.response_id,
                self._since("received"),
                self._since("played"),
                self._since("done"),
                done.usage,
                self._calls_tools,
            )
        )
        self._response, self._response_id = None, None

    def _since(self, mark: str) -> float | None:
        at = self._marks.get(mark)
        return (
            None
            if at is None or self._user_done is None
            else round(1000 * (at - self._user_done), 1)
        )
