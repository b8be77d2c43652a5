"""What one mic pump cycle costs the engine's loop, per echo mode (a script, not a test).

    .venv/bin/python bench/mic_pump.py [--seconds 30]

Every 20 ms (sooner when the mic's bell rings) the engine's loop pulls the mic: capture ring ->
24 kHz -> echo canceller -> level, local VAD -> 20 ms chunks to send (`MicPump.pull`). While it
runs, nothing else on the loop does: a push-to-talk release or a barge-in that arrives then
waits for it. The signals are real
speech (espeak-ng): a reply plays the whole time, its echo comes back 40 ms later at -10 dB
with a little room noise, and the user talks over the middle third. The mic arrives at 48 kHz
in 10 ms blocks, as from the usual device. Wall-clock time of each pull on this machine, no
profiler (cProfile inflates the FFI calls several times over).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from speech import speak

from talkapp.audio.echo import EchoMode, open_echo_canceller
from talkapp.audio.pcm import WIRE_RATE, resample
from talkapp.audio.ring import open_ring
from talkapp.audio.vad import SpeechDetector
from talkapp.session.engine import PUMP_PERIOD_MS
from talkapp.session.mic import MicPump

DEVICE_RATE = 48_000
CYCLE_MS = PUMP_PERIOD_MS
ECHO_DELAY_MS, ECHO_GAIN, NOISE_RMS = 40, 10 ** (-10 / 20), 10 ** (-60 / 20)
REPLY = (
    "Here is what I found: the library opens at nine, and the last bus back leaves at ten past six."
)
USER = "Wait, stop, I meant tomorrow morning, not today."


def signals(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(far end at 24 kHz, mic at the device rate), `seconds` long."""
    n = round(seconds * WIRE_RATE)
    reply = speak(REPLY)
    far = np.resize(reply, n).astype(np.float32)  # the reply, repeated
    delay = ECHO_DELAY_MS * WIRE_RATE // 1000
    mic = np.zeros(n, np.float32)
    mic[delay:] = ECHO_GAIN * far[: n - delay]
    user = speak(USER, pitch=30)
    middle = n // 3
    span = min(len(user), n - middle)
    mic[middle : middle + span] += user[:span]
    mic += np.random.default_rng(0).normal(0.0, NOISE_RMS, n).astype(np.float32)
    return far, resample(mic, WIRE_RATE, DEVICE_RATE)


def pull_costs_us(mode: EchoMode, far: np.ndarray, mic: np.ndarray) -> np.ndarray:
    writer, reader = open_ring(DEVICE_RATE)
    echo = open_echo_canceller(mode, delay_ms=ECHO_DELAY_MS)
    pump = MicPump(reader, DEVICE_RATE, echo, SpeechDetector())
    pump.start_stream()  # forwarding: chunks are cut and encoded, as during a turn
    far_block, mic_block = WIRE_RATE * CYCLE_MS // 1000, DEVICE_RATE * CYCLE_MS // 1000
    cycles = len(far) // far_block
    costs = np.empty(cycles)
    for i in range(cycles):
        writer.write(mic[i * mic_block : (i + 1) * mic_block])  # what the input callback does
        echo.far_end(far[i * far_block : (i + 1) * far_block])  # what the playback side does
        start = time.perf_counter_ns()
        pump.pull()
        costs[i] = time.perf_counter_ns() - start
    return costs[100:] / 1000  # past the first second: caches warm, the APM converged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per mode (default 30)")
    args = parser.parse_args()
    far, mic = signals(args.seconds)
    print(
        f"mic pump, one pull per {CYCLE_MS} ms of {DEVICE_RATE // 1000} kHz mic, local VAD on, "
        f"{args.seconds:g} s of speech per mode"
    )
    print(
        f"{'echo mode':<10}{'p50 us':>9}{'p99 us':>9}{'max us':>9}{'mean us':>9}{'% of a core':>13}"
    )
    for mode in EchoMode:
        costs = pull_costs_us(mode, far, mic)
        p50, p99 = np.percentile(costs, [50, 99])
        share = 100 * costs.mean() / (CYCLE_MS * 1000)
        print(
            f"{mode.value:<10}{p50:>9.0f}{p99:>9.0f}{costs.max():>9.0f}{costs.mean():>9.0f}{share:>13.1f}"
        )


if __name__ == "__main__":
    main()
