"""The local VAD on real speech (espeak-ng through sox, made at test time): it finds what an
energy reference finds, stays quiet on silence and faint noise, reports the same positions
however the stream is split, and never raises on odd input.

Speech comes from tests/speech.py (espeak-ng through sox).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from speech import silence, speak

from talkapp.audio.pcm import resample
from talkapp.audio.vad import SpeechDetector, SpeechEdge

RATE = 24_000
FIRST = "Hello, can you hear me? I would like to book a table for two."
SECOND = "Tomorrow evening, at eight o'clock, please."


def energy_segments(
    x: np.ndarray, bridge_ms: int, floor_dbfs: float = -45.0
) -> list[tuple[int, int]]:
    """The reference: 10 ms frames above `floor_dbfs`, runs joined across gaps up to
    `bridge_ms` (what the VAD's hangover does), as (start_ms, end_ms)."""
    frames = x[: len(x) // 240 * 240].reshape(-1, 240)
    loud = np.flatnonzero(
        10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-20) > floor_dbfs
    )
    segments: list[list[int]] = []
    for i in loud:
        if segments and (i - segments[-1][1]) * 10 <= bridge_ms:
            segments[-1][1] = i + 1
        else:
            segments.append([i, i + 1])
    return [(a * 10, b * 10) for a, b in segments]


def segments(edges: list[SpeechEdge]) -> list[tuple[float, float]]:
    assert [e.started for e in edges] == [True, False] * (len(edges) // 2), "edges must alternate"
    return [(a.ms, b.ms) for a, b in zip(edges[::2], edges[1::2])]


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> np.ndarray:
    """1 s silence, utterance, 1.5 s silence, utterance, 1 s silence."""
    first, second = speak(FIRST), speak(SECOND, voice="en-gb", pitch=70)
    return np.concatenate([silence(1.0), first, silence(1.5), second, silence(1.0)])


@pytest.mark.parametrize("hangover_ms", [200, 300])
def test_finds_the_utterances_an_energy_reference_finds(recording, hangover_ms):
    found = segments(SpeechDetector(hangover_ms=hangover_ms).feed(recording))
    reference = energy_segments(recording, bridge_ms=hangover_ms)
    assert len(found) == len(reference) >= 2, (found, reference)
    for (start, end), (ref_start, ref_end) in zip(found, reference):
        assert abs(start - ref_start) <= 30, (found, reference)
        assert abs(end - ref_end) <= hangover_ms + 50, (found, reference)
    assert found[0][0] >= 1000 - 30 and found[-1][1] <= len(recording) / RATE * 1000 - 1000 + 50


def test_a_stop_is_reported_hangover_after_the_speech_ends(recording):
    """The stop edge sits at the end of the voice and arrives `hangover_ms` later."""
    detector, fed = SpeechDetector(hangover_ms=200), 0
    for block in np.array_split(recording, len(recording) // 240):
        fed += len(block)
        for edge in detector.feed(block):
            lag_ms = 1000 * fed / RATE - edge.ms
            expected = 30 if edge.started else 200  # onset frames / hangover frames
            assert expected <= lag_ms <= expected + 10 + 1.5, (edge, lag_ms)  # a frame + look-ahead


def test_the_last_voiced_sample_stops_moving_with_the_voice_before_the_stop_edge(recording):
    """What barge-in confirmation reads: no hangover, so echo that fooled the VAD for a moment
    stops counting as soon as it is gone."""
    detector = SpeechDetector(hangover_ms=500)
    assert detector.voice_end_sample == 0
    first_end = (
        energy_segments(recording, bridge_ms=500)[0][1] * RATE // 1000
    )  # where the voice ends
    detector.feed(recording[: first_end + RATE // 10])  # 100 ms after the first utterance
    assert detector.speaking  # the state is still "speech" (500 ms hangover)
    assert (
        abs(detector.voice_end_sample - first_end) <= RATE * 60 // 1000
    )  # but the voice ended there
    edges = detector.feed(recording[first_end + RATE // 10 : first_end + RATE])
    assert [e.started for e in edges] == [False] and edges[0].sample == detector.voice_end_sample


def test_the_same_edges_whatever_the_split(recording):
    whole = SpeechDetector().feed(recording)
    rng = np.random.default_rng(7)
    for _ in range(3):
        detector, edges, at = SpeechDetector(), [], 0
        while at < len(recording):
            size = int(rng.choice([0, 1, 7, 160, 240, 479, 480, 1000, 4801]))
            edges += detector.feed(recording[at : at + size])
            at += size
        assert edges == whole


def test_positions_are_in_the_fed_streams_samples_at_any_rate(recording):
    at_24k = SpeechDetector().feed(recording)
    for rate in (16_000, 48_000, 44_100):
        edges = SpeechDetector(rate=rate).feed(resample(recording, RATE, rate))
        assert all(edge.rate == rate for edge in edges)
        assert len(edges) == len(at_24k)
        assert all(abs(a.ms - b.ms) <= 10 for a, b in zip(edges, at_24k)), (edges, at_24k)


def test_nothing_on_silence_or_faint_noise():
    rng = np.random.default_rng(1)
    assert SpeechDetector().feed(silence(3.0)) == []
    for dbfs in (-70, -60, -52):
        noise = rng.standard_normal(3 * RATE).astype(np.float32) * 10 ** (dbfs / 20)
        for aggressiveness in range(4):
            assert SpeechDetector(aggressiveness=aggressiveness).feed(noise) == [], dbfs


def test_quiet_speech_under_the_floor_does_not_count(recording):
    assert SpeechDetector(floor_dbfs=-50).feed(recording * 10 ** (-40 / 20)) == []
    assert SpeechDetector(floor_dbfs=-80).feed(recording * 10 ** (-40 / 20)) != []


def test_reset_starts_a_new_stream(recording):
    detector = SpeechDetector()
    first = detector.feed(recording[: 3 * RATE])
    detector.reset()
    assert detector.feed(recording[: 3 * RATE]) == first
    assert not SpeechDetector().speaking


@pytest.mark.parametrize(
    "kwargs", [{"aggressiveness": 4}, {"frame_ms": 15}, {"rate": 0}, {"hangover_ms": -1}]
)
def test_settings_webrtcvad_cannot_honour_are_refused(kwargs):
    with pytest.raises(ValueError):
        SpeechDetector(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(
        st.tuples(st.integers(0, 3000), st.sampled_from([0.0, 1e-4, 0.3, 1.0, 4.0])), max_size=12
    ),
    seed=st.integers(0, 2**16),
)
def test_any_blocks_never_raise_and_edges_alternate_forward(blocks, seed):
    """Any sizes (0 and 1 included), any level (clipping too): edges alternate, move forward
    and stay within what was fed."""
    rng, detector, edges, fed = np.random.default_rng(seed), SpeechDetector(onset_ms=10), [], 0
    for size, level in blocks:
        edges += detector.feed((rng.standard_normal(size) * level).astype(np.float32))
        fed += size
    assert [e.started for e in edges] == [i % 2 == 0 for i in range(len(edges))]
    assert [e.sample for e in edges] == sorted(e.sample for e in edges)
    assert all(0 <= e.sample <= fed for e in edges)
