"""The output on demand against the output running all session: the same turns, both ways,
repeated, idle or with both cores busy (a script, not a test).

    .venv/bin/python bench/output_soak.py [--runs 10] [--load busy] [--mode local_vad]
        [--ways 'on demand,running'] [--trace]

A private PulseAudio (tests/audio_server.py's daemon) with its speaker recorded, the built-in
simulator (replies 4x faster than real time, as in tests/test_engine_audio.py) and TalkApp's
engine, in turn each way of `--ways`: the output on demand as the engine runs it (each start
primed with the reply), running all session, or on demand with its start filled with silence
(`unprimed`) or primed with PortAudio's "low" latency (`primed-low`). Each run starts a fresh
engine and asks two questions through the virtual mic:
  1. the reply plays whole: it is checked in the recording as tests/test_engine_audio.py checks
     it (`played_span`); a reply that goes out of sight, or loses audio, is "damaged";
  2. the reply is talked over once the engine says CUTS_MS were heard (one value per run in
     turn: early cuts land near the stream's start): the truncate's audio_end_ms
     against where playback stopped in the recording (`cut_interval`), "trunc err" the ms
     outside [heard from, heard to] widened by one block + 1 ms, as the test allows.
Prints one row per run and a table per way: runs, damaged replies, truncate errors (count, and
the worst), output underflows (while playing, silent ones apart) and start underflows.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import audio_server
from audio_server import align, cut_interval
from speech import silence, speak
from test_engine_audio import played_span

from talkapp.audio import devices
from talkapp.audio.echo import EchoMode
from talkapp.session import engine_events as out
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.threads.tuning import tuned_for_live_audio

QUESTION = "Hello, can you tell me the weather in Paris today?"
INTERRUPTION = "Wait, stop, I meant London."
BUSY = "while True: pass"
LOADS = {"idle": [], "busy": [BUSY, BUSY]}
CUTS_MS = (60, 150, 400, 1500)  # heard before the barge-in, one per run in turn
# The output's start in the variants, as open_stream gets them: (prime, suggested latency);
# None: as the engine asks (on demand: primed, AudioIO.PRIMED_LEAD_BLOCKS deep)
VARIANTS: dict[str, tuple[bool, str] | None] = {
    "on demand": None,
    "running": None,
    "unprimed": (False, "low"),  # each start fills the device buffer with silence
    "primed-low": (True, "low"),  # primed, PortAudio's "low" latency
}
VARIANT: list[tuple[bool, str] | None] = [None]


def control_priming() -> None:
    """The variants: on demand, each start of the output opened as VARIANTS says."""
    from talkapp.audio import streams

    open_stream = streams.devices.open_stream

    def as_variant(kind, *args, **kwargs):
        if kind == "output" and VARIANT[0] is not None:
            kwargs["prime"], kwargs["latency"] = VARIANT[0]
        return open_stream(kind, *args, **kwargs)

    streams.devices.open_stream = as_variant  # type: ignore[assignment]


TRACE: list[tuple[float, float, bool, bool, int, int]] = []


def trace_callbacks() -> None:
    """--trace: note every output callback (perf_counter, DAC latency, underflow flag, still
    starting, ring read position before it, frames) for `underflow_report`."""
    from talkapp.audio import streams

    callback = streams._Playback.callback

    def traced(self, outdata, frames, time, status) -> None:
        position = self.ring.position
        callback(self, outdata, frames, time, status)
        TRACE.append(
            (
                perf_counter(),
                time.outputBufferDacTime - time.currentTime,
                bool(status.output_underflow),
                self.starting,
                position,
                frames,
            )
        )

    streams._Playback.callback = traced  # type: ignore[method-assign]


def underflow_report(rate: int) -> list[str]:
    """Each flagged callback: ms since its stream's first callback (a gap > 0.2 s starts a
    stream), the DAC latency before and at it, and the frames it says vanished: what was queued
    after the previous callback, less what can have played since, less what is queued now."""
    lines, start = [], 0.0
    for i, (t, latency, flagged, starting, position, frames) in enumerate(TRACE):
        if i == 0 or t - TRACE[i - 1][0] > 0.2:
            start = t
        if not flagged or i == 0:
            continue
        t0, latency0, _, _, _, frames0 = TRACE[i - 1]
        expected = max(0.0, latency0 + frames0 / rate - (t - t0))
        lines.append(
            f"      underflow {1000 * (t - start):7.1f} ms into a stream{' (starting)' * starting}:"
            f" gap {1000 * (t - t0):5.1f} ms, latency {1000 * latency0:5.1f} -> "
            f"{1000 * latency:5.1f} ms (expected {1000 * expected:5.1f}), "
            f"vanished {1000 * (expected - latency):+6.1f} ms"
        )
    audible = [1000 * row[1] for row in TRACE if not row[3]]
    if audible:
        lines.append(
            f"      DAC latency over {len(audible)} callbacks: min {min(audible):.1f}, median "
            f"{float(np.median(audible)):.1f}, max {max(audible):.1f} ms"
        )
    TRACE.clear()
    return lines


@dataclass
class Run:
    way: str
    damaged: bool = False
    span: str = ""
    truncate_error_ms: float = 0.0
    cut: str = ""
    underflows: int = 0
    start_underflows: int = 0
    notes: list[str] = field(default_factory=list)


class Log:
    def __init__(self) -> None:
        self.events: list = []
        self.changed = asyncio.Event()

    def __call__(self, event) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 30.0):
        async with asyncio.timeout(timeout):
            while not (found := [e for e in self.events if predicate(e)]):
                self.changed.clear()
                await self.changed.wait()
            return found[-1]

    def count(self, state: out.State) -> int:
        return sum(1 for e in self.events if isinstance(e, out.StateChanged) and e.state is state)


def reply_audio(sim, item: str | None = None) -> np.ndarray:
    pcm = b"".join(
        base64.b64decode(e["delta"])
        for e in sim.connections[-1].sent
        if isinstance(e, dict)
        and e.get("type") == "response.output_audio.delta"
        and (item is None or e["item_id"] == item)
    )
    return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0


def items(sim) -> list[str]:
    return list(
        dict.fromkeys(
            e["item_id"]
            for e in sim.connections[-1].sent
            if isinstance(e, dict) and e.get("type") == "response.output_audio.delta"
        )
    )


def truncates(sim) -> list[dict]:
    return [
        e
        for e in sim.connections[-1].received
        if isinstance(e, dict) and e.get("type") == "conversation.item.truncate"
    ]


async def feed(pulse, samples: np.ndarray) -> None:
    await asyncio.to_thread(pulse.feed_mic(samples).wait)


async def speak_and_wait_speaking(pulse, log: Log, text: str) -> None:
    spoke = log.count(out.State.ASSISTANT_SPEAKING)
    await feed(pulse, np.concatenate([silence(0.3), speak(text), silence(0.3)]))
    await log.wait_for(lambda _e: log.count(out.State.ASSISTANT_SPEAKING) > spoke)


def finished_speaking(log: Log):
    """Back to listening after the last 'speaking' state."""

    def done(_event) -> bool:
        states = [e.state for e in log.events if isinstance(e, out.StateChanged)]
        spoke = [i for i, s in enumerate(states) if s is out.State.ASSISTANT_SPEAKING]
        return bool(spoke) and out.State.LISTENING in states[spoke[-1] :]

    return done


async def until(condition, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.002)


async def one_run(pulse, sim, mode: Mode, way: str, cut_ms: int, tuning) -> Run:
    run = Run(way)
    log = Log()
    options = AudioOptions(echo=EchoMode.HEADSET, output_on_demand=way != "running")
    VARIANT[:] = [VARIANTS[way]]
    engine = Engine(ProviderProfile(base_url=sim.url), "sk-soak", log, mode, options, tuning=tuning)
    assert await engine.start(), log.events
    try:
        # 1. a whole reply
        speaker = pulse.record()
        await speak_and_wait_speaking(pulse, log, QUESTION)
        await log.wait_for(finished_speaking(log))
        await asyncio.sleep(0.3)
        recorded = speaker.stop()
        (first,) = items(sim)
        reply = reply_audio(sim, first)
        start = align(reply[:24000], recorded)
        end = 1000 * len(reply) / 24000
        got = played_span(reply, recorded, start.lag)
        run.span = f"{got[0]:.0f}/{end:.0f}"
        run.damaged = start.similarity < 0.95 or got != (end, end)
        # 2. a barge-in once `cut_ms` were heard
        speaker = pulse.record()
        await speak_and_wait_speaking(pulse, log, QUESTION)
        second = items(sim)[-1]
        await until(lambda: engine._audio.speaker.heard_ms(second) >= cut_ms)
        await feed(pulse, np.concatenate([speak(INTERRUPTION), silence(0.8)]))
        await log.wait_for(lambda e: isinstance(e, out.TranscriptChanged) and e.turn.interrupted)
        await asyncio.sleep(0.5)
        recorded = speaker.stop()
        (truncate,) = truncates(sim)
        reply = reply_audio(sim, second)
        lag = align(reply[:4800], recorded).lag
        lo, hi = cut_interval(reply, recorded[lag:])
        heard_from, heard_to = 1000 * lo / 24000, 1000 * hi / 24000
        said = truncate["audio_end_ms"]
        tolerance = engine.audio_block_ms + 1
        if said > heard_to + tolerance:
            run.truncate_error_ms = said - heard_to
        elif said < heard_from - tolerance:
            run.truncate_error_ms = said - heard_from
        run.cut = f"{said} in {heard_from:.0f}-{heard_to:.0f}"
        stats = engine.statistics()
        assert stats is not None
        run.underflows, run.start_underflows = (
            stats.output_underflows,
            stats.output_start_underflows,
        )
    finally:
        await engine.stop()
    return run


async def soak(pulse, runs: int, mode: Mode, ways: list[str]) -> list[Run]:
    results: list[Run] = []
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=4.0))) as sim:
        with tuned_for_live_audio() as tuning:
            for i in range(runs):
                for way in ways:
                    cut = CUTS_MS[i % len(CUTS_MS)]
                    try:
                        run = await one_run(pulse, sim, mode, way, cut, tuning)
                    except (TimeoutError, AssertionError, ValueError) as exc:
                        where = traceback.extract_tb(exc.__traceback__)[-1].lineno
                        run = Run(way, damaged=True, notes=[f"failed at {where}: {exc!r}"])
                    results.append(run)
                    print(
                        f"  run {i + 1:2d} {way:9} cut {cut:4d}: reply {run.span:>11}"
                        f"{' DAMAGED' if run.damaged else ''}  truncate {run.cut:>16}"
                        f"  err {run.truncate_error_ms:+5.0f}  underflows {run.underflows}"
                        f" (start {run.start_underflows}) {' '.join(run.notes)}",
                        flush=True,
                    )
                    for line in underflow_report(48_000):
                        print(line, flush=True)
    return results


def table(results: list[Run], load: str, mode: Mode, ways: list[str]) -> None:
    print(f"\noutput soak: {mode.value}, {load}")
    print(
        f"  {'output':12}{'runs':>6}{'damaged':>9}{'trunc err':>11}{'worst ms':>10}"
        f"{'underflows':>12}{'start uf':>10}"
    )
    for way in ways:
        rows = [r for r in results if r.way == way]
        worst = max((r.truncate_error_ms for r in rows), key=abs, default=0.0)
        print(
            f"  {way:12}{len(rows):6d}"
            f"{sum(r.damaged for r in rows):9d}"
            f"{sum(r.truncate_error_ms != 0 for r in rows):11d}{worst:+10.0f}"
            f"{sum(r.underflows for r in rows):12d}{sum(r.start_underflows for r in rows):10d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per way (default 10)")
    parser.add_argument("--load", choices=sorted(LOADS), default="idle")
    parser.add_argument(
        "--mode", choices=["local_vad", "server_vad"], default="local_vad", help="turn detection"
    )
    parser.add_argument("--trace", action="store_true", help="analyse every underflow")
    parser.add_argument(
        "--ways",
        default="on demand,running",
        help="comma-separated, in turn each run: 'on demand' (the engine's default: each start "
        "primed with the reply, a few blocks deep), 'running' (all session), 'unprimed' (on "
        "demand, each start filled with silence, 'low' latency), 'primed-low' (primed, 'low')",
    )
    args = parser.parse_args()
    ways = [w.strip() for w in args.ways.split(",")]
    if set(ways) - set(VARIANTS):
        parser.error(f"unknown way(s) {sorted(set(ways) - set(VARIANTS))}: use {list(VARIANTS)}")
    control_priming()
    if args.trace:
        trace_callbacks()
    mode = Mode.LOCAL_VAD if args.mode == "local_vad" else Mode.SERVER_VAD
    pulse = audio_server._start_daemon(Path(tempfile.mkdtemp(prefix="talkapp-output-soak-")))
    load = [subprocess.Popen([sys.executable, "-c", p]) for p in LOADS[args.load]]
    try:
        pulse.adopt_environment()
        devices.rescan()
        results = asyncio.run(soak(pulse, args.runs, mode, ways))
    finally:
        for process in load:
            process.kill()
            process.wait()
        audio_server._stop_daemon(pulse)
    table(results, args.load, mode, ways)


if __name__ == "__main__":
    main()
