"""`talkapp --self-test`: does this installation work? Made for the frozen app (PyInstaller
bundle), where a missing native library or data file only shows when it is used.

One line per check, `ok` or `FAIL` and a short detail; exit status 1 if any check failed.
Nothing is shown, played or recorded, and the user's settings and keyring are not touched.

  qt         Qt starts (offscreen when there is no display) and builds the main window, with its
             icon
  portaudio  PortAudio loads and lists devices (0 devices passes with a note); frozen: the
             bundled copy; Windows: WASAPI is there; an output stream on the default speaker
             opens and closes (nothing is played; on Linux a refusal is a note, not a failure)
  webrtcvad  the local voice-activity detector judges a frame
  echo       the echo canceller (WebRTC APM through LiveKit's native library) cleans frames
  tls        a default TLS context has CA certificates (for wss://); what wss:// trusts
             (the OS store through truststore; required on macOS and Windows)
  keyring    the OS keyring backend the app stores keys with is present; on macOS and Windows
             it is the one in use (not keyring's fail backend)
  data       the package data (hello.wav, prices.json) and the app icon are there
  simulator  the built-in simulator answers one whole spoken turn (hello.wav) over a real socket
  tools      the calculator answers in its own worker process (frozen: the app run as a worker)
  hotkey     the global hotkey's helper process starts and reads a combination (frozen: the app
             run as the helper); no keyboard is watched (that needs the user's permission)
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import json
import os
import platform
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from talkapp import __version__
from talkapp.threads.waits import within

LIMIT_S = 120.0  # a hung check (a driver, a socket) must not hang CI: the process ends after this
TURN_TIMEOUT_S = 20.0


class CheckFailed(Exception):
    """A check's own verdict; `str()` is the detail shown after FAIL."""


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    ms: float

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name:<10} {self.detail} ({self.ms:.0f} ms)"


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def app_root() -> Path | None:
    """The folder the frozen app was unpacked into (TalkApp.app/Contents on macOS); None when
    not frozen."""
    if not frozen():
        return None
    executable = Path(sys.executable).resolve()
    return executable.parent.parent if sys.platform == "darwin" else executable.parent


def _inside_app(path: str | os.PathLike) -> bool:
    root = app_root()
    return root is not None and Path(path).resolve().is_relative_to(root)


# ---- the checks: each returns its detail or raises ----


