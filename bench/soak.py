"""A long conversation, to see that memory and threads stay flat (a script, not a test).

    .venv/bin/python bench/soak.py [--minutes 10]

A private PulseAudio (tests/audio_server.py's daemon), the built-in simulator (bounded, as the
app runs it) and TalkApp's engine in server-VAD mode with echo cancellation: espeak speech is
fed into the virtual mic turn after turn; every third reply is talked over (a barge-in); at the
middle the simulator drops the connection mid-reply (a forced reconnect). Prints turns asked
and completed, barge-ins, errors, reconnects, RSS (current and peak) and thread count once
connected, after the first turn ("start": first-use allocations done), at the middle and at the
end, and RSS each minute.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import audio_server
from speech import silence, speak

from talkapp.audio import devices
from talkapp.audio.echo import EchoMode
from talkapp.session import engine_events as out
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.threads.tuning import LiveAudioTuning

QUESTIONS = [
    "What is the weather like in Paris today?",
    "Tell me a short story about a cat.",
    "How far away is the moon?",
    "Which is bigger, a whale or an elephant?",
]
INTERRUPTION = "Wait, stop. Something else, please."


def process_figures() -> tuple[float, float, int, int]:
    """(RSS MB, peak RSS MB, OS threads, Python threads) of this process."""
    fields = dict(
        line.split(":", 1)
        for line in Path("/proc/self/status").read_text().splitlines()
        if ":" in line
    )
    kb = lambda key: int(fields[key].split()[0]) / 1024
    return kb("VmRSS"), kb("VmHWM"), int(fields["Threads"]), threading.active_count()


class Tally:
    def __init__(self, knobs: Knobs) -> None:
        self.knobs = knobs
        self.completed = self.interrupted = self.errors = self.reconnects = 0
        self.speaking = asyncio.Event()
        self.listening = asyncio.Event()
        self.messages: list[str] = []

    def __call__(self, event) -> None:
        match event:
            case out.TurnMeasured():
                self.completed += 1
            case out.TranscriptChanged(turn=turn) if turn.interrupted and turn.final:
                self.interrupted += 1
            case (
                out.Notice(level="error", text=text)
                | out.StateChanged(state=out.State.ERROR, detail=text)
            ):
                self.errors += 1
                self.messages.append(text)
            case out.StateChanged(state=out.State.RECONNECTING, detail=detail) if (
                "attempt 1 " in detail
            ):
                self.reconnects += 1
                self.knobs.drop_after_audio_deltas = (
                    None  # one forced drop: the resumed reply plays
                )
            case out.StateChanged(state=out.State.ASSISTANT_SPEAKING):
                self.speaking.set()
            case out.StateChanged(state=out.State.LISTENING):
                self.listening.set()


async def feed(pulse, samples: np.ndarray) -> None:
    await asyncio.to_thread(pulse.feed_mic(samples).wait)


async def one_turn(pulse, tally: Tally, n: int, barge_in: bool) -> None:
    tally.speaking.clear()
    tally.listening.clear()
    await feed(pulse, np.concatenate([speak(QUESTIONS[n % len(QUESTIONS)]), silence(0.3)]))
    await asyncio.wait_for(tally.speaking.wait(), 20)
    if barge_in:
        await asyncio.sleep(1.0)
        await feed(pulse, np.concatenate([speak(INTERRUPTION), silence(0.3)]))
        await asyncio.sleep(0.5)
    tally.listening.clear()
    await asyncio.wait_for(tally.listening.wait(), 30)


async def soak(pulse, minutes: float) -> None:
    config = SimulatorConfig(record_events=False, knobs=Knobs(audio_pace=4.0))
    async with Simulator(config) as sim:
        tally = Tally(sim.knobs)
        profile = ProviderProfile(base_url=sim.url)
        engine = Engine(
            profile,
            "sk-soak",
            tally,
            Mode.SERVER_VAD,
            AudioOptions(echo=EchoMode.AEC),
            tuning=LiveAudioTuning(),
        )  # as the app and `talkapp talk` run their engines
        assert await engine.start(), tally.messages
        # "connected" is before any turn; "start" after the first one (with a barge-in), once
        # what a process allocates on first use (echo canceller, resamplers, code paths, the
        # simulator's first reply) is there: growth from "start" is what a long session adds.
        figures = {"connected": process_figures()}
        started, asked, dropped, unfinished = time.monotonic(), 0, False, 0
        minute_rss: list[float] = []
        while time.monotonic() - started < minutes * 60:
            if not dropped and time.monotonic() - started > minutes * 30:
                figures["middle"] = process_figures()
                sim.knobs.drop_after_audio_deltas, dropped = 3, True
            try:
                await one_turn(pulse, tally, asked, barge_in=asked % 3 == 0)
            except TimeoutError:
                unfinished += 1
                tally.messages.append(f"turn {asked + 1} did not finish")
            asked += 1
            if asked == 1:
                figures["start"] = process_figures()
            if (time.monotonic() - started) // 60 >= len(minute_rss):
                minute_rss.append(process_figures()[0])
        figures["end"] = process_figures()
        stats = engine.statistics()
        await engine.stop()
    report(asked, unfinished, tally, figures, minute_rss, stats, minutes)


def report(
    asked: int,
    unfinished: int,
    tally: Tally,
    figures: dict,
    minute_rss: list[float],
    stats,
    minutes: float,
) -> None:
    print(f"\nsoak: {minutes:g} minutes, server VAD, echo cancellation on, one forced reconnect")
    print(f"  turns asked          {asked}   unfinished {unfinished}")
    print(
        f"  replies completed    {tally.completed}   "
        f"(talked over on purpose: {tally.interrupted}; each barge-in gets its own reply)"
    )
    print(f"  reconnects           {tally.reconnects}")
    print(
        f"  errors               {tally.errors}"
        + (f"   {tally.messages[:3]}" if tally.messages else "")
    )
    if stats is not None:
        print(
            f"  playback underruns   {stats.playback.underruns}   "
            f"overruns (capture) {stats.capture.overruns}"
        )
    print(f"\n  {'when':8}{'RSS MB':>10}{'peak MB':>10}{'OS threads':>12}{'Py threads':>12}")
    for when, (rss, peak, os_threads, py_threads) in figures.items():
        print(f"  {when:8}{rss:10.1f}{peak:10.1f}{os_threads:12d}{py_threads:12d}")
    print("\n  RSS MB each minute   " + " ".join(f"{rss:.1f}" for rss in minute_rss))
    growth = figures["end"][0] - figures["start"][0]
    print(f"\n  RSS growth start→end      {growth:+.1f} MB (target < 10 MB)")
    print(
        f"  RSS growth connected→end  {figures['end'][0] - figures['connected'][0]:+.1f} MB "
        "(first-use allocations included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="talkapp-soak-"))
    pulse = audio_server._start_daemon(base)
    try:
        pulse.adopt_environment()
        devices.rescan()
        asyncio.run(soak(pulse, args.minutes))
    finally:
        audio_server._stop_daemon(pulse)


if __name__ == "__main__":
    main()
