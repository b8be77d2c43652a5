"""Echo handling and the local VAD on the synthetic room of tests/test_echo.py (a script, not a
test).

    .venv/bin/python bench/echo.py

Prints: the cost per 10 ms frame of each echo mode and of the VAD (what the asyncio loop pays,
wall clock on this machine); ERLE of `aec` and `gate` with echo alone; the VAD's onset on clean
speech and on double talk, both where it puts the onset and when it says so (20 ms mic blocks);
how long the WebRTC APM takes to converge, and how it copes with a wrong delay estimate.
Needs espeak-ng and sox, like the tests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the room lives there

from speech import silence, speak
from test_echo import (
    ECHO_DELAY_MS,
    FAR_TEXT,
    NEAR_TEXT,
    TALK_OVER_S,
    erle_db,
    level_db,
    onset_ms,
    room_echo,
    run,
    talk_over,
)
from test_vad import RATE

from talkapp.audio.echo import FRAME, EchoMode, open_echo_canceller
from talkapp.audio.vad import SpeechDetector

ROUNDS = 3000
WINDOW = RATE // 10  # 100 ms, for convergence
SEEDS = range(5)


def voices() -> tuple[np.ndarray, np.ndarray]:
    far = np.concatenate([speak(FAR_TEXT), silence(0.5)])
    return far, speak(NEAR_TEXT, voice="en-gb", pitch=70)


def percentiles_us(step, rounds: int = ROUNDS) -> tuple[float, float]:
    for _ in range(100):  # warm caches, and the APM past its first frames
        step()
    costs = np.empty(rounds)
    for i in range(rounds):
        start = time.perf_counter_ns()
        step()
        costs[i] = time.perf_counter_ns() - start
    p50, p99 = np.percentile(costs, [50, 99]) / 1000
    return float(p50), float(p99)


def frames_of(*tracks: np.ndarray):
    """An endless walk through the tracks' 10 ms frames, in step."""
    count = len(tracks[0]) // FRAME
    i = 0
    while True:
        yield tuple(t[i * FRAME : (i + 1) * FRAME] for t in tracks)
        i = (i + 1) % count


def echo_step(mode: str, far: np.ndarray, mic: np.ndarray):
    canceller, walk = open_echo_canceller(mode, delay_ms=ECHO_DELAY_MS), frames_of(far, mic)

    def step():
        f, m = next(walk)
        canceller.far_end(f)
        canceller.near_end(m)

    return step


def vad_step(speech: np.ndarray):
    detector, walk = SpeechDetector(), frames_of(speech)
    return lambda: detector.feed(next(walk)[0])


def first_onset(edges: list, after_ms: float = 0.0) -> tuple[float, float]:
    """(where the first onset after `after_ms` was put, when it was reported), stream ms."""
    return next((e.ms, at) for e, at in edges if e.started and e.ms >= after_ms)


def convergence_ms(echo: np.ndarray, cleaned: np.ndarray) -> float:
    """Start of the first 100 ms window from which every window with echo has ERLE >= 20 dB."""
    windows = [
        i for i in range(0, len(cleaned) - WINDOW, WINDOW) if level_db(echo[i : i + WINDOW]) > -60
    ]
    short = [i for i in windows if erle_db(echo, cleaned, i / RATE, (i + WINDOW) / RATE) < 20.0]
    if not short:
        return 0.0
    after = [i for i in windows if i > short[-1]]
    return 1000.0 * (after[0] if after else len(echo)) / RATE


def print_costs(far, mic, speech) -> None:
    print(f"cost per 10 ms frame, {ROUNDS} rounds (echo modes: far_end + near_end on the room)")
    print(f"  {'what':<28}{'p50 us':>9}{'p99 us':>9}")
    for mode in EchoMode:
        p50, p99 = percentiles_us(echo_step(mode, far, mic))
        print(f"  {'echo ' + mode:<28}{p50:>9.1f}{p99:>9.1f}")
    p50, p99 = percentiles_us(vad_step(speech))
    print(f"  {'vad (24k -> 16k, webrtcvad)':<28}{p50:>9.1f}{p99:>9.1f}")


def print_quality(far: np.ndarray) -> None:
    echo, end = room_echo(far), len(far) / RATE
    print(
        f"\nsynthetic room: echo {ECHO_DELAY_MS} ms late, -9 dB, 150 ms decaying IR; "
        f"second voice at {TALK_OVER_S:g} s"
    )
    print(f"  {'mode':<10}{'ERLE 0-1 s':>12}{'ERLE 1 s-end':>14}{'converged at':>14}")
    for mode in ("aec", "gate"):
        cleaned, _ = run(open_echo_canceller(mode, delay_ms=ECHO_DELAY_MS), far, echo)
        conv = convergence_ms(echo, cleaned)
        print(
            f"  {mode:<10}{erle_db(echo, cleaned, 0, 1):>11.1f} "
            f"{erle_db(echo, cleaned, 1, end):>13.1f} {conv:>11.0f} ms"
        )
    print("  aec with a wrong delay estimate (actual 60 ms):")
    for told in (0, 160, 400):
        cleaned, _ = run(open_echo_canceller("aec", delay_ms=told), far, echo)
        print(
            f"    told {told:>3} ms: ERLE 0-1 s {erle_db(echo, cleaned, 0, 1):5.1f}, "
            f"1 s-end {erle_db(echo, cleaned, 1, end):5.1f},"
            f" converged at {convergence_ms(echo, cleaned):.0f} ms"
        )


def print_onsets(far, near) -> None:
    print("\nVAD onset after the energy reference: where it is placed / when it is reported")
    print(
        f"  (20 ms mic blocks; min-median-max over {len(SEEDS)} runs "
        "with -90 dBFS dither on the mic,"
    )
    print("   which alone moves the APM's double-talk onset by up to 30 ms)")
    voice = talk_over(far, near)
    rows = [("clean speech, headset", "headset", np.zeros_like(far), voice)]
    for gain_db in (-6, -9, -12):
        echo = room_echo(far, gain_db=gain_db)
        rows += [
            (f"double talk, echo {gain_db} dB, {m}", m, far, echo + voice) for m in ("aec", "gate")
        ]
    for label, mode, played, mic in rows:
        placed, reported, false = onsets(mode, played, mic, onset_ms(voice))
        note = f"  ({false} false onsets on echo)" if false else ""
        print(f"  {label:<34} {spread(placed)} / {spread(reported)} ms{note}")


def onsets(mode: str, played: np.ndarray, mic: np.ndarray, truth: float) -> tuple[list, list, int]:
    placed, reported, false = [], [], 0
    for seed in SEEDS:
        dither = np.random.default_rng(seed).standard_normal(len(mic)).astype(np.float32)
        dither *= 10 ** (-90 / 20)
        _, edges = run(open_echo_canceller(mode, delay_ms=ECHO_DELAY_MS), played, mic + dither)
        false += sum(1 for e, _ in edges if e.started and e.ms < truth - 30)
        at, said = first_onset(edges, truth - 30)
        placed.append(at - truth)
        reported.append(said - truth)
    return placed, reported, false


def spread(values: list) -> str:
    low, mid, high = np.percentile(values, [0, 50, 100])
    return f"+{low:3.0f} {mid:3.0f} {high:3.0f}"


def main() -> None:
    far, near = voices()
    voice = talk_over(far, near)
    print_costs(far, room_echo(far) + voice, voice)
    print_quality(far)
    print_onsets(far, near)


if __name__ == "__main__":
    main()
