"""Echo handling in a synthetic room built from real speech (espeak-ng through sox).

The room: the far end is what the speakers play; the echo is that, 60 ms late, through a
decaying impulse response 9 dB down; a second voice talks over it from midway (double talk).
`aec` must remove >= 20 dB of the echo once converged and leave the local VAD deaf to the echo
but quick on the second voice; `gate` must keep the echo from the VAD and still let a loud
barge-in through; `headset` must not touch a bit. No mocks: the WebRTC APM itself runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from speech import silence, speak
from test_vad import RATE

from talkapp.audio.echo import (
    FRAME,
    FRAME_MS,
    MAX_QUEUED_MS,
    ApmCanceller,
    EchoMode,
    FarEndQueue,
    Passthrough,
    open_echo_canceller,
)
from talkapp.audio.vad import SpeechDetector

FAR_TEXT = (
    "The weather tomorrow will be sunny with a light breeze from the west, and temperatures "
    "around twenty degrees. In the evening, clouds will gather over the hills."
)
NEAR_TEXT = "Wait, stop, I have a question about the weather tomorrow."
ECHO_DELAY_MS = 60
TALK_OVER_S = 5.0  # the second voice starts here
BLOCK = 2 * FRAME  # the mic pump's 20 ms blocks


def room_echo(
    far: np.ndarray, delay_ms: float = ECHO_DELAY_MS, gain_db: float = -9.0
) -> np.ndarray:
    """`far` as the mic hears it from the speakers: late by `delay_ms`, through 150 ms of
    exponentially decaying reflections (60 dB in 80 ms) after a strong direct path."""
    rng = np.random.default_rng(0)
    taps = np.arange(int(0.15 * RATE))
    response = rng.standard_normal(len(taps)) * np.exp(-taps / (0.080 * RATE / 6.9))
    response[0] += 3.0  # the direct path
    response *= 10 ** (gain_db / 20) / np.sqrt(np.sum(response**2))
    delayed = np.concatenate([np.zeros(round(delay_ms * RATE / 1000)), response])
    return np.convolve(far, delayed)[: len(far)].astype(np.float32)


def talk_over(
    far: np.ndarray, near: np.ndarray, at_s: float = TALK_OVER_S, gain_db: float = 0.0
) -> np.ndarray:
    """`near` placed at `at_s` in a track as long as `far`."""
    track = np.zeros_like(far)
    start = round(at_s * RATE)
    part = near[: len(far) - start]
    track[start : start + len(part)] = part * 10 ** (gain_db / 20)
    return track


def run(canceller, far: np.ndarray, mic: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, list]:
    """Play `far` and capture `mic` block by block, as the loop does; return the cleaned mic and
    the local VAD's edges on it as (edge, stream ms at which it was reported)."""
    vad, cleaned, edges = SpeechDetector(), [], []
    for at in range(0, len(mic), block):
        canceller.far_end(far[at : at + block])
        out = canceller.near_end(mic[at : at + block])
        cleaned.append(out)
        edges += [(edge, 1000 * (at + len(mic[at : at + block])) / RATE) for edge in vad.feed(out)]
    return np.concatenate(cleaned), edges


def level_db(x: np.ndarray) -> float:
    return 10 * math.log10(float(np.mean(np.square(x, dtype=np.float64))) + 1e-20)


def erle_db(echo: np.ndarray, cleaned: np.ndarray, from_s: float, to_s: float) -> float:
    """Echo return loss enhancement over [from_s, to_s): how much quieter the echo came out."""
    part = slice(round(from_s * RATE), round(to_s * RATE))
    return level_db(echo[part]) - level_db(cleaned[part])


