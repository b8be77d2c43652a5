"""Cost per 20 ms block of the audio ring and the streaming resampler (a script, not a test).

    .venv/bin/python bench/ring_and_resampler.py

The ring numbers are what a PortAudio callback pays (one write and one `fill`); the resampler
numbers are what the asyncio loop pays per block. Timings are wall clock on this machine.
"""

from __future__ import annotations

import time

import numpy as np

from talkapp.audio.resampler import StreamResampler
from talkapp.audio.ring import open_ring

BLOCK_MS = 20
ROUNDS = 3000
PAIRS = [(48000, 24000), (44100, 24000), (24000, 48000), (24000, 16000)]


def percentiles_us(step, rounds: int = ROUNDS) -> tuple[float, float]:
    for _ in range(100):  # warm caches and allocator
        step()
    costs = np.empty(rounds)
    for i in range(rounds):
        start = time.perf_counter_ns()
        step()
        costs[i] = time.perf_counter_ns() - start
    p50, p99 = np.percentile(costs, [50, 99]) / 1000
    return float(p50), float(p99)


def ring_step(rate: int = 48000):
    frames = rate * BLOCK_MS // 1000
    writer, reader = open_ring(frames * 7 + 13)  # an odd size, so blocks wrap at varying points
    block = np.random.default_rng(0).standard_normal(frames, np.float32)
    out = np.empty(frames, np.float32)

    def step():
        writer.write(block)
        reader.fill(out)

    return step


def resampler_step(src: int, dst: int):
    r = StreamResampler(src, dst)
    block = np.random.default_rng(0).standard_normal(src * BLOCK_MS // 1000).astype(np.float32)
    return r, lambda: r.process(block)


def main() -> None:
    print(f"per {BLOCK_MS} ms block, {ROUNDS} rounds")
    print(f"{'what':<28}{'p50 us':>9}{'p99 us':>9}{'latency ms':>12}")
    p50, p99 = percentiles_us(ring_step())
    print(f"{'ring write + fill @48k':<28}{p50:>9.1f}{p99:>9.1f}{'-':>12}")
    for src, dst in PAIRS:
        r, step = resampler_step(src, dst)
        p50, p99 = percentiles_us(step)
        label = f"resample {src / 1000:g}k -> {dst / 1000:g}k"
        print(f"{label:<28}{p50:>9.1f}{p99:>9.1f}{r.latency_ms:>12.3f}")


if __name__ == "__main__":
    main()
