"""The measure the barge-in tests and bench/audio_latency.py judge a truncate by: where playback
of a reply stopped in a recording, also when an underrun put silence in the middle."""

import numpy as np
from audio_server import cut_interval
from test_engine_audio import played_span

RATE = 24000


def syllables(seconds: float, seed: int = 3) -> np.ndarray:
    """Noise in 120 ms bursts with 40 ms pauses: the level pattern of speech, no speech tools."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    gate = (t % 0.16) < 0.12
    return (0.3 * rng.standard_normal(t.size) * gate).astype(np.float32)


def gap(ms: int) -> np.ndarray:
    return np.zeros(ms * RATE // 1000, np.float32)


def test_a_cut_is_found_within_the_pause_or_burst_where_it_happened():
    reply = syllables(3.0)
    cut = 1300 * RATE // 1000  # inside a burst
    lo, hi = cut_interval(reply, np.concatenate([reply[:cut], gap(800)]))
    assert lo <= cut <= hi
    assert hi - lo <= 24 * 2  # within a window or two of the truth


def test_a_reply_played_to_the_end_reads_as_whole():
    reply = syllables(2.0)
    assert cut_interval(reply, np.concatenate([reply, gap(300)])) == (len(reply), len(reply))


def test_silence_from_an_underrun_is_not_taken_for_the_cut():
    reply = syllables(3.0)
    dry, cut = 700 * RATE // 1000, 2100 * RATE // 1000
    heard = np.concatenate([reply[:dry], gap(150), reply[dry:cut], gap(800)])
    lo, hi = cut_interval(reply, heard)
    assert lo <= cut <= hi
    assert hi - lo <= 24 * 2


def test_a_reply_that_never_comes_back_is_cut_where_it_stopped():
    reply = syllables(3.0)
    other = syllables(3.0, seed=9)  # something else plays later: not the reply resuming
    stop = 900 * RATE // 1000
    heard = np.concatenate([reply[:stop], gap(200), 0.01 * other[:RATE]])
    lo, hi = cut_interval(reply, heard)
    assert lo <= stop <= hi


def test_a_steady_tone_that_repeats_itself_does_not_lead_the_search_astray():
    """A held vowel is periodic: 100 ms of it also match 50 ms later, scoring better there when
    the recording is a little noisier in place (seen in a real run). The reply is still whole."""
    t = np.arange(int(0.15 * RATE)) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    reply = np.concatenate([syllables(1.0), tone, syllables(1.0, seed=4)])
    pad = 4800
    recorded = np.concatenate([gap(200), reply, gap(200)])
    hiss = 0.02 * np.random.default_rng(5).standard_normal(1200).astype(np.float32)
    recorded[pad + RATE : pad + RATE + 1200] += hiss  # the tone's first 50 ms, in place
    whole = 1000 * len(reply) / RATE
    assert played_span(reply, recorded, pad) == (whole, whole)