@pytest.fixture(scope="module")
def voices(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    """(far, near): the reply and a second, higher voice, both ~9 s long."""
    far = np.concatenate([speak(FAR_TEXT), silence(0.5)])
    near = speak(NEAR_TEXT, voice="en-gb", pitch=70)
    return far, near


def onset_ms(track: np.ndarray, floor_dbfs: float = -45.0) -> float:
    """The reference onset: the first 10 ms frame of `track` above `floor_dbfs`."""
    frames = track[: len(track) // 240 * 240].reshape(-1, 240).astype(np.float64)
    return 10.0 * int(np.argmax(10 * np.log10(np.mean(frames**2, axis=1) + 1e-20) > floor_dbfs))


# ---- aec ----


def test_aec_removes_at_least_20_db_of_echo_once_converged(voices):
    far, _ = voices
    echo = room_echo(far)
    cleaned, edges = run(open_echo_canceller("aec", delay_ms=ECHO_DELAY_MS), far, echo)
    assert erle_db(echo, cleaned, 1.0, len(far) / RATE) >= 20.0
    assert edges == []  # not even while converging


@pytest.mark.parametrize("gain_db", [-6.0, -9.0, -12.0])
def test_aec_vad_is_deaf_to_echo_and_places_double_talk_within_80_ms(voices, gain_db):
    """The onset position, backdated to the first voiced frame; the VAD says so `onset_ms`
    and a block later (bench/echo.py measures that)."""
    far, near = voices
    echo, voice = room_echo(far, gain_db=gain_db), talk_over(far, near)
    cleaned, edges = run(open_echo_canceller("aec", delay_ms=ECHO_DELAY_MS), far, echo + voice)
    first, _ = edges[0]
    assert first.started and first.ms >= TALK_OVER_S * 1000, "the VAD fired on echo alone"
    assert first.ms - onset_ms(voice) <= 80, (first, onset_ms(voice))
    assert erle_db(echo, cleaned, 1.0, TALK_OVER_S) >= 20.0


def test_aec_keeps_the_near_voice_and_its_timing_when_nothing_plays(voices):
    """Without far-end audio the APM must pass speech at its level, `latency_ms` late."""
    _, near = voices
    canceller = open_echo_canceller("aec")
    cleaned, _ = run(canceller, np.zeros_like(near), near)
    assert abs(level_db(cleaned) - level_db(near[: len(cleaned)])) <= 1.0
    lags = np.arange(0, 2 * FRAME)
    span = slice(RATE // 2, len(cleaned) - 2 * FRAME)
    fit = [np.dot(near[span], cleaned[span.start + lag : span.stop + lag]) for lag in lags]
    best_ms = 1000 * lags[int(np.argmax(fit))] / RATE
    assert abs(best_ms - canceller.latency_ms) <= 1.0


def test_aec_idles_in_a_quiet_room_and_passes_a_voice_over_the_reply_untouched(voices):
    """No echo path (a headset, a muted speaker): once the gate has learnt that, the APM
    rests; the second voice over the reply then comes through sample for sample, not
    `latency_ms` late, and the VAD hears it."""
    far, near = voices
    voice = talk_over(far, near)
    canceller = open_echo_canceller(EchoMode.AEC, delay_ms=ECHO_DELAY_MS)
    cleaned, edges = run(canceller, far, voice)
    assert canceller.quiet_room
    talking = slice(round(TALK_OVER_S * RATE), len(cleaned) - 2 * FRAME)
    lags = np.arange(0, 2 * FRAME)
    fit = [
        np.dot(voice[talking], cleaned[talking.start + lag : talking.stop + lag]) for lag in lags
    ]
    assert int(np.argmax(fit)) == 0  # not the APM's `latency_ms`
    assert abs(level_db(cleaned[talking]) - level_db(voice[talking])) <= 1.0  # only pauses ducked
    assert edges and edges[0][0].started and edges[0][1] >= TALK_OVER_S * 1000


def test_aec_with_noise_suppression_never_rests(voices):
    far, near = voices
    canceller = ApmCanceller(ECHO_DELAY_MS, noise_suppression=True)
    run(canceller, far, talk_over(far, near))
    assert not canceller.quiet_room


def test_aec_keeps_running_where_the_room_echoes(voices):
    """A quiet echo (-30 dB) is still worth removing: the APM never rests."""
    far, _ = voices
    echo = room_echo(far, gain_db=-30.0)
    canceller = open_echo_canceller(EchoMode.AEC, delay_ms=ECHO_DELAY_MS)
    quiet = []
    for at in range(0, len(far), BLOCK):
        canceller.far_end(far[at : at + BLOCK])
        canceller.near_end(echo[at : at + BLOCK])
        quiet.append(canceller.quiet_room)
    assert not any(quiet)


def test_aec_reset_forgets_the_room(voices):
    far, _ = voices
    echo = room_echo(far)[: 3 * RATE]
    canceller = open_echo_canceller("aec", delay_ms=ECHO_DELAY_MS)
    run(canceller, far, echo)  # learn the room
    canceller.reset()
    again, _ = run(canceller, far, echo)
    fresh, _ = run(open_echo_canceller("aec", delay_ms=ECHO_DELAY_MS), far, echo)
    assert np.array_equal(again, fresh)


# ---- gate ----


def test_gate_keeps_echo_from_the_vad_and_lets_a_loud_barge_in_through(voices):
    far, near = voices
    echo, voice = room_echo(far, gain_db=-12.0), talk_over(far, near, gain_db=0.0)
    cleaned, edges = run(open_echo_canceller("gate", delay_ms=ECHO_DELAY_MS), far, echo + voice)
    first, _ = edges[0]
    assert first.started and first.ms >= TALK_OVER_S * 1000, "the VAD fired on echo alone"
    assert first.ms - onset_ms(voice) <= 80, (first, onset_ms(voice))
    assert erle_db(echo, cleaned, 0.0, TALK_OVER_S) >= 30.0


def test_gate_ducks_echo_alone_throughout(voices):
    far, _ = voices
    echo = room_echo(far, gain_db=-6.0)
    cleaned, edges = run(open_echo_canceller("gate", delay_ms=ECHO_DELAY_MS), far, echo)
    assert edges == []
    assert erle_db(echo, cleaned, 0.0, len(far) / RATE) >= 30.0


def test_gate_leaves_the_mic_alone_while_nothing_plays(voices):
    _, near = voices
    whole = len(near) // FRAME * FRAME
    cleaned, _ = run(open_echo_canceller("gate"), np.zeros(0, np.float32), near)
    assert np.array_equal(cleaned, near[:whole])


# ---- headset and the shared contract ----


def test_headset_passes_audio_bit_exactly():
    rng = np.random.default_rng(3)
    canceller, ins, outs = open_echo_canceller("headset"), [], []
    for size in (0, 1, 239, 240, 1000, 4801):
        block = rng.uniform(-1, 1, size).astype(np.float32)
        canceller.far_end(block[::-1].copy())
        ins.append(block)
        outs.append(canceller.near_end(block[:, None] if size % 2 else block))
    assert np.concatenate(outs).tobytes() == np.concatenate(ins).tobytes()
    assert isinstance(canceller, Passthrough) and canceller.latency_ms == 0.0


@pytest.mark.parametrize("mode", ["aec", "gate"])
def test_whole_frames_come_back_at_once_and_the_tail_waits(mode):
    canceller = open_echo_canceller(mode)
    assert len(canceller.near_end(np.zeros(2 * FRAME, np.float32))) == 2 * FRAME
    assert len(canceller.near_end(np.zeros(FRAME + 7, np.float32))) == FRAME
    assert len(canceller.near_end(np.zeros(FRAME - 7, np.float32))) == FRAME


def test_the_far_queue_is_bounded_and_pads_what_the_device_did_not_get():
    queue = FarEndQueue()
    queue.push(np.ones(2 * RATE, np.float32))
    assert queue.queued_ms == MAX_QUEUED_MS
    assert queue.dropped == RATE * (2000 - MAX_QUEUED_MS) // 1000
    queue.clear()
    queue.push(np.ones(100, np.float32))
    frame = queue.pop()
    assert frame[:100].sum() == 100 and not frame[100:].any() and queue.queued_ms == 0


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        open_echo_canceller("karaoke")


sizes = st.integers(0, 2000)


@settings(max_examples=25, deadline=None)
@given(
    mode=st.sampled_from(list(EchoMode)),
    steps=st.lists(st.tuples(sizes, sizes, st.floats(0.0, 4.0)), max_size=10),
    delays=st.lists(st.floats(-50.0, 2000.0), min_size=1, max_size=3),
)
def test_any_sizes_and_delays_never_raise(mode, steps, delays):
    """Any block sizes on either side, clipping levels, odd delays: no exception, and every
    mic sample of a whole frame comes back once."""
    rng, canceller, fed, got = np.random.default_rng(0), open_echo_canceller(mode), 0, 0
    for i, (far_size, near_size, level) in enumerate(steps):
        canceller.set_delay_ms(delays[i % len(delays)])
        canceller.far_end(rng.standard_normal(far_size).astype(np.float32) * level)
        got += len(
            canceller.near_end(rng.standard_normal((near_size, 1)).astype(np.float32) * level)
        )
        fed += near_size
    assert got == (fed if mode == EchoMode.HEADSET else fed // FRAME * FRAME)


@pytest.mark.parametrize("mode", [EchoMode.AEC, EchoMode.GATE])
def test_a_barge_in_onset_is_heard_within_two_frames_and_echo_alone_gives_none(voices, mode):
    """The early barge-in signal: it must fire on the user talking over the reply well before
    the VAD on the cancelled mic can (AEC3 holds double talk down for 40-70 ms), and never on
    the echo of the reply alone."""
    far, near = voices
    echo = room_echo(far)
    canceller = open_echo_canceller(mode, delay_ms=ECHO_DELAY_MS)
    onsets = []
    mic = echo + talk_over(far, near)
    for start in range(0, len(far) - FRAME + 1, FRAME):
        canceller.far_end(far[start : start + FRAME])
        canceller.near_end(mic[start : start + FRAME])
        if canceller.take_onset():
            onsets.append(1000 * start / RATE)
    talk_starts_ms = onset_ms(talk_over(far, near))
    assert onsets, "no onset heard at all"
    assert all(t >= talk_starts_ms - 10 for t in onsets)  # nothing during echo alone
    assert onsets[0] <= talk_starts_ms + 2 * FRAME_MS


def test_the_first_reply_after_a_silence_reaches_the_vad_as_no_speech(voices):
    far, _ = voices
    far = np.concatenate([silence(3.0), far])
    canceller = open_echo_canceller(EchoMode.AEC, delay_ms=ECHO_DELAY_MS)
    _cleaned, edges = run(canceller, far, room_echo(far, gain_db=-6.0))
    assert edges == []


def test_aec_ducks_what_a_drifting_echo_path_leaves(voices):
    """Echo whose delay drifts (the input and output clocks differ, like two sound cards or a
    sound server resampling in between): AEC3 keeps losing it; the residual gate must keep
    the VAD from hearing the reply as the user."""
    far, _ = voices
    echo = room_echo(far, gain_db=0.0)
    drift = np.interp(np.arange(len(echo)) * 1.002, np.arange(len(echo)), echo, right=0.0).astype(
        np.float32
    )
    _, edges = run(open_echo_canceller(EchoMode.AEC, delay_ms=ECHO_DELAY_MS), far, drift)
    assert edges == []
