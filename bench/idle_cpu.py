"""What waiting costs: CPU per state of TalkApp (`talkapp talk` and the desktop app) beside the
plain SDK client.

    .venv/bin/python bench/idle_cpu.py [--seconds 8] [--settle 4] [--rounds 1] [--profile DIR]
                                       [--app-hands-free] [--app-running] [--only KEYS]
                                       [--threads]

One run, one private PulseAudio (tests/audio_server.py's daemon: a virtual speaker and a
virtual mic carrying silence), one simulator in this process. Each client runs alone, as its
own process, connected and waiting (nobody talks): `talkapp talk --mode ptt` (push-to-talk,
nothing pressed), `talkapp talk --mode server_vad` and `--mode local_vad` (hands-free,
listening), and the SDK client of bench/baseline_client.py listening with server VAD (it streams
the microphone to the service; it has no push-to-talk). After `--settle` seconds the bench reads
the process's CPU time (every thread, user + system, from /proc) over `--seconds` and prints it
as a share of one core, beside the SDK client's listening and the target of issue 19. With
`--rounds N` the states take turns N times and the table shows the median.

The desktop app (bench/app_worker.py: `talkapp.app.run()`, what `talkapp` runs) is measured the
same way, in the same PulseAudio, on a private Xvfb display (offscreen Qt when there is no Xvfb;
the table says which), with a private config, data and log folder holding a custom
(OpenAI-compatible) profile at the bench's simulator: connected in push-to-talk with nobody
talking, and disconnected (connected, then Disconnect). `--app-hands-free` adds the app
listening hands-free (server VAD, unmuted); `--app-running` adds the app in push-to-talk with
its output stream running all session, the way before the output on demand
(TALKAPP_OUTPUT_ON_DEMAND=0). `--only ptt,app_ptt`
runs those rows (and the SDK client's, which every ratio needs).

`--threads` prints, per state, the busiest threads (bench/proc_threads.py, from /proc): each
one's CPU and wakeups per second over the same window, the main (GUI) thread marked. A thread
that wakes often costs more than its CPU share shows (GIL hand-offs, the CPU kept out of deep
sleep): an idle window's GUI thread should not wake at all.

`--profile DIR` also runs py-spy (pip install py-spy) on each TalkApp state for the same window
and writes DIR/STATE.txt (py-spy's flat top-down dump of where the samples fell, idle threads
left out), to see which part spends the CPU.

The machine's load matters: compare figures of the same run only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # the sound-server fixture
sys.path.insert(0, str(HERE))

import audio_server
import numpy as np
import proc_threads

from talkapp.controller import with_mode
from talkapp.settings.model import Settings
from talkapp.settings.profile import command_line_profile
from talkapp.settings.store import SettingsStore
from talkapp.simulator import Simulator, SimulatorConfig

PYTHON = sys.executable
QUESTION = "Hello, can you tell me the weather in Paris today?"
EXTRA_ARGS: list[str] = []  # more `talkapp talk` flags (--talk-args)
TICK = os.sysconf("SC_CLK_TCK")
DISPLAY_USED: list[str] = []  # what the app ran on, for the table


@dataclass(frozen=True)
class State:
    key: str
    label: str
    client: str  # "talkapp" (`talkapp talk`), "app" (the desktop app) or "sdk"
    mode: str
    target: float | None  # at most this times the `versus` state's CPU (None: no target)
    env: tuple[tuple[str, str], ...] = ()  # more environment for the client
    talking: bool = False  # a person talks into the mic while it is measured (a conversation)
    versus: str = "sdk"  # the SDK client's state the ratio is taken against


SDK = State("sdk", "SDK client, listening (server VAD)", "sdk", "server_vad", None)
OUTPUT_RUNNING = (("TALKAPP_OUTPUT_ON_DEMAND", "0"),)
SDK_TALKING = State(
    "sdk_talk", "SDK client, in conversation (server VAD)", "sdk", "server_vad", None, talking=True
)
TALKING = State(
    "talk",
    "in conversation (server VAD)",
    "talkapp",
    "server_vad",
    1.0,
    talking=True,
    versus=SDK_TALKING.key,
)
STATES = (
    SDK,
    SDK_TALKING,
    TALKING,
    State("ptt", "push-to-talk, waiting", "talkapp", "ptt", 0.3),
    State("server_vad", "hands-free, listening (server VAD)", "talkapp", "server_vad", 1.0),
    State("local_vad", "hands-free, listening (local VAD)", "talkapp", "local_vad", 1.0),
    State("app_ptt", "app: push-to-talk, waiting", "app", "ptt", 0.3),
    State("app_off", "app: disconnected", "app", "disconnected", None),
)
APP_HANDS_FREE = State(
    "app_server_vad", "app: hands-free, listening (server VAD)", "app", "server_vad", 1.0
)
APP_RUNNING = State(
    "app_ptt_running", "app: push-to-talk, output running", "app", "ptt", None, OUTPUT_RUNNING
)


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def command(state: State, url: str) -> list[str]:
    if state.client == "sdk":
        return [PYTHON, str(HERE / "idle_worker.py"), url, state.mode]
    if state.client == "app":
        return [PYTHON, str(HERE / "app_worker.py"), state.mode]
    return [
        PYTHON,
        "-m",
        "talkapp",
        "talk",
        "--mode",
        state.mode,
        "--base-url",
        url,
        "--provider",
        "custom",
        "--no-history",
        *EXTRA_ARGS,
    ]


class Client:
    """One client process; `ready` is set once it says it is connected and waiting."""

    READY = ("ready", "Push-to-talk:", "listening")

    def __init__(self, state: State, url: str, env: dict[str, str]) -> None:
        self.ready = threading.Event()
        self.lines: list[str] = []
        # the app prints only what bench/app_worker.py says; Qt's warnings may say anything
        self.words = ("ready:", "error:") if state.client == "app" else self.READY
        self.process = subprocess.Popen(
            command(state, url),
            env={**env, **dict(state.env)},
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if any(word.lower() in line.lower() for word in self.words):
                self.ready.set()

    def close(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Person:
    """Talks into the virtual mic until stopped: the question, then `PAUSE_S` for the reply,
    over and over (the same schedule for every client, from when it is ready)."""

    PAUSE_S = 6.0

    def __init__(self, pulse: audio_server.PulseServer) -> None:
        from speech import silence, speak

        self._pulse = pulse
        self._question = np.concatenate([silence(0.2), speak(QUESTION), silence(0.2)])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._talk, daemon=True)
        self._thread.start()

    def _talk(self) -> None:
        while not self._stop.is_set():
            self._pulse.feed_mic(self._question).wait()
            self._stop.wait(self.PAUSE_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def audible_s(recorded: np.ndarray, rate: int = audio_server.RATE) -> float:
    """Seconds of `recorded` that carry sound (10 ms windows above -40 dBFS)."""
    windows = recorded[: len(recorded) // (rate // 100) * (rate // 100)].reshape(-1, rate // 100)
    return float(np.sum(np.sqrt(np.mean(windows**2, axis=1)) > 0.01)) / 100


def measure(
    state: State,
    url: str,
    env: dict[str, str],
    args: argparse.Namespace,
    pulse: audio_server.PulseServer,
) -> float:
    if state.client == "app":
        app_settings(state, url, Path(env["TALKAPP_CONFIG_DIR"]))
    client = Client(state, url, env)
    person = None
    try:
        if not client.ready.wait(40) or client.lines[-1].startswith("error:"):
            tail = "\n  ".join(client.lines[-8:])
            raise RuntimeError(f"{state.label}: the client did not get ready:\n  {tail}")
        if state.talking:
            person = Person(pulse)
        time.sleep(args.settle)  # a bench, not a test: let start-up work (imports, GC) pass
        if client.process.poll() is not None:
            raise RuntimeError(f"{state.label}: the client exited ({client.process.returncode})")
        pid = client.process.pid
        profiler = profile(state, pid, args)
        threads = proc_threads.snapshot(pid) if args.threads else {}
        speaker = pulse.record() if state.talking else None
        before, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.seconds)
        used, wall = cpu_seconds(pid) - before, time.monotonic() - t0
        if speaker is not None:  # the conversation took place: replies were heard
            print(f"    reply audio at the speaker: {audible_s(speaker.stop()):.1f} s", flush=True)
        if args.threads:
            for name, cpu, wakeups in proc_threads.busiest(
                pid, threads, proc_threads.snapshot(pid), wall
            ):
                print(f"    {name:<40} {cpu:5.1f} %  {wakeups:7.1f} wakeups/s", flush=True)
        if profiler is not None:
            profiler.wait()
        return 100 * used / wall
    finally:
        if person is not None:
            person.stop()
        client.close()


def app_settings(state: State, url: str, folder: Path) -> None:
    """The app's settings for `state`: one custom profile at the simulator, active; hands-free
    as the window's switch leaves it (the profile's turn detection written)."""
    profile = dataclasses.replace(command_line_profile(url, "custom"), name="Bench simulator")
    settings = Settings(profiles=(profile,), active=profile.name)
    mode = "ptt" if state.mode == "disconnected" else state.mode
    SettingsStore(folder).save(with_mode(settings, mode))


def profile(state: State, pid: int, args: argparse.Namespace) -> subprocess.Popen | None:
    if not args.profile or state.client == "sdk":
        return None
    spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    if not Path(spy).exists():
        print("  (no py-spy: pip install py-spy)", flush=True)
        return None
    out = Path(args.profile) / f"{state.key}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--duration", str(int(args.seconds))]
        + ["--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_display(base: Path) -> tuple[dict[str, str], subprocess.Popen | None, str]:
    """A private Xvfb for the app (what the tests use); offscreen Qt when there is none.
    Returns the environment to add, the server (or None) and what the table says."""
    if shutil.which("Xvfb") is None:
        return {"QT_QPA_PLATFORM": "offscreen"}, None, "offscreen Qt (no Xvfb)"
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=audio_server._die_with_parent,  # noqa: PLW1509 - Xvfb dies with the bench
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # Xvfb writes it once it accepts connections
    if not number:
        server.wait()
        sys.exit(f"Xvfb did not start (exit status {server.returncode})")
    env = {"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb", "XAUTHORITY": str(base / "none")}
    return env, server, f"Xvfb :{number} (xcb)"


async def run(args: argparse.Namespace, states: tuple[State, ...]) -> dict[str, list[float]]:
    base = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    pulse = audio_server._start_daemon(base)
    display_env, display, used = start_display(base)
    DISPLAY_USED[:] = [used]
    # a key for the simulator's door, made now: the simulator takes any
    env = {**pulse.env, "TALKAPP_CUSTOM_API_KEY": secrets.token_hex(16), "PYTHONUNBUFFERED": "1"}
    env.update(display_env)
    # the app's own folders, and no OS keyring: the key is this run's variable above
    for name in ("CONFIG", "DATA", "LOG"):
        env[f"TALKAPP_{name}_DIR"] = str(base / f"app-{name.lower()}")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    figures: dict[str, list[float]] = {s.key: [] for s in states}
    try:
        async with Simulator(SimulatorConfig(record_events=False)) as sim:
            for round_ in range(args.rounds):
                for state in states:
                    print(f"round {round_ + 1}: {state.label} ...", flush=True)
                    share = await asyncio.to_thread(measure, state, sim.url, env, args, pulse)
                    figures[state.key].append(share)
                    print(f"  {share:.1f} % of a core", flush=True)
    finally:
        if display is not None:
            display.terminate()
            display.wait()
        audio_server._stop_daemon(pulse)
        shutil.rmtree(base, ignore_errors=True)
    return figures


def table(figures: dict[str, list[float]], states: tuple[State, ...]) -> str:
    rows = [
        f"{'state':<42} {'TalkApp':>9} {'SDK':>9} {'ratio':>7} {'target':>8}  met",
        "-" * 82,
    ]
    for state in states:
        if state.client == "sdk":
            continue
        mine, sdk = (statistics.median(figures[key]) for key in (state.key, state.versus))
        ratio = mine / sdk if sdk else float("inf")
        if state.target is None:
            target, met = "—", ""
        else:
            target, met = f"<= {state.target:.1f}x", "yes" if ratio <= state.target else "NO"
        rows.append(
            f"{state.label:<42} {mine:>8.1f}% {sdk:>8.1f}% {ratio:>6.2f}x {target:>8}  {met}"
        )
    rows.append(
        f"(SDK: {SDK.label}; in conversation: {SDK_TALKING.label}; "
        f"% of one core, median of {len(next(iter(figures.values())))})"
    )
    if any(state.client == "app" for state in states):
        rows.append(f"(app: the desktop app on {DISPLAY_USED[0]})")
    return "\n".join(rows)


def chosen(args: argparse.Namespace) -> tuple[State, ...]:
    states = STATES + (APP_HANDS_FREE,) * args.app_hands_free + (APP_RUNNING,) * args.app_running
    if not args.only:
        return states
    keys = set(args.only.split(","))
    unknown = keys - {state.key for state in states}
    keys |= {state.versus for state in states if state.key in keys}
    if unknown:
        sys.exit(
            f"--only: no state {', '.join(sorted(unknown))}; choose from "
            + ", ".join(state.key for state in states)
        )
    return tuple(state for state in states if state.key in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring window per state")
    parser.add_argument("--settle", type=float, default=4.0, help="wait after connecting")
    parser.add_argument("--rounds", type=int, default=1, help="take turns this many times")
    parser.add_argument("--profile", metavar="DIR", help="py-spy each TalkApp state into DIR")
    parser.add_argument(
        "--talk-args", default="", help="more flags for `talkapp talk`, e.g. '--echo headset'"
    )
    parser.add_argument(
        "--app-hands-free", action="store_true", help="also the app listening (server VAD)"
    )
    parser.add_argument(
        "--app-running",
        action="store_true",
        help="also the app in push-to-talk with its output stream running all session",
    )
    parser.add_argument(
        "--threads", action="store_true", help="each state's busiest threads: CPU and wakeups"
    )
    parser.add_argument("--only", metavar="KEYS", help="these states only (comma-separated keys)")
    args = parser.parse_args()
    states = chosen(args)
    EXTRA_ARGS.extend(args.talk_args.split())
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/idle_cpu.py needs {tool} (apt install pulseaudio pulseaudio-utils)")
    figures = asyncio.run(run(args, states))
    print()
    print(table(figures, states))


if __name__ == "__main__":
    main()
