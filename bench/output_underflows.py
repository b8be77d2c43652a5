"""Output underflows under CPU competition: continuous playback through AudioIO (a script).

    .venv/bin/python bench/output_underflows.py [--seconds 30] [--block-ms 5] [--repeats 2]

Plays a tone without pause through the app's `AudioIO` (its block size, real-time callbacks,
the ALSA pulse plugin into a private PulseAudio as in the tests) for `--seconds` per run, and
counts what PortAudio flags as output underflows (each one is an audible gap) and whether the
playback ring itself ever ran dry (the feeder here keeps 50 ms queued, so it should not).

Conditions, each run with the libpulse threads (`threaded-ml`, which wake the callback thread)
as the app leaves them (real-time) and put back to normal priority by this script afterwards,
which is what the app did before it raised them:
  idle         nothing else runs;
  busy         two busy loops at normal priority (both cores busy);
  busy+bursts  those, plus two processes at nice -10 that compute 30 ms, sleep 20 ms (as a
               simulator, a compiler or a browser tab at a higher priority would).
Prints one table: condition x helper priority, underflows summed over the repeats.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import audio_server

RATE = 48000
QUEUED = RATE // 20  # frames the feeder keeps in the playback ring (50 ms)
BUSY = "while True: pass"
BURSTS = """
import os, time
os.setpriority(os.PRIO_PROCESS, 0, -10)
while True:
    started = time.monotonic()
    while time.monotonic() - started < 0.03:
        pass
    time.sleep(0.02)
"""
CONDITIONS = {"idle": [], "busy": [BUSY, BUSY], "busy+bursts": [BUSY, BUSY, BURSTS, BURSTS]}


def demote(thread_ids: list[int]) -> None:
    for tid in thread_ids:
        os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))


def play(seconds: float, block_ms: float, realtime_helpers: bool) -> dict:
    from talkapp.audio.ring import open_ring
    from talkapp.audio.streams import AudioIO
    from talkapp.threads import priority

    capture, _ = open_ring(RATE)
    feed, playback = open_ring(RATE)
    io = AudioIO(capture, playback, prefer_rate=RATE, block_ms=block_ms)
    period = np.arange(RATE // 100) / RATE  # 10 ms: a whole number of 400 Hz cycles
    tone = (0.2 * np.sin(2 * np.pi * 400 * period)).astype(np.float32)
    feed.write(np.tile(tone, 5))
    io.start()
    try:
        helpers = priority.sound_server_threads()
        if not realtime_helpers:
            demote(helpers)
        helpers_realtime = sum(priority.is_realtime(t) for t in helpers)
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            while io.statistics().playback.available < QUEUED:
                feed.write(tone)
            time.sleep(0.005)
        stats = io.statistics()
    finally:
        io.stop()
    return {
        "underflows": stats.output_underflows,  # after the start-up fill
        "at_start": stats.output_start_underflows,  # in it: silence only, AudioIO counts them apart
        "ring_underruns": stats.playback.underruns,
        "callbacks": stats.output_callbacks,
        "callbacks_realtime": stats.realtime,
        "helpers": len(helpers),
        "helpers_realtime": helpers_realtime,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--block-ms", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    pulse = audio_server._start_daemon(Path(tempfile.mkdtemp(prefix="bench-underflows-")))
    pulse.adopt_environment()
    from talkapp.audio import devices

    devices.rescan()
    rows = []
    try:
        for condition, programs in CONDITIONS.items():
            for realtime_helpers in (True, False):
                total = {"underflows": 0, "at_start": 0, "ring_underruns": 0, "callbacks": 0}
                for _ in range(args.repeats):
                    load = [subprocess.Popen([sys.executable, "-c", p]) for p in programs]
                    try:
                        time.sleep(0.3)
                        result = play(args.seconds, args.block_ms, realtime_helpers)
                    finally:
                        for process in load:
                            process.kill()
                            process.wait()
                    for k in total:
                        total[k] += result[k]
                rows.append((condition, realtime_helpers, total, result))
    finally:
        audio_server._stop_daemon(pulse)
    minutes = args.seconds * args.repeats / 60
    print(
        f"\nOutput underflows, {args.repeats} x {args.seconds:.0f} s of playback per row, "
        f"{args.block_ms:g} ms blocks, {RATE} Hz\n"
    )
    print(
        "| condition | libpulse threads | underflows | per minute | more in the start-up fill "
        "| ring ran dry | callbacks |"
    )
    print("|---|---|---|---|---|---|---|")
    for condition, realtime_helpers, total, last in rows:
        helper = (
            f"real-time ({last['helpers_realtime']}/{last['helpers']})"
            if realtime_helpers
            else f"normal ({last['helpers']})"
        )
        print(
            f"| {condition} | {helper} | {total['underflows']} "
            f"| {total['underflows'] / minutes:.1f} | {total['at_start']} "
            f"| {total['ring_underruns']} | {total['callbacks']} |"
        )
    print(f"\ncallback threads real-time: {rows[-1][3]['callbacks_realtime']}")


if __name__ == "__main__":
    main()
