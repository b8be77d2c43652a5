"""`AudioIO`: one PortAudio input stream and one output stream around the two rings.

Who calls what:
  asyncio loop thread (or one worker it awaits with `asyncio.to_thread`, one call at a time):
      `start`, `stop`, `set_devices`, `poll_faults`, `statistics`, `input_rate`, `output_rate`,
      and it sets `paused`. Opening streams blocks for tens of milliseconds, so `start`,
      `set_devices`, and a `poll_faults` that has a fault to recover from, block that long.
  PortAudio input thread:  `_Capture.callback` writes `indata[:, 0]` to the capture ring, and
                           lets `bell` hear it (a loud block wakes the pump).
  PortAudio output thread: `_Playback.callback` fills `outdata[:, 0]` from the playback ring.
  Either PortAudio thread: `on_finished` when its stream ends (on error, or when we close it).
The callbacks copy frames and count, nothing else: no numpy allocation (but the bell's one sum),
no locks, no logging.
What they report are plain ints and floats on their own `_Side` object, read by the loop. (The
one exception: the first call asks the kernel for real-time priority for its thread.) The
sound-server client threads that wake them get that priority too, as each stream opens
(`talkapp.threads.priority`).

Faults: a callback never raises and never reports. A stream that dies (device unplugged, taken
by the sound server) only sets its side's `finished` flag; `poll_faults()` on the loop notices,
closes both streams (a PortAudio rescan needs every stream closed), rescans, reopens the healthy
direction where it was and the dead one on the system default, and returns small `AudioFault`s
in plain words. A device that failed to open at `start` / `set_devices` also falls back to the
default, saying so. The chosen device stays remembered: `set_devices` brings it back once it
returns -- perhaps at another sample rate (Bluetooth headsets drop to 16 or 8 kHz when their mic
opens). Whenever a direction's rate changes, audio queued in its ring at the old rate is
dropped rather than played at the wrong speed, and the fault says so; after any fault the
engine re-reads `input_rate` / `output_rate` and rebuilds its resamplers. Call `poll_faults`
between playback-feeder writes so no old-rate block slips in after it.

Each stream runs at its device's own default rate (or `prefer_rate` when the device accepts
it), float32, mono where the device allows, else channel 0 in / the mono signal copied to every
channel out, with an explicit blocksize (5 ms by default: the ALSA pulse plugin with PortAudio's
blocksize 0 calls back every ~1 ms with a few frames) and `latency="low"`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from talkapp.audio import devices
from talkapp.audio.bell import LoudnessBell
from talkapp.audio.devices import DeviceInfo, DeviceKey
from talkapp.audio.ring import RingReader, RingStatistics, RingWriter
from talkapp.threads import priority

Direction = Literal["input", "output"]
START_FILL_WAIT_S = 0.01
# A primed output's buffer: as deep as a running stream's with "low" latency keeps by itself
PRIMED_LEAD_BLOCKS = 3
_NOUN = devices.NOUNS
_VERB = {"input": "listening", "output": "playing"}


def start_fill_done(output_latency: float, frames: int, rate: int) -> bool:
    """Whether an output stream has finished filling its buffer at start: this callback found
    1.5 blocks already queued ahead of it (`_Playback`)."""
    return output_latency >= 1.5 * frames / rate


@dataclass(frozen=True)
class AudioFault:
    direction: Direction
    message: str


@dataclass(frozen=True)
class AudioStatistics:
    capture: RingStatistics
    playback: RingStatistics
    input_rate: int | None  # None: no input stream open
    output_rate: int | None
    input_overflows: int  # PortAudio status flags, summed over every stream opened
    output_underflows: int  # (after each output stream's start-up fill, see `_Playback`)
    output_start_underflows: int  # flagged while a stream was filling its buffer with silence
    input_callbacks: int
    output_callbacks: int
    input_latency: float  # s, latest input callback: currentTime - inputBufferAdcTime
    output_latency: float  # s, latest output callback: outputBufferDacTime - currentTime
    reopens: int  # streams reopened by fault recovery
    realtime: bool  # every open stream's callback thread got real-time priority
    sound_server_threads: int  # client threads of the sound server in this process (libpulse)
    sound_server_threads_realtime: int  # how many of them run at the callbacks' priority


class _Side:
    """One opened stream: its counters and flags. Its callback thread asks for real-time
    priority from its first call (PortAudio 19.6's ALSA backend does not ask; on a box with both
    cores busy, 10 ms blocks glitched in 5 of 7 test runs at normal priority, 0 of 3 with it);
    refused, the thread keeps normal priority. Each attribute has one writing thread: the
    callback thread writes `callbacks`, `xruns`, `start_xruns`, `starting`, `latency`,
    `realtime`, `finished`; the loop the rest."""

    __slots__ = (
        "callbacks",
        "channels",
        "closing",
        "device",
        "finished",
        "fresh_thread",
        "latency",
        "rate",
        "realtime",
        "resting",
        "start_xruns",
        "starting",
        "stream",
        "xruns",
    )

    def __init__(self, device: DeviceInfo, channels: int) -> None:
        self.stream: Any = None
        self.device = device
        self.rate = 0
        self.channels = channels
        self.callbacks = 0
        self.xruns = 0
        self.start_xruns = 0
        self.starting = True
        self.latency = 0.0
        self.finished = False
        self.closing = False
        self.realtime = False
        self.fresh_thread = True  # PortAudio starts a new callback thread at each start
        self.resting = False  # stopped on purpose (on-demand output): finishing is no failure

    def on_finished(self) -> None:
        self.finished = True

    def failed(self) -> bool:
        return self.finished and not self.closing and not self.resting

    def rest(self) -> None:
        """Stop the stream, meaning to start it again (`stop` returns once the callback thread
        has ended, finished callback included). What the device still holds is dropped, not
        played out (the ALSA pulse plugin: a reply's last blocks, tests/test_streams.py), so
        rest a stream only once what it was handed has played."""
        self.resting = True
        with contextlib.suppress(*devices.stream_errors()):
            self.stream.stop(ignore_errors=True)


class _Capture(_Side):
    __slots__ = ("bell", "ring")

    def __init__(
        self, device: DeviceInfo, channels: int, ring: RingWriter, bell: LoudnessBell
    ) -> None:
        super().__init__(device, channels)
        self.ring = ring
        self.bell = bell

    def callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if self.fresh_thread:
            self.fresh_thread = False
            self.realtime = priority.ask_for_realtime(priority.AUDIO_PRIORITY)
        self.callbacks += 1
        if status.input_overflow:
            self.xruns += 1
        self.latency = time.currentTime - time.inputBufferAdcTime
        mono = indata[:, 0]
        self.ring.write(mono)
        self.bell.hear(mono)


class _Playback(_Side):
    """Output. PortAudio starts an output stream by calling back several times in a row until
    the device buffer is full of what we return. The ALSA pulse plugin sometimes flags an
    underflow inside that burst: the server took the first block before the second arrived
    (bench/stream_start.py: 1-4 % of starts, within 2 ms of the start). Those are counted
    apart, as `start_xruns`, until the first callback that finds 1.5 blocks already queued.

    After that, an underflow counts (`xruns`: the speaker ran dry, a crackle) only when the
    block before it carried reply audio: a late callback between replies, or while paused,
    interrupts silence, which nobody hears (`silent_xruns`)."""

    __slots__ = ("audible", "io", "ring", "scratch", "silent_xruns")

    def __init__(
        self, device: DeviceInfo, channels: int, ring: RingReader, io: AudioIO, blocksize: int
    ) -> None:
        super().__init__(device, channels)
        self.ring = ring
        self.io = io
        self.audible = False  # the last block carried reply audio
        self.silent_xruns = 0
        # Multi-channel devices: fill mono here, then copy to each channel. Copying column 0
        # of `outdata` onto its other columns would make numpy allocate a temporary (the
        # source and destination overlap in memory).
        self.scratch = np.zeros(blocksize if channels > 1 else 0, dtype=np.float32)

    def restarting(self) -> None:
        """The stream is about to start again (loop thread, while no callback runs)."""
        self.starting, self.fresh_thread, self.audible = True, True, False
        self.finished = self.resting = False

    def callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if self.fresh_thread:
            self.fresh_thread = False
            self.realtime = priority.ask_for_realtime(priority.AUDIO_PRIORITY)
        self.callbacks += 1
        self.latency = time.outputBufferDacTime - time.currentTime
        if status.output_underflow:
            if self.starting:
                self.start_xruns += 1
            elif self.audible:
                self.xruns += 1
            else:
                self.silent_xruns += 1
        if self.starting and start_fill_done(self.latency, frames, self.rate):
            self.starting = False
        if self.io.paused:
            outdata.fill(0)  # silence without consuming: an unconfirmed barge-in can resume
            self.audible = False
        elif self.channels == 1:
            self.audible = self.ring.fill(outdata[:, 0]) > 0
        else:
            mono = self.scratch[:frames]
            self.audible = self.ring.fill(mono) > 0
            for channel in range(self.channels):
                outdata[:, channel] = mono


class AudioIO:
    """Owns the input and output streams; see the module docstring for the thread rules.

    `paused`: when True the output plays silence and leaves the playback ring untouched.

    On demand (`output_on_demand`, the engine's way): the output stream is opened, checked and
    stopped at `start`, and runs only from `wake_output` (reply audio is in the ring) to
    `rest_output` (nothing left to play): no callback at all while nothing plays, and a reply's
    first block goes to an empty device buffer, heard at once (a start takes about a
    millisecond on a sound server). `prime_output`: each start fills the device buffer from
    the callback (PortAudio's priming) instead of with silence, and the buffer is
    `PRIMED_LEAD_BLOCKS` blocks deep: the reply's first block is the first thing the device
    plays, with a full buffer of reply behind it. (Filled with silence, a start could play a
    reply late and split; primed with PortAudio's "low" latency, the stream kept a block less
    queued than a running one and ran dry more often: bench/output_soak.py --ways compares
    them.) The input opens at `start(input=True)` or `set_input(True)` and closes with
    `set_input(False)`.
    """

    def __init__(
        self,
        capture: RingWriter,
        playback: RingReader,
        *,
        input_device: DeviceKey | None = None,
        output_device: DeviceKey | None = None,
        block_ms: float = 5.0,
        prefer_rate: int | None = None,
        channels: int | None = None,
        output_on_demand: bool = False,
        prime_output: bool = False,
        input_block_ms: float | None = None,
    ) -> None:
        """`*_device` None follows the system default. `prefer_rate`: ask devices for this
        rate first (sound-server PCMs such as ALSA `pulse` accept any rate and report a
        meaningless 44100 default); a device that refuses it runs at its own default rate.
        `channels`: open this many channels instead of mono-where-possible (odd devices).
        `input_block_ms`: the input's block, when not `block_ms`."""
        if block_ms <= 0:
            raise ValueError(f"block_ms must be positive, got {block_ms}")
        self.paused = False
        self.bell = LoudnessBell()  # the input callback rings it on a loud block (the pump arms it)
        self._capture = capture
        self._playback = playback
        self._keys: dict[Direction, DeviceKey | None] = {
            "input": input_device,
            "output": output_device,
        }
        self.block_ms = block_ms  # read-only after construction
        self.input_block_ms = input_block_ms or block_ms  # read-only after construction
        self._prefer_rate = prefer_rate
        self._channels = channels
        self._sides: dict[Direction, _Side | None] = {"input": None, "output": None}
        self._rates: dict[Direction, int] = {"input": 0, "output": 0}  # last rate each ran at
        self._retired = {"input": [0, 0, 0], "output": [0, 0, 0]}  # closed: callbacks, xruns, start
        self._latency = {"input": 0.0, "output": 0.0}
        self._faults: list[AudioFault] = []
        self._running = False
        self._want_input = True
        self._on_demand = output_on_demand
        self._prime = prime_output
        self._output_running = False  # the output stream is started (on demand: between wake/rest)
        self._output_block_ms = block_ms  # the output's block; `set_output_block` changes it
        self._reopens = 0
        self._server_threads = priority.SoundServerThreads(0, 0)  # as the last stream opened

    # -- control (loop thread) -------------------------------------------------------------

    def start(self, *, input: bool = True) -> None:
        """Open and start the streams (the input only if `input`; on demand, the output is
        opened and left stopped). Never raises for a device that fails to open: it falls back
        to the system default and `poll_faults` says so. Raises `devices.AudioUnavailable`
        when there is no PortAudio at all."""
        if self._running:
            return
        devices.sounddevice()  # AudioUnavailable now, not half-way through
        self._running, self._want_input = True, input
        self._open_all(devices.list_devices(), broken={})

    @property
    def input_open(self) -> bool:
        return self._sides["input"] is not None

    def set_input(self, on: bool) -> None:
        """Open or close the input stream while running (blocks for the open or close: about
        10 ms on a sound server). Audio already captured stays in the capture ring."""
        if on == self._want_input:
            return
        self._want_input = on
        if not self._running:
            return
        if on:
            self._open_all(devices.list_devices(), broken={}, only="input")
        else:
            self._close("input")

    @property
    def output_running(self) -> bool:
        return self._output_running

    def wake_output(self) -> None:
        """On demand: start the output stream if it is stopped (audio waits in the ring). A
        device that fails to start is handled as one that died (`poll_faults`)."""
        side = self._sides["output"]
        if self._output_running or side is None:
            return
        assert isinstance(side, _Playback)
        side.restarting()
        try:
            devices.start_stream(side.stream)
        except devices.StartTimeout:
            side.closing = True  # abandoned, as in `_try_start`: never closed
            self._sides["output"] = None
            self._faults.append(
                AudioFault(
                    "output",
                    f"The {_NOUN['output']} '{side.device.name}' did not start; playing is off "
                    f"until another {_NOUN['output']} is chosen.",
                )
            )
            return
        except devices.stream_errors():
            side.finished = True  # poll_faults recovers it
            return
        self._output_running = True
        # The start fills the empty device buffer with callbacks back to back: let them have
        # the GIL (this thread sleeps) until it is full, so no block of the reply's start comes
        # late. A few milliseconds, once per reply; never longer than `START_FILL_WAIT_S`.
        deadline = time.perf_counter() + START_FILL_WAIT_S
        while side.starting and time.perf_counter() < deadline:
            time.sleep(0.0005)

    def rest_output(self) -> None:
        """On demand: stop the output stream; call it once what it was handed has played (a
        stop drops what the device still holds). Cheap to call when it is stopped already."""
        side = self._sides["output"]
        if not self._on_demand or not self._output_running or side is None:
            return
        self._output_running = False
        side.rest()

    @property
    def output_block_ms(self) -> float:
        return self._output_block_ms

    def set_output_block(self, block_ms: float) -> None:
        """Reopen the output with another block size; call it while nothing plays (what the
        device still holds is dropped). On demand, a running output takes it at its next rest."""
        if block_ms == self._output_block_ms:
            return
        self._output_block_ms = block_ms
        if self._running and not (self._on_demand and self._output_running):
            self._close("output")
            self._open_all(devices.list_devices(), broken={}, only="output")

    def stop(self) -> None:
        """Close both streams (idempotent). The rings keep their contents."""
        self._running = False
        self._close_all()

    def set_devices(self, input_key: DeviceKey | None, output_key: DeviceKey | None) -> None:
        """Remember new devices (None: the system default) and reopen on them if running."""
        self._keys = {"input": input_key, "output": output_key}
        if self._running:
            self._reopen_rescanned(broken={})  # the user may have just plugged the device in

    def rescan(self) -> bool:
        """Look for devices again during a session: close both streams, re-scan, reopen as
        before (a "System default" direction on what is the default now). False when PortAudio
        could not re-scan (see `_reopen_rescanned`)."""
        return self._running and self._reopen_rescanned(broken={})

    def _reopen_rescanned(self, broken: dict[Direction, DeviceInfo]) -> bool:
        """Close both streams, re-scan, reopen (not on `broken` devices). Whether PortAudio
        re-scanned: not while another stream of this process is open (the settings' mic test),
        when the streams reopen on the devices as they were listed."""
        self._close_all()
        try:
            rescanned = devices.rescan()
        except devices.DevicesBusy:
            rescanned = False
        self._open_all(devices.list_devices(), broken=broken)
        return rescanned

    @property
    def output_device(self) -> DeviceInfo | None:
        side = self._sides["output"]
        return side.device if side else None

    def poll_faults(self) -> list[AudioFault]:
        """Faults since the last call, recovering from any stream that died. Cheap (two flag
        reads) when nothing happened."""
        broken: dict[Direction, _Side] = {
            d: s for d, s in self._sides.items() if s is not None and s.failed()
        }
        if broken and self._running:
            self._reopens += len(broken)
            self._reopen_rescanned(broken={d: s.device for d, s in broken.items()})
        faults, self._faults = self._faults, []
        return faults

    def blocksize(self, rate: int, direction: Direction = "input", hostapi: str = "") -> int:
        """Frames per callback at `rate`, whole periods of the host API (WASAPI's 10 ms)."""
        block_ms = self._output_block_ms if direction == "output" else self.input_block_ms
        return max(1, round(rate * devices.fit_block_ms(hostapi, block_ms) / 1000))

    def echo_delay_ms(self) -> float:
        """How late what the output plays comes back through the microphone: both streams'
        reported latencies plus what their host APIs add unreported (MME)."""
        stats = self.statistics()
        hostapi = {d: side.device.hostapi if side else "" for d, side in self._sides.items()}
        return devices.echo_delay_ms(
            hostapi["input"], stats.input_latency, hostapi["output"], stats.output_latency
        )

    @property
    def input_rate(self) -> int | None:
        side = self._sides["input"]
        return side.rate if side else None

    @property
    def output_rate(self) -> int | None:
        side = self._sides["output"]
        return side.rate if side else None

    def statistics(self) -> AudioStatistics:
        def total(direction: Direction, i: int) -> int:
            side = self._sides[direction]
            now = (side.callbacks, side.xruns, side.start_xruns)[i] if side else 0
            return self._retired[direction][i] + now

        def latency(direction: Direction) -> float:
            side = self._sides[direction]
            return side.latency if side else self._latency[direction]

        return AudioStatistics(
            capture=self._capture.statistics(),
            playback=self._playback.statistics(),
            input_rate=self.input_rate,
            output_rate=self.output_rate,
            input_overflows=total("input", 1),
            output_underflows=total("output", 1),
            output_start_underflows=total("output", 2),
            input_callbacks=total("input", 0),
            output_callbacks=total("output", 0),
            input_latency=latency("input"),
            output_latency=latency("output"),
            reopens=self._reopens,
            realtime=all(s.realtime for s in self._sides.values() if s is not None),
            sound_server_threads=self._server_threads.found,
            sound_server_threads_realtime=self._server_threads.realtime,
        )

    # -- opening and closing ---------------------------------------------------------------

    def _open_all(
        self,
        found: list[DeviceInfo],
        broken: dict[Direction, DeviceInfo],
        only: Direction | None = None,
    ) -> None:
        directions: tuple[Direction, ...] = (only,) if only else ("input", "output")
        for direction in directions:
            if direction == "input" and not self._want_input:
                continue
            notes: list[str] = []
            died = broken.get(direction)
            if died is not None:
                notes.append(
                    f"The {_NOUN[direction]} '{died.name}' stopped working "
                    "(unplugged, or taken away by the sound server?)."
                )
            self._sides[direction] = self._open_direction(direction, found, died, notes)
            if notes:
                self._faults.append(AudioFault(direction, " ".join(notes)))

    def _open_direction(
        self,
        direction: Direction,
        found: list[DeviceInfo],
        died: DeviceInfo | None,
        notes: list[str],
    ) -> _Side | None:
        """Start a stream on the remembered device, else on the system default; append what
        happened, in plain words, to `notes`. None when nothing could be opened.

        A chosen device that has just died is not retried at once: it is gone (a hardware
        device), or its sound server is still tearing it down, and PortAudio 19.6 may then
        hang in `Pa_StartStream` (see `devices.start_stream`; before the `check_settings`
        pre-flight, 3 immediate reopens in 5 hung). It moves to the system default instead;
        `set_devices` brings the chosen device back when it returns."""
        noun, verb, key = _NOUN[direction], _VERB[direction], self._keys[direction]
        default = devices.default_device(direction, found)
        wanted = None
        if key is not None and died is None:
            try:
                wanted = devices.resolve(key, direction, found)
            except devices.NoSuchDevice as missing:
                notes.append(str(missing))
            else:
                side, error = self._try_start(direction, wanted, notes)
                if side is not None:
                    return side
                notes.append(f"Could not open the {noun} '{wanted.name}' ({error}).")
        if default is None:
            notes.append(f"There is no system default {noun}; {verb} is off.")
            return None
        if wanted is not None and wanted.key == default.key:
            notes.append(f"{verb.capitalize()} is off until another {noun} is chosen.")
            return None
        side, error = self._try_start(direction, default, notes)
        if side is None:
            notes.append(
                f"Could not open the system default {noun} '{default.name}' ({error}); "
                f"{verb} is off until another {noun} is chosen."
            )
        elif key is not None or (died is not None and died.key != default.key):
            notes.append(f"{verb.capitalize()} on the system default '{default.name}' instead.")
        elif died is not None:
            notes.append(f"Reopened it; {verb} again.")
        return side

    def _try_start(
        self, direction: Direction, info: DeviceInfo, notes: list[str]
    ) -> tuple[_Side | None, str]:
        """Check, open, adopt the stream's rate (before any callback runs), start.
        (side, "") or (None, why)."""
        rate = self._choose_rate(direction, info)
        channels = self._choose_channels(direction, info, rate)
        # Ask PortAudio first (it opens and configures the device, then closes it): a device
        # it cannot configure is not opened at all, which keeps broken devices away from the
        # start that can hang (see `devices.start_stream`).
        refused = devices.check_settings(
            direction, device=info.index, samplerate=rate, channels=channels
        )
        if refused is not None:
            return None, refused
        blocksize = self.blocksize(rate, direction, info.hostapi)
        side: _Side
        if direction == "input":
            side = _Capture(info, channels, self._capture, self.bell)
        else:
            side = _Playback(info, channels, self._playback, self, blocksize)
        try:
            side.stream = devices.open_stream(
                direction,
                device=info.index,
                samplerate=rate,
                channels=channels,
                blocksize=blocksize,
                callback=side.callback,
                finished_callback=side.on_finished,
                **(self._primed_output(blocksize, rate) if direction == "output" else {}),
            )
        except devices.stream_errors() as exc:
            return None, devices.describe_error(exc)
        side.rate = round(side.stream.samplerate)
        notes += self._adopt_rate(direction, side)
        # Opening a stream on a PulseAudio device started a libpulse thread in this process that
        # will wake the callback thread: it gets the callbacks' priority before the first wake.
        self._server_threads = priority.promote_sound_server_threads()
        try:
            devices.start_stream(side.stream)
        except devices.StartTimeout as exc:
            side.closing = True  # abandoned: never closed, see `start_stream`
            return None, str(exc)
        except devices.stream_errors() as exc:  # the device vanished between open and start
            side.closing = True
            devices.close_stream(side.stream)
            return None, devices.describe_error(exc)
        if direction == "output":
            if self._on_demand:  # checked by starting it; it runs when there is audio to play
                side.rest()
                self._output_running = False
            else:
                self._output_running = True
        return side, ""

    def _primed_output(self, blocksize: int, rate: int) -> dict[str, Any]:
        """The output stream's priming and suggested latency (`prime_output`)."""
        if not self._prime:
            return {}
        return {"prime": True, "latency": PRIMED_LEAD_BLOCKS * blocksize / rate}

    def _choose_rate(self, direction: Direction, info: DeviceInfo) -> int:
        preferred = self._prefer_rate
        if preferred is not None:
            refused = devices.check_settings(
                direction, device=info.index, samplerate=preferred, channels=1
            )
            if refused is None:
                return preferred
        return round(info.default_samplerate)

    def _choose_channels(self, direction: Direction, info: DeviceInfo, rate: int) -> int:
        most = max(1, info.channels(direction))
        if self._channels:
            return min(self._channels, most)
        for channels in sorted({1, min(2, most), most}):
            refused = devices.check_settings(
                direction, device=info.index, samplerate=rate, channels=channels
            )
            if refused is None:
                return channels
            if "channels" not in refused.lower():
                break  # not a channel problem (PortAudio: "Invalid number of channels")
        return 1  # let the open itself say why

    def _adopt_rate(self, direction: Direction, side: _Side) -> list[str]:
        """Record the rate this direction now runs at. When it changed under a running
        session, drop the audio queued at the old rate (never play it at the wrong speed).
        The stream is open but not started, so no callback touches the ring meanwhile."""
        old, self._rates[direction] = self._rates[direction], side.rate
        if not old or old == side.rate:
            return []
        if direction == "output":
            before = self._playback.statistics().frames_flushed
            self._playback.discard()  # we are the ring's only reader while no stream runs
            dropped_ms = 1000 * (self._playback.statistics().frames_flushed - before) / old
            lost = f"dropped {dropped_ms:.0f} ms of audio queued at the old rate"
        else:
            self._capture.request_flush()  # the loop discards unread old-rate audio
            lost = "dropped unread audio captured at the old rate"
        noun = _NOUN[direction]
        note = (
            f"The {noun} '{side.device.name}' now runs at {side.rate} Hz (was {old} Hz); "
            f"reopened at the new rate and {lost}."
        )
        return [note]

    def _close_all(self) -> None:
        for direction in ("input", "output"):
            self._close(direction)

    def _close(self, direction: Direction) -> None:
        side = self._sides[direction]
        if side is not None:
            if direction == "output":
                self._output_running = False
            finished, side.closing = side.finished, True
            devices.close_stream(side.stream, finished=finished)
            self._retired[direction][0] += side.callbacks
            self._retired[direction][1] += side.xruns
            self._retired[direction][2] += side.start_xruns
            self._latency[direction] = side.latency
            self._sides[direction] = None
