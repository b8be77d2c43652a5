"""Audio devices: the only module that imports sounddevice (PortAudio).

Everything here runs on the asyncio loop thread or a worker it waits for (`asyncio.to_thread`),
one call at a time; never in a PortAudio callback. PortAudio is not re-entrant across
`rescan()`, so a module lock serialises every call that touches the device list.

- `list_devices()`, `find(key, kind)`, `default_device(kind)`, `device_table()`: what PortAudio
  sees *as of its last (re)initialisation*. Indices shift when devices come and go, so settings
  remember a `DeviceKey` (name + host API) and look the index up again with `find`.
- `resolve(wanted, kind)`: the one answer to "which device is that, now?" for the engine's
  streams, the settings and Compare probes and `talk --input/--output`: the system default, a
  remembered key, or a name typed by a person; `NoSuchDevice` says in plain words when none.
- Host APIs: on Windows PortAudio lists every device once per host API (MME, DirectSound,
  WASAPI, WDM-KS) and its own defaults are MME's, whose "low" latency is about 90 ms plus an
  unreported ~20 ms of the system mixer each way. So on Windows only the WASAPI devices are
  listed and "System default" is WASAPI's default (shared mode, at the device's mix rate: the
  rate PortAudio reports as its default); MME only when WASAPI lists nothing. Elsewhere every
  host API is listed with PortAudio's defaults (`select_devices`, pure, the platform an input).
- `rescan()`: PortAudio only notices new or removed devices (and changed default rates) when it
  is re-initialised. That tears down every stream, so it refuses while a stream opened through
  `open_stream` is still open (`DevicesBusy`).
- `check_settings()`, `open_stream()`, `start_stream()`, `close_stream()`: what `streams.py`
  needs from PortAudio, so that module never imports sounddevice and this one knows which
  streams are open (and works around two PortAudio 19.6 hazards, see `start_stream` and
  `close_stream`).

sounddevice is imported lazily: without the system PortAudio library, `import sounddevice`
raises `OSError('PortAudio library not found')`; that becomes `AudioUnavailable` with an
install hint, so the rest of the app (and its tests) run without audio.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from talkapp.threads import priority

Kind = Literal["input", "output"]
log = logging.getLogger(__name__)

_lock = threading.RLock()
_open_streams: weakref.WeakSet[Any] = weakref.WeakSet()
# streams PortAudio never finished starting or closing: never touched again
_stuck_streams: list[Any] = []
START_TIMEOUT = 3.0  # s; a healthy start takes 10-50 ms
CLOSE_TIMEOUT = 3.0  # s; so does a healthy close
_sounddevice: Any = None


class AudioUnavailable(RuntimeError):
    """The machine cannot do audio at all (PortAudio or sounddevice missing); the message
    says what to install."""


class DevicesBusy(RuntimeError):
    """A local misuse: `rescan()` while a stream is still open."""


class StartTimeout(RuntimeError):
    """PortAudio did not come back from starting a stream (the device's fault, not ours)."""


class NoSuchDevice(LookupError):
    """The device asked for is not there now; the message says so in one plain sentence."""


NOUNS = {"input": "microphone", "output": "speaker"}


@dataclass(frozen=True)
class DeviceKey:
    """How settings remember a device across sessions (the index is not stable)."""

    name: str
    hostapi: str

    def __str__(self) -> str:
        return f"{self.name} ({self.hostapi})"


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    hostapi: str  # host API name, e.g. "ALSA", "Core Audio", "Windows WASAPI"
    index: int  # valid until the next rescan
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool
    is_default_output: bool

    @property
    def key(self) -> DeviceKey:
        return DeviceKey(self.name, self.hostapi)

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels


def sounddevice() -> Any:
    """The sounddevice module, imported on first use; `AudioUnavailable` when it cannot be."""
    global _sounddevice
    if _sounddevice is None:
        try:
            import sounddevice as sd
        except ModuleNotFoundError as exc:
            raise AudioUnavailable(
                "Audio needs the Python package 'sounddevice': pip install sounddevice"
            ) from exc
        except OSError as exc:  # 'PortAudio library not found' on Linux without libportaudio2
            raise AudioUnavailable(_portaudio_hint(exc)) from exc
        _sounddevice = sd
    return _sounddevice


def _portaudio_hint(exc: OSError) -> str:
    if sys.platform.startswith("linux"):
        how = (
            "install the system package libportaudio2 (Debian/Ubuntu: sudo apt install "
            "libportaudio2; Fedora: sudo dnf install portaudio), and libasound2-plugins to "
            "reach PulseAudio or PipeWire"
        )
    else:
        how = "reinstall sounddevice (its wheel bundles PortAudio on this system)"
    return f"Audio is unavailable: the PortAudio library could not be loaded ({exc}); {how}."


def list_devices() -> list[DeviceInfo]:
    with _lock:
        sd = sounddevice()
        return select_devices(
            list(sd.query_devices()), list(sd.query_hostapis()), _default_indices(sd)
        )


WASAPI = "Windows WASAPI"
MME = "MME"
# WASAPI's shared-mode engine period: the system mixer takes audio in 10 ms packets, so a
# smaller block only makes PortAudio call back twice in a row per period.
WASAPI_PERIOD_MS = 10.0
# Latency a host API adds beyond what PortAudio reports for a stream, per direction: MME's
# system mixer (the WASAPI and Core Audio figures include the device's own latency).
UNREPORTED_LATENCY_S = {MME: 0.020}


def host_api_for(hostapis: Sequence[dict[str, Any]], platform: str | None = None) -> int | None:
    """The index of the one host API TalkApp lists on this platform, or None for all of them:
    on Windows WASAPI when it lists any device (it fails to initialise when the Windows Audio
    service is off), else MME; elsewhere None."""
    platform = sys.platform if platform is None else platform
    if platform != "win32":
        return None
    for wanted in (WASAPI, MME):
        for index, api in enumerate(hostapis):
            if api["name"] == wanted and api.get("devices"):
                return index
    return None


def select_devices(
    raw: Sequence[dict[str, Any]],
    hostapis: Sequence[dict[str, Any]],
    defaults: tuple[int, int],
    platform: str | None = None,
) -> list[DeviceInfo]:
    """`DeviceInfo`s from PortAudio's device and host-API dicts (`sd.query_devices()`,
    `sd.query_hostapis()`) and its default (input, output) indices: every device, or on
    Windows those of `host_api_for` with that host API's own defaults."""
    only = host_api_for(hostapis, platform)
    default_in, default_out = defaults
    if only is not None:
        api = hostapis[only]
        default_in, default_out = api["default_input_device"], api["default_output_device"]
    names = [api["name"] for api in hostapis]
    return [
        DeviceInfo(
            name=d["name"],
            hostapi=names[d["hostapi"]],
            index=d["index"],
            max_input_channels=d["max_input_channels"],
            max_output_channels=d["max_output_channels"],
            default_samplerate=float(d["default_samplerate"]),
            is_default_input=d["index"] == default_in,
            is_default_output=d["index"] == default_out,
        )
        for d in raw
        if only is None or d["hostapi"] == only
    ]


def fit_block_ms(hostapi: str, block_ms: float) -> float:
    """The block length that suits the host API: on WASAPI a whole number of its periods
    (5 ms becomes 10), elsewhere `block_ms` as asked. Pure; for `AudioIO.blocksize`."""
    if hostapi != WASAPI:
        return block_ms
    periods = max(1, math.ceil(block_ms / WASAPI_PERIOD_MS - 1e-9))
    return periods * WASAPI_PERIOD_MS


def echo_delay_ms(
    input_hostapi: str, input_latency: float, output_hostapi: str, output_latency: float
) -> float:
    """How late the echo of what is played reaches the microphone, from the streams' real
    latencies (s, as PortAudio's callbacks report them) plus what their host APIs add
    unreported. Pure; for the engine's echo canceller."""
    extra = UNREPORTED_LATENCY_S.get(input_hostapi, 0.0)
    extra += UNREPORTED_LATENCY_S.get(output_hostapi, 0.0)
    return 1000 * (input_latency + output_latency + extra)


def _default_indices(sd: Any) -> tuple[int, int]:
    """PortAudio's system defaults (-1 when there is none). Asked of PortAudio itself rather
    than `sd.default.device`, which the app never sets but a library might."""
    return sd._lib.Pa_GetDefaultInputDevice(), sd._lib.Pa_GetDefaultOutputDevice()


# ALSA hardware device names end with their card address, e.g. "USB Audio: - (hw:2,0)"; the
# card number changes when cards are enumerated in another order, the rest does not.
_ALSA_ADDRESS = re.compile(r"\s*\((?:plug)?hw:\d+,\d+\)$")


# MME cuts device names to 31 characters (the WAVEINCAPS name field).
MME_NAME_LENGTH = 31


def find(key: DeviceKey, kind: Kind, devices: Sequence[DeviceInfo] | None = None) -> int | None:
    """The current index of the device remembered as `key` that can do `kind`, or None.
    An exact name wins; failing that, an ALSA hardware name whose card number changed; a
    device remembered under a host API no longer listed (MME, saved before Windows listed
    only WASAPI) is the one listed device whose name starts with its (maybe cut) name."""
    devices = list_devices() if devices is None else devices
    usable = [d for d in devices if d.hostapi == key.hostapi and d.channels(kind) > 0]
    for d in usable:
        if d.name == key.name:
            return d.index
    stem = _ALSA_ADDRESS.sub("", key.name)
    if stem != key.name:
        for d in usable:
            if _ALSA_ADDRESS.sub("", d.name) == stem:
                return d.index
    if key.hostapi == MME and not any(d.hostapi == MME for d in devices):
        moved = [d for d in devices if d.channels(kind) > 0 and d.name.startswith(key.name)]
        if len(moved) == 1 and (len(key.name) >= MME_NAME_LENGTH or moved[0].name == key.name):
            return moved[0].index
    return None


def default_device(kind: Kind, devices: Sequence[DeviceInfo] | None = None) -> DeviceInfo | None:
    """The system default device for `kind`, or None when the system has none."""
    devices = list_devices() if devices is None else devices
    for d in devices:
        if (d.is_default_input if kind == "input" else d.is_default_output) and d.channels(kind):
            return d
    return None


def device_info(index: int, devices: Sequence[DeviceInfo] | None = None) -> DeviceInfo | None:
    devices = list_devices() if devices is None else devices
    return next((d for d in devices if d.index == index), None)


def resolve(
    wanted: DeviceKey | str | None, kind: Kind, devices: Sequence[DeviceInfo] | None = None
) -> DeviceInfo:
    """The device for `kind` as PortAudio sees it now:
    - None: the system default;
    - a `DeviceKey` (remembered in the settings): that device (see `find`);
    - a name a person typed (`talk --input`): the device of exactly that name, else the only
      one whose name contains it, any case.
    Raises `NoSuchDevice`; `AudioUnavailable` when there is no audio at all."""
    devices = list_devices() if devices is None else devices
    noun = NOUNS[kind]
    if wanted is None:
        info = default_device(kind, devices)
        if info is None:
            raise NoSuchDevice(f"There is no system default {noun}.")
        return info
    if isinstance(wanted, DeviceKey):
        index = find(wanted, kind, devices)
        info = device_info(index, devices) if index is not None else None
        if info is None:
            raise NoSuchDevice(f"The {noun} '{wanted.name}' is not connected.")
        return info
    usable = [d for d in devices if d.channels(kind) > 0]
    exact = [d for d in usable if d.name == wanted]
    matches = exact or [d for d in usable if wanted.lower() in d.name.lower()]
    if len(matches) != 1:
        names = ", ".join(f"'{d.name}'" for d in (matches or usable)) or "none"
        problem = "matches several" if matches else "matches no"
        raise NoSuchDevice(f"'{wanted}' {problem} {kind} device; choose one of: {names}")
    return matches[0]


def rescan() -> bool:
    """Re-initialise PortAudio so it sees devices added or removed since the last scan (and
    their current default rates). Every index obtained before is invalid afterwards.

    Returns False, changing nothing, once a stream got stuck starting or closing
    (`start_stream`, `close_stream`): terminating PortAudio would destroy the mutex it is stuck
    on and abort the process."""
    with _lock:
        sd = sounddevice()
        still_open = [s for s in _open_streams if not s.closed]
        if still_open:
            raise DevicesBusy(
                f"cannot rescan audio devices while {len(still_open)} stream(s) are open; "
                "close them first"
            )
        if _stuck_streams:
            return False
        sd._terminate()
        sd._initialize()
        return True


def open_stream(
    kind: Kind,
    *,
    device: int,
    samplerate: float,
    channels: int,
    blocksize: int,
    callback: Callable[..., None],
    finished_callback: Callable[[], None],
    prime: bool = False,
    latency: float | str = "low",
) -> Any:
    """An unstarted float32 `sd.InputStream` / `sd.OutputStream`; PortAudio errors propagate
    as one of `stream_errors()`. `prime` (output): each start fills the device buffer from
    `callback` before the device starts, instead of with silence. `latency`: PortAudio's
    suggested latency (s, or "low" / "high")."""
    with _lock:
        sd = sounddevice()
        cls = sd.InputStream if kind == "input" else sd.OutputStream
        stream = cls(
            device=device,
            samplerate=samplerate,
            channels=channels,
            dtype="float32",
            blocksize=blocksize,  # never 0: the ALSA pulse plugin then calls back every ~1 ms
            latency=latency,
            callback=callback,
            finished_callback=finished_callback,
            **({"prime_output_buffers_using_stream_callback": True} if prime else {}),
        )
        _open_streams.add(stream)
        return stream


def start_stream(stream: Any, timeout: float = START_TIMEOUT) -> None:
    """`stream.start()`, given up on after `timeout` (`StartTimeout`).

    PortAudio 19.6's ALSA backend hangs for good in `Pa_StartStream` when the device fails in
    `snd_pcm_start`: its callback thread locks a mutex, fails, and exits without unlocking it,
    and the starter waits on that mutex forever. Seen here with a PulseAudio sink unloaded just
    before: the open succeeded and the start never returned, 5 tries in 5 (`AudioIO` now asks
    `check_settings` first, which refused that device every time). So the start runs on
    `_Worker`'s thread; if it does not return, that thread and the stream are abandoned (kept
    referenced, never closed: PortAudio is still inside them) and the caller moves on."""
    failure = _on_worker(stream, stream.start, timeout)
    if failure is None:
        raise StartTimeout(f"the device did not start within {timeout:g} s")
    if failure:
        raise failure[0]


def close_stream(stream: Any, *, finished: bool = False, timeout: float = CLOSE_TIMEOUT) -> None:
    """Stop and close; errors from a device that already vanished are ignored.

    `stop`, not `abort`: PortAudio's ALSA backend aborts by `pthread_cancel`-ling the callback
    thread wherever it is (inside Python, libpulse or ALSA, maybe holding a lock); `stop` lets
    it finish its block and joins it. `finished`: PortAudio already called the stream's
    `finished_callback` (the device died) and that thread is on its way out; wait until it has
    left (`active` turns False as the last thing it does) before touching the stream.

    A close that has not returned after `timeout` is abandoned as a stuck start is
    (`start_stream`): PortAudio 19.6 can hang where a start can, and the app's disconnect and
    quit (and every other device call, for this module's lock) must not wait on it for good."""
    with _lock:
        deadline = time.monotonic() + 1.0
        while finished and stream.active and time.monotonic() < deadline:
            time.sleep(0.002)
        if _on_worker(stream, lambda: _stop_and_close(stream), timeout) is None:
            log.warning("PortAudio did not close an audio stream within %g s; left behind", timeout)
        _open_streams.discard(stream)


def _stop_and_close(stream: Any) -> None:
    for step in (stream.stop, stream.close):
        with contextlib.suppress(Exception):  # closing a dead stream must never raise
            step(ignore_errors=True)


def _on_worker(stream: Any, call: Callable[[], None], timeout: float) -> list[BaseException] | None:
    """Run `call` (a PortAudio call on `stream`) on the kept `_Worker`: what it raised (an empty
    list: nothing), or None when it had not returned after `timeout`. Then PortAudio is stuck
    inside it: the thread and `stream` are abandoned, and the next call gets a new thread."""
    global _worker
    with _lock:
        worker = _worker = _worker or _Worker()
    done, failure = worker.submit(call)
    if done.wait(timeout):
        return failure
    with _lock:
        if _worker is worker:
            _worker = None
        _abandon(stream)
    return None


class _Worker:
    """The thread that starts and closes streams, kept between calls: the output on demand
    starts once per reply, and a new thread each time came before the reply's first audio."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[], None], threading.Event, list[BaseException]]
        ] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="portaudio-worker", daemon=True).start()

    def submit(self, call: Callable[[], None]) -> tuple[threading.Event, list[BaseException]]:
        done, failure = threading.Event(), list[BaseException]()
        self._jobs.put((call, done, failure))
        return done, failure

    def _run(self) -> None:
        # Real-time, passed on to the callback thread PortAudio creates at each start (Linux):
        # on a busy machine, a start at normal priority, and the new callback thread, waited for
        # a core before a reply's first audio could play
        priority.ask_for_realtime(priority.AUDIO_PRIORITY, inherited=True)
        while True:
            call, done, failure = self._jobs.get()
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 -- re-raised in the waiting caller
                failure.append(exc)
            finally:
                done.set()


_worker: _Worker | None = None


def _abandon(stream: Any) -> None:
    """PortAudio is stuck inside `stream`: never touch it again (nor terminate PortAudio)."""
    _open_streams.discard(stream)
    _stuck_streams.append(stream)
    sounddevice()._initialized = 0  # so its exit handler skips Pa_Terminate (abort)


def check_settings(kind: Kind, *, device: int, samplerate: float, channels: int) -> str | None:
    """None when PortAudio says the device accepts these settings, else its reason."""
    with _lock:
        sd = sounddevice()
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        try:
            check(device=device, samplerate=samplerate, channels=channels, dtype="float32")
        except stream_errors() as exc:
            return describe_error(exc)
        return None


def stream_errors() -> tuple[type[Exception], ...]:
    """What opening or starting a stream raises for a device that cannot do it: PortAudio's
    own error, or sounddevice's ValueError for settings it rejects before asking."""
    return (sounddevice().PortAudioError, ValueError)


def describe_error(exc: BaseException) -> str:
    """A PortAudio error in a few words: "Error opening OutputStream: Unanticipated host
    error [PaErrorCode -9999]: 'Input/output error' [ALSA error -5]" becomes "Unanticipated
    host error: 'Input/output error'" (the codes mean nothing to a user)."""
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    text = re.sub(r"^Error \w+ \w*Stream: ", "", text)
    return re.sub(r"\s*\[[^\]]*\]", "", text).rstrip(".")


def device_table(devices: Sequence[DeviceInfo] | None = None) -> list[str]:
    """Lines for `talkapp devices`: one row per device; `>` marks the default input, `<` the
    default output, `*` both."""
    devices = list_devices() if devices is None else devices
    if not devices:
        return ["No audio devices found (is a sound server running?)"]
    header = ("", "#", "in", "out", "rate", "host API")
    rows = [header] + [_table_row(d) for d in devices]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    names = ["name"] + [d.name for d in devices]
    lines = [_table_line(row, widths) + "  " + name for row, name in zip(rows, names, strict=True)]
    lines.append("> default input   < default output   * both")
    return [line.rstrip() for line in lines]


def _table_row(d: DeviceInfo) -> tuple[str, ...]:
    marks = {(True, True): "*", (True, False): ">", (False, True): "<"}
    mark = marks.get((d.is_default_input, d.is_default_output), "")
    return (
        mark,
        str(d.index),
        str(d.max_input_channels),
        str(d.max_output_channels),
        f"{d.default_samplerate:.0f}",
        d.hostapi,
    )


def _table_line(row: tuple[str, ...], widths: list[int]) -> str:
    numeric = (1, 2, 3, 4)
    cells = [
        c.rjust(w) if i in numeric else c.ljust(w)
        for i, (c, w) in enumerate(zip(row, widths, strict=True))
    ]
    return " ".join(cells)