def check_qt() -> str:
    if sys.platform.startswith("linux") and not any(
        os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QCoreApplication, QEvent, qVersion

    from talkapp.app import ICON, DesktopApp, app_icon, qt_application
    from talkapp.settings.store import SettingsStore

    app = qt_application([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="talkapp-selftest-") as folder:
        desktop = DesktopApp(SettingsStore(Path(folder)))  # defaults; the user's settings untouched
        try:
            title = desktop.window.windowTitle()
        finally:
            desktop.shutdown()
            desktop.window.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if app_icon().pixmap(32, 32).isNull():
        raise CheckFailed(f"the window icon did not render ({ICON}; Qt's svg icon engine)")
    return f"Qt {qVersion()} on '{app.platformName()}', main window '{title}' built, icon renders"


def check_portaudio() -> str:
    from talkapp.audio import devices

    try:
        found = devices.list_devices()
    except devices.AudioUnavailable as exc:
        raise CheckFailed(str(exc)) from None
    sd = devices.sounddevice()
    library = _mapped("libportaudio") or str(getattr(sd, "_libname", "?"))
    if frozen() and not _inside_app(library):
        raise CheckFailed(f"PortAudio was loaded from {library}, not from the app (runtime hook)")
    version = sd.get_portaudio_version()[1].split(",")[0]
    where = f"{version}, {_short(library)}"
    if not found:
        return (
            f"{where}; 0 devices (no sound card or sound server here: nothing to use, but it loads)"
        )
    problem = host_api_problem(sys.platform, [api["name"] for api in sd.query_hostapis()])
    if problem:
        raise CheckFailed(problem)
    inputs = sum(d.max_input_channels > 0 for d in found)
    outputs = sum(d.max_output_channels > 0 for d in found)
    apis = ", ".join(sorted({d.hostapi for d in found}))
    stream = _output_stream_note(devices, found)
    return f"{where}; {len(found)} devices ({inputs} in, {outputs} out) via {apis}; {stream}"


def host_api_problem(system: str, hostapis: list[str]) -> str | None:
    """Why this PortAudio cannot serve TalkApp on `system`, or None: on Windows it must have
    WASAPI (what TalkApp uses there; a PortAudio built without it would fall back to MME)."""
    from talkapp.audio.devices import WASAPI

    if system == "win32" and WASAPI not in hostapis:
        return f"PortAudio has no {WASAPI} (only {', '.join(hostapis) or 'nothing'})"
    return None


def _output_stream_note(devices: Any, found: list[Any]) -> str:
    """Open an output stream on the default speaker and close it again, without starting it
    (nothing is played). A refusal fails the check on macOS and Windows, where a default
    speaker is a real device; on Linux the default may name a sound server not running here."""
    default = devices.default_device("output", found)
    if default is None:
        return "no default speaker to open"
    rate = round(default.default_samplerate)
    try:
        stream = devices.open_stream(
            "output",
            device=default.index,
            samplerate=rate,
            channels=1 if default.max_output_channels >= 1 else 2,
            blocksize=max(1, rate // 100),
            callback=lambda *args: None,
            finished_callback=lambda: None,
        )
    except devices.stream_errors() as exc:
        why = devices.describe_error(exc)
        if sys.platform in ("darwin", "win32"):
            raise CheckFailed(f"the default speaker '{default.name}' did not open: {why}") from None
        return f"the default speaker did not open here ({why})"
    devices.close_stream(stream)
    return f"output stream on '{default.name}' ({default.hostapi}, {rate} Hz) opened and closed"


def check_webrtcvad() -> str:
    import numpy as np
    import webrtcvad

    vad = webrtcvad.Vad(2)
    rate, frame = 16000, 160 * 2  # 10 ms of 16 kHz mono PCM16
    silent = vad.is_speech(bytes(frame), rate)
    t = np.arange(frame // 2) / rate
    tone = (0.5 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
    vad.is_speech(tone, rate)  # runs; the verdict on one frame of a tone is the VAD's business
    if silent:
        raise CheckFailed("webrtcvad called 10 ms of digital silence speech")
    return "10 ms frames at 16 kHz judged (silence: not speech)"


def check_echo() -> str:
    import numpy as np

    from talkapp.audio.echo import FRAME, EchoMode, open_echo_canceller

    canceller = open_echo_canceller(EchoMode.AEC)
    rng = np.random.default_rng(0)
    block = 4 * FRAME
    far = (0.1 * rng.standard_normal(block)).astype(np.float32)
    canceller.far_end(far)
    cleaned = canceller.near_end((0.05 * far).astype(np.float32))
    if len(cleaned) != block or not np.all(np.isfinite(cleaned)):
        raise CheckFailed(f"the APM returned {len(cleaned)} samples for {block}")
    library = _livekit_library()
    if frozen() and library and not _inside_app(library):
        raise CheckFailed(f"LiveKit's library was loaded from {library}, not from the app")
    return (
        f"WebRTC APM (AEC3) cleaned {block // FRAME} x 10 ms frames; {_short(library or 'livekit')}"
    )


def _livekit_library() -> str | None:
    if mapped := _mapped("livekit_ffi"):
        return mapped
    with contextlib.suppress(Exception):
        from livekit.rtc import _ffi_client

        name = _ffi_client._lib_name()
        if name:
            return str(resources.files("livekit.rtc.resources") / name)
    return None


def check_tls() -> str:
    context = ssl.create_default_context()
    count = context.cert_store_stats()["x509_ca"]
    paths = ssl.get_default_verify_paths()
    cafile = os.environ.get("SSL_CERT_FILE") or paths.cafile
    source = (
        "certifi's bundle"
        if cafile and "certifi" in Path(cafile).parts
        else (
            "the system store"
            if sys.platform == "win32"
            else f"the system's {cafile or paths.capath}"
        )
    )
    trust = _wss_trust()
    if count:
        return f"{count} CA certificates from {source}; wss:// trusts {trust}"
    capath = os.environ.get("SSL_CERT_DIR") or paths.capath
    lazy = [p for p in Path(capath).glob("*.[0-9]")] if capath and Path(capath).is_dir() else []
    if lazy:  # a hashed directory is read on demand, so the count above stays 0
        return f"{len(lazy)} CA certificates in {capath} (read on demand)"
    raise CheckFailed(
        f"no CA certificates (cafile {cafile}, capath {capath}): wss:// would fail to verify"
    )


def _wss_trust() -> str:
    """What the transport's wss:// context trusts; on macOS and Windows it must be the OS
    store (a company CA in the Keychain or the Windows store), through truststore."""
    from talkapp.transport.websocket import tls_context

    context = tls_context()
    if type(context).__module__.startswith("truststore"):
        return "the OS certificate store (truststore)"
    if sys.platform in ("darwin", "win32"):
        raise CheckFailed("truststore is missing: wss:// would not trust the OS certificate store")
    return "OpenSSL's roots (truststore missing)"


def keyring_problem(system: str, active_backend_module: str) -> str | None:
    """On macOS and Windows, the keyring in use must be the OS's own: keyring falls back to
    its `fail` backend when the native one cannot load (a bundle missing a module), and then
    no key can be stored at all."""
    native = {"darwin": "keyring.backends.macOS", "win32": "keyring.backends.Windows"}.get(system)
    if native is None or active_backend_module.startswith(native):
        return None
    return f"the keyring in use is {active_backend_module}, not {native}: no key could be stored"


def check_keyring() -> str:
    import importlib
    from importlib.metadata import entry_points

    import keyring

    declared = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    if not declared:
        raise CheckFailed("keyring finds no backends (its entry-point metadata is missing)")
    native = {"darwin": "keyring.backends.macOS", "win32": "keyring.backends.Windows"}.get(
        sys.platform, "keyring.backends.SecretService"
    )
    importlib.import_module(native)
    if native.endswith("SecretService"):
        importlib.import_module("secretstorage")
    active = keyring.get_keyring()
    problem = keyring_problem(sys.platform, type(active).__module__)
    if problem:
        raise CheckFailed(problem)
    return (
        f"{native.rsplit('.', 1)[1]} present; in use here: "
        f"{type(active).__module__.rsplit('.', 1)[-1]}.{type(active).__name__}"
    )


def check_data() -> str:
    from talkapp.app import ICON

    data = resources.files("talkapp.data")
    prices = json.loads(data.joinpath("prices.json").read_text(encoding="utf-8"))
    wav = data.joinpath("hello.wav").read_bytes()
    if not wav.startswith(b"RIFF"):
        raise CheckFailed("talkapp/data/hello.wav is not a WAV file")
    if not ICON.is_file():
        raise CheckFailed(f"the app icon is missing: {ICON}")
    return (
        f"hello.wav ({len(wav) // 1024} KiB), prices.json ({len(prices)} keys), "
        f"{ICON.parent.name}/{ICON.name}"
    )


def check_simulator() -> str:
    import dataclasses

    from talkapp.audio.wav import read_wav_for_wire
    from talkapp.protocol.commands import SessionConfig
    from talkapp.session.one_turn import run_one_turn
    from talkapp.settings.profile import DEFAULT_MODEL, ProviderProfile
    from talkapp.simulator import SIMULATOR_KEY, Knobs, Simulator, SimulatorConfig

    with resources.as_file(resources.files("talkapp.data").joinpath("hello.wav")) as path:
        pcm = read_wav_for_wire(path)

    async def one_turn():
        config = SimulatorConfig(record_events=False, knobs=Knobs(audio_pace=0))
        async with Simulator(config) as sim:
            profile = ProviderProfile(
                name="self-test",
                base_url=sim.url,
                model=DEFAULT_MODEL,
                session=dataclasses.replace(SessionConfig(), turn_detection=None),
            )
            result = await run_one_turn(
                profile.endpoint(),
                SIMULATOR_KEY,
                profile.session,
                pcm,
                pace=0,
                timeout=TURN_TIMEOUT_S,
            )
            return profile, result

    profile, result = asyncio.run(within(one_turn(), TURN_TIMEOUT_S + 5))
    if result.status != "completed" or not result.reply_pcm or not result.assistant_transcript:
        raise CheckFailed(
            f"the turn ended '{result.status}' with {result.reply_ms:.0f} ms of reply audio"
        )
    return (
        f"{profile.describe()}: {len(pcm) // 48} ms spoken, "
        f"{result.reply_ms / 1000:.1f} s reply audio and its transcript"
    )


def check_tools() -> str:
    from talkapp.tools.isolated import run_isolated, worker_command

    answer = asyncio.run(
        within(run_isolated("talkapp.tools.calculator:evaluate_formatted", "6 * 7"), 30)
    )
    if answer != "42":
        raise CheckFailed(f"the calculator's worker answered {answer!r} to 6 * 7")
    worker = " ".join(os.path.basename(part) for part in worker_command())
    return f"6 * 7 = 42 from a worker process ({worker})"


def check_hotkey() -> str:
    import subprocess

    from talkapp.ui.global_hotkey import helper_command

    command = [*helper_command(), "<ctrl>+<nosuchkey>"]  # refused before any listener starts
    done = subprocess.run(
        command, input="", capture_output=True, text=True, timeout=60, check=False
    )
    line = (done.stdout.strip().splitlines() or [""])[0]
    return hotkey_helper_verdict(sys.platform, line)


def hotkey_helper_verdict(system: str, first_line: str) -> str:
    """The helper's first line for an unknown key: on macOS and Windows (where the hotkey runs
    in it) it must have read the combination with pynput; on Linux pynput is optional and may
    lack a display, so any protocol line passes."""
    if "not a key combination" in first_line:
        return "the helper process reads combinations with pynput"
    if system in ("darwin", "win32") or not first_line.startswith("error "):
        raise CheckFailed(f"the hotkey helper answered {first_line or 'nothing'!r}")
    return f"the helper process answers ({first_line.removeprefix('error ')})"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("qt", check_qt),
    ("portaudio", check_portaudio),
    ("webrtcvad", check_webrtcvad),
    ("echo", check_echo),
    ("tls", check_tls),
    ("keyring", check_keyring),
    ("data", check_data),
    ("simulator", check_simulator),
    ("tools", check_tools),
    ("hotkey", check_hotkey),
)


def run_checks() -> Iterator[Result]:
    for name, check in CHECKS:
        started = time.perf_counter()
        try:
            ok, detail = True, check()
        except Exception as exc:  # noqa: BLE001 - any failure is a FAIL line, never a traceback
            ok, detail = False, _one_line(exc)
        yield Result(name, ok, detail, (time.perf_counter() - started) * 1000)


def main() -> int:
    out = _output()
    with contextlib.suppress(Exception):  # no stderr (a windowed app): no watchdog, still a result
        faulthandler.dump_traceback_later(LIMIT_S, exit=True)
    try:
        started = time.perf_counter()
        where = "frozen" if frozen() else f"Python {platform.python_version()}"
        _say(out, f"talkapp {__version__} self-test ({where}, {sys.platform} {platform.machine()})")
        failed = 0
        for result in run_checks():
            failed += not result.ok
            _say(out, result.line())
        verdict = (
            f"{failed} of {len(CHECKS)} checks FAILED" if failed else f"all {len(CHECKS)} checks ok"
        )
        _say(out, f"self-test: {verdict} in {time.perf_counter() - started:.1f} s")
        return 1 if failed else 0
    finally:
        with contextlib.suppress(Exception):
            faulthandler.cancel_dump_traceback_later()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) if not isinstance(exc, CheckFailed) else str(exc)
    text = text if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {text}"
    return text if len(text) <= 300 else text[:297] + "..."


def _short(path: str) -> str:
    """A library path, relative to the app when frozen."""
    root = app_root()
    if root is not None and _inside_app(path):
        return f"bundled {Path(path).resolve().relative_to(root)}"
    return path


def _mapped(name: str) -> str | None:
    """The file a loaded native library was mapped from (Linux), whatever name it was asked by."""
    with (
        contextlib.suppress(OSError),
        open("/proc/self/maps", encoding="utf-8", errors="replace") as maps,
    ):
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if name in Path(path).name:
                return path
    return None


def _output() -> TextIO | None:
    """stdout; a windowed Windows app has none, so borrow the console it was started from."""
    if sys.stdout is not None:
        return sys.stdout
    if sys.platform == "win32":
        with contextlib.suppress(Exception):
            import ctypes

            if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
                return open("CONOUT$", "w", encoding="utf-8", errors="replace")
    return None


def _say(out: TextIO | None, line: str) -> None:
    if out is None:
        return
    try:
        out.write(line + "\n")
    except UnicodeEncodeError:  # a device name a cp1252 pipe cannot carry
        encoding = getattr(out, "encoding", None) or "ascii"
        out.write((line + "\n").encode(encoding, "replace").decode(encoding))
    out.flush()
