"""Streaming resampling: any split of the input gives the one-shot result at the documented
latency; tones keep frequency and level; what cannot be represented is removed; speech
survives a round trip; the documented latency is the measured one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talkapp.audio.resampler import CUTOFF, HALF_TAPS, KAISER_BETA, StreamResampler

RATE_PAIRS = [(48000, 24000), (44100, 24000), (24000, 16000), (24000, 48000), (16000, 24000),
              (8000, 24000), (48000, 16000), (24000, 24000)]  # fmt: skip
TONE_PAIRS = [(48000, 24000), (44100, 24000), (24000, 16000), (24000, 48000)]
DOWN_PAIRS = [(48000, 24000), (44100, 24000), (24000, 16000), (48000, 16000), (48000, 8000)]


def one_shot_reference(x: np.ndarray, src: int, dst: int, latency: int) -> np.ndarray:
    """Direct windowed-sinc evaluation at every output instant, written from the documented
    kernel (no polyphase tables, no streaming state): output n is the input at time
    (n - latency) / dst, for every instant up to the end of the input."""
    if src == dst:
        return np.asarray(x, np.float64)  # documented: same rate is a plain copy
    x = np.append(np.asarray(x, np.float64), 0.0)  # a zero past the end: no empty gathers
    n_out = latency + math.ceil((len(x) - 1) * dst / src)
    scale = min(1.0, dst / src)
    reach = HALF_TAPS if dst >= src else -(-HALF_TAPS * src // dst)  # whole input samples
    t = (np.arange(n_out) - latency) * src / dst  # instants, in input samples
    k = np.floor(t)[:, None] + np.arange(-reach - 1, reach + 2)[None, :]
    d = k - t[:, None]
    window = np.i0(KAISER_BETA * np.sqrt(np.clip(1 - (d / reach) ** 2, 0, None)))
    kernel = np.sinc(scale * CUTOFF * d) * np.where(np.abs(d) < reach, window, 0.0)
    kernel /= kernel.sum(axis=1, keepdims=True)
    inside = (k >= 0) & (k < len(x))
    taps = np.where(inside, x[np.clip(k, 0, len(x) - 1).astype(int)], 0.0)
    return (kernel * taps).sum(axis=1)


def stream(resampler: StreamResampler, x: np.ndarray, block: int) -> np.ndarray:
    """Feed `x` in blocks of `block` frames, then flush."""
    parts = [resampler.process(x[i : i + block]) for i in range(0, len(x), block)]
    return np.concatenate([*parts, resampler.flush()])


def tone(rate: int, freq: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)).astype(
        np.float32
    )


def speech_like(rate: int, seconds: float) -> np.ndarray:
    """Harmonics of a gliding pitch under a syllable envelope (up to ~6 kHz)."""
    t = np.arange(int(rate * seconds)) / rate
    phase = 2 * np.pi * np.cumsum(140 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t))) / rate
    voice = sum(np.sin(k * phase + k) / k for k in range(1, 36))
    return (0.2 * voice * np.sin(np.pi * 4 * t) ** 2).astype(np.float32)


@settings(max_examples=40, deadline=None)
@given(
    pair=st.sampled_from(RATE_PAIRS),
    sizes=st.lists(st.integers(0, 1500), min_size=1, max_size=30),
    seed=st.integers(0, 2**32 - 1),
)
def test_streaming_in_any_blocks_equals_one_shot_at_the_documented_latency(pair, sizes, seed):
    src, dst = pair
    x = np.random.default_rng(seed).uniform(-1, 1, sum(sizes)).astype(np.float32)  # full scale
    r, parts, fed = StreamResampler(src, dst), [], 0
    for size in sizes:
        parts.append(r.process(x[fed : fed + size]))
        fed += size
        emitted = sum(map(len, parts))  # "block in, corresponding output out":
        assert fed * dst / src <= emitted < fed * dst / src + 2  # never behind, at most 2 ahead
    y = np.concatenate([*parts, r.flush()])
    expected = one_shot_reference(x, src, dst, r.latency_frames)
    assert len(y) == len(expected)
    assert np.allclose(y, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("src, dst", TONE_PAIRS)
def test_a_1khz_tone_keeps_its_frequency_and_level(src, dst):
    y = stream(StreamResampler(src, dst), tone(src, 1000.0, 0.5), src // 50)
    y = y[len(y) // 8 : -len(y) // 8]  # away from the filter settling at the abrupt ends
    rising = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    crossings = rising + y[rising] / (y[rising] - y[rising + 1])  # linear interpolation
    freq = (len(crossings) - 1) * dst / (crossings[-1] - crossings[0])
    whole_periods = y[rising[0] : rising[-1]].astype(np.float64)
    amplitude = math.sqrt(2 * np.mean(whole_periods**2))
    assert freq == pytest.approx(1000.0, abs=0.05)
    assert amplitude == pytest.approx(0.5, rel=0.005)  # within 0.05 dB


@pytest.mark.parametrize("src, dst", DOWN_PAIRS)
@pytest.mark.parametrize("times_nyquist", [1.02, 1.3, 1.8])
def test_content_above_the_target_nyquist_is_removed(src, dst, times_nyquist):
    freq = min(times_nyquist * dst / 2, 0.97 * src / 2)
    x = tone(src, freq, 0.25)
    y = stream(StreamResampler(src, dst), x, src // 50)[100:-100]
    attenuation_db = 20 * math.log10(np.std(x) / max(np.std(y), 1e-12))
    assert attenuation_db > 60  # the spec asks for 40


def test_upsampling_adds_no_images_above_the_source_nyquist():
    y = stream(StreamResampler(24000, 48000), tone(24000, 10000.0, 0.5), 480)[200:-200]
    power = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / 48000)
    assert power[freqs > 12500].sum() < 1e-6 * power.sum()  # images below -60 dB


def test_speech_survives_a_round_trip_through_48k_at_the_documented_latency():
    up, down = StreamResampler(24000, 48000), StreamResampler(48000, 24000)
    x = speech_like(24000, 1.0)
    y = stream(down, stream(up, x, 480), 960)
    lag = round((up.latency_ms + down.latency_ms) * 24)  # ms -> 24 kHz frames
    assert lag == (up.latency_ms + down.latency_ms) * 24  # whole frames, no fraction lost
    assert np.corrcoef(x, y[lag : lag + len(x)])[0, 1] > 0.999


def band_limited(rate: int, seconds: float, top_hz: float, seed: int = 7) -> np.ndarray:
    """Random sines below `top_hz`, evaluated exactly at `rate`: the same signal at any rate."""
    rng = np.random.default_rng(seed)
    freqs, phases = rng.uniform(50, top_hz, 60), rng.uniform(0, 2 * np.pi, 60)
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freqs * t[:, None] + phases).sum(axis=1) / 20).astype(np.float32)


@pytest.mark.parametrize("src, dst", RATE_PAIRS)
def test_latency_ms_is_the_lag_found_by_cross_correlation(src, dst):
    r = StreamResampler(src, dst)
    top = 0.7 * min(src, dst) / 2
    y = stream(r, band_limited(src, 0.5, top), 997)
    truth = band_limited(dst, 0.5, top)
    lags = np.arange(0, 4 * r.latency_frames + 10)
    span = len(truth) - lags[-1]
    score = np.array([np.dot(y[lag : lag + span], truth[:span]) for lag in lags])
    best = int(np.argmax(score))
    a, b, c = score[best - 1 : best + 2] if best else (0.0, score[0], score[1])
    measured = lags[best] + 0.5 * (a - c) / (a - 2 * b + c)  # parabolic peak, sub-sample
    assert r.latency_ms == pytest.approx(1000 * r.latency_frames / dst)
    assert abs(measured - r.latency_ms * dst / 1000) < 0.25  # the spec asks for one sample


def test_same_rate_is_a_copying_passthrough():
    r = StreamResampler(48000, 48000)
    block = tone(48000, 440.0, 0.02)
    out = r.process(block)
    block[:] = 0  # the caller reuses its buffer; the output must not change with it
    assert np.array_equal(out, tone(48000, 440.0, 0.02))
    assert (r.latency_frames, r.latency_ms, len(r.flush())) == (0, 0.0, 0)


@pytest.mark.parametrize(
    "src, dst", [(44100, 24000), (48000, 24000), (24000, 48000)]
)  # both filter paths
def test_stereo_is_each_channel_resampled_alone(src, dst):
    left, right = speech_like(src, 0.2), tone(src, 3000.0, 0.2)
    stereo = stream(StreamResampler(src, dst, channels=2), np.stack([left, right], 1), src // 100)
    assert stereo.shape[1] == 2
    assert np.allclose(stereo[:, 0], stream(StreamResampler(src, dst), left, src // 50), atol=1e-6)
    assert np.allclose(stereo[:, 1], stream(StreamResampler(src, dst), right, src // 50), atol=1e-6)


def test_reset_starts_a_fresh_stream():
    r, x = StreamResampler(48000, 16000), speech_like(48000, 0.1)
    r.process(tone(48000, 500.0, 0.05))
    r.reset()
    assert np.array_equal(stream(r, x, 960), stream(StreamResampler(48000, 16000), x, 960))


def test_a_block_with_the_wrong_channel_count_is_refused():
    with pytest.raises(ValueError, match="channel"):
        StreamResampler(48000, 24000).process(np.zeros((480, 2), np.float32))
