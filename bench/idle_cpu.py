"""What waiting costs: CPU per state of TalkApp (`talkapp talk`) beside the plain SDK client.

    .venv/bin/python bench/idle_cpu.py [--seconds 8] [--settle 4] [--rounds 1] [--profile DIR]

One run, one private PulseAudio (tests/audio_server.py's daemon: a virtual speaker and a
virtual mic carrying silence), one simulator in this process. Each client runs alone, as its
own process, connected and waiting (nobody talks): `talkapp talk --mode ptt` (push-to-talk,
nothing pressed), `talkapp talk --mode server_vad` and `--mode local_vad` (hands-free,
listening), and the SDK client of bench/baseline_client.py listening with server VAD (it streams
the microphone to the service; it has no push-to-talk). After `--settle` seconds the bench reads
the process's CPU time (every thread, user + system, from /proc) over `--seconds` and prints it
as a share of one core, beside the SDK client's listening and the target of issue 19. With
`--rounds N` the states take turns N times and the table shows the median.

`--profile DIR` also runs py-spy (pip install py-spy) on each TalkApp state for the same window
and writes DIR/STATE.txt (py-spy's flat top-down dump of where the samples fell, idle threads
left out), to see which part spends the CPU.

The machine's load matters: compare figures of the same run only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

import audio_server

from talkapp.simulator import Simulator, SimulatorConfig

PYTHON = sys.executable
EXTRA_ARGS: list[str] = []  # more `talkapp talk` flags (--talk-args)
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class State:
    key: str
    label: str
    client: str  # "talkapp" or "sdk"
    mode: str
    target: float | None  # at most this times the SDK client's listening (None: reference)


STATES = (
    State("sdk", "SDK client, listening (server VAD)", "sdk", "server_vad", None),
    State("ptt", "push-to-talk, waiting", "talkapp", "ptt", 0.3),
    State("server_vad", "hands-free, listening (server VAD)", "talkapp", "server_vad", 1.0),
    State("local_vad", "hands-free, listening (local VAD)", "talkapp", "local_vad", 1.0),
)


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def command(state: State, url: str) -> list[str]:
    if state.client == "sdk":
        return [PYTHON, str(HERE / "idle_worker.py"), url, state.mode]
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
        self.process = subprocess.Popen(
            command(state, url),
            env=env,
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
            if any(word.lower() in line.lower() for word in self.READY):
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


def measure(state: State, url: str, env: dict[str, str], args: argparse.Namespace) -> float:
    client = Client(state, url, env)
    try:
        if not client.ready.wait(20):
            tail = "\n  ".join(client.lines[-8:])
            raise RuntimeError(f"{state.label}: the client did not get ready:\n  {tail}")
        time.sleep(args.settle)  # a bench, not a test: let start-up work (imports, GC) pass
        if client.process.poll() is not None:
            raise RuntimeError(f"{state.label}: the client exited ({client.process.returncode})")
        profiler = profile(state, client.process.pid, args)
        before, t0 = cpu_seconds(client.process.pid), time.monotonic()
        time.sleep(args.seconds)
        used, wall = cpu_seconds(client.process.pid) - before, time.monotonic() - t0
        if profiler is not None:
            profiler.wait()
        return 100 * used / wall
    finally:
        client.close()


def profile(state: State, pid: int, args: argparse.Namespace) -> subprocess.Popen | None:
    if not args.profile or state.client != "talkapp":
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


async def run(args: argparse.Namespace) -> dict[str, list[float]]:
    base = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    pulse = audio_server._start_daemon(base)
    # a key for the simulator's door, made now: the simulator takes any
    env = {**pulse.env, "TALKAPP_CUSTOM_API_KEY": secrets.token_hex(16), "PYTHONUNBUFFERED": "1"}
    figures: dict[str, list[float]] = {s.key: [] for s in STATES}
    try:
        async with Simulator(SimulatorConfig(record_events=False)) as sim:
            for round_ in range(args.rounds):
                for state in STATES:
                    print(f"round {round_ + 1}: {state.label} ...", flush=True)
                    share = await asyncio.to_thread(measure, state, sim.url, env, args)
                    figures[state.key].append(share)
                    print(f"  {share:.1f} % of a core", flush=True)
    finally:
        audio_server._stop_daemon(pulse)
        shutil.rmtree(base, ignore_errors=True)
    return figures


def table(figures: dict[str, list[float]]) -> str:
    sdk = statistics.median(figures["sdk"])
    rows = [
        f"{'state':<38} {'TalkApp':>9} {'SDK':>9} {'ratio':>7} {'target':>8}  met",
        "-" * 78,
    ]
    for state in STATES:
        if state.target is None:
            continue
        mine = statistics.median(figures[state.key])
        ratio = mine / sdk if sdk else float("inf")
        met = "yes" if ratio <= state.target else "NO"
        rows.append(
            f"{state.label:<38} {mine:>8.1f}% {sdk:>8.1f}% {ratio:>6.2f}x "
            f"{f'<= {state.target:.1f}x':>8}  {met}"
        )
    rows.append(f"(SDK: {STATES[0].label}; % of one core, median of {len(figures['sdk'])})")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring window per state")
    parser.add_argument("--settle", type=float, default=4.0, help="wait after connecting")
    parser.add_argument("--rounds", type=int, default=1, help="take turns this many times")
    parser.add_argument("--profile", metavar="DIR", help="py-spy each TalkApp state into DIR")
    parser.add_argument(
        "--talk-args", default="", help="more flags for `talkapp talk`, e.g. '--echo headset'"
    )
    args = parser.parse_args()
    EXTRA_ARGS.extend(args.talk_args.split())
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/idle_cpu.py needs {tool} (apt install pulseaudio pulseaudio-utils)")
    figures = asyncio.run(run(args))
    print()
    print(table(figures))


if __name__ == "__main__":
    main()
