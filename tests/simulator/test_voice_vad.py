"""The synthesized voice, the incremental server VAD and the wire audio codecs (no sockets)."""

from __future__ import annotations

import numpy as np
import pytest

from talkapp.audio.pcm import duration_ms, float_to_pcm16, pcm16_to_float
from talkapp.simulator.vad import ServerVad, SpeechStarted, SpeechStopped, VadParams
from talkapp.simulator.voice import silence, speech_seconds, synthesize
from talkapp.simulator.wire_audio import from_pcm24, to_pcm24

from .conftest import speech_share

REPLY = (
    "This is the TalkApp simulator speaking as gpt-realtime over the GA dialect. "
    "I heard 1.4 seconds of audio."
)


@pytest.mark.parametrize("voice", ["alloy", "ash", "marin"])
def test_webrtcvad_mode_2_hears_speech_in_the_voice(voice):
    assert speech_share(synthesize(REPLY, voice=voice)) > 0.8


def test_webrtcvad_hears_no_speech_in_silence():
    assert speech_share(silence(2.0)) == 0.0
    dither = float_to_pcm16(np.random.default_rng(0).uniform(-2e-4, 2e-4, 48_000))
    assert speech_share(dither) == 0.0


def test_the_voice_lasts_as_long_as_the_words_take_to_say():
    pcm = synthesize(REPLY)
    assert duration_ms(pcm) == pytest.approx(speech_seconds(REPLY) * 1000, rel=0.01)
    assert speech_seconds(REPLY) == pytest.approx(len(REPLY.split()) / 2.5)
    assert duration_ms(synthesize(REPLY, speed=1.5)) < duration_ms(pcm)


def test_the_voice_is_deterministic_and_voice_specific():
    assert synthesize("hello there", seed=3) == synthesize("hello there", seed=3)
    assert synthesize("hello there", voice="alloy") != synthesize("hello there", voice="verse")


def test_the_voice_is_voiced_with_a_pitch_between_100_and_220_hz():
    x = pcm16_to_float(synthesize("aaa ooo eee aaa ooo", voice="alloy"))
    loud = x[: 24_000 // 4]  # the first syllable
    spectrum = np.abs(np.fft.rfft(loud * np.hanning(loud.size)))
    freqs = np.fft.rfftfreq(loud.size, 1 / 24_000)
    band = (freqs > 80) & (freqs < 260)
    fundamental = freqs[band][np.argmax(spectrum[band])]
    assert 95 <= fundamental <= 225
    assert spectrum[freqs > 1000].sum() > 0.05 * spectrum.sum()  # harmonic-rich, not a sine


def test_the_voice_has_syllable_pauses():
    x = np.abs(pcm16_to_float(synthesize(REPLY)))
    blocks = x[: x.size // 480 * 480].reshape(-1, 480).max(axis=1)  # 20 ms peaks
    assert (blocks < 0.01).sum() >= 10  # quiet gaps between words
    assert (blocks > 0.1).sum() > blocks.size / 2


def feed_in_chunks(vad: ServerVad, pcm: bytes, chunk_ms: int = 70) -> list:
    step = 48 * chunk_ms
    return [edge for i in range(0, len(pcm), step) for edge in vad.feed(pcm[i : i + step])]


def test_server_vad_finds_one_turn_with_padding_and_hangover():
    pcm = silence(1.0) + synthesize("Could you tell me the weather today please") + silence(1.5)
    start, stop = feed_in_chunks(ServerVad(VadParams(silence_ms=500, prefix_padding_ms=300)), pcm)
    assert isinstance(start, SpeechStarted) and isinstance(stop, SpeechStopped)
    assert 600 <= start.audio_start_ms <= 1000  # onset near 1000 ms, minus the 300 ms padding
    speech_end = 1000 + speech_seconds("Could you tell me the weather today please") * 1000
    # includes the 500 ms of silence; the last word's faint tail (under the level floor) may
    # already count as silence, hence the 100 ms of slack below
    assert speech_end + 400 <= stop.audio_end_ms <= speech_end + 900


def test_server_vad_ignores_silence_and_keeps_speaking_through_word_gaps():
    vad = ServerVad(VadParams(silence_ms=500))
    assert feed_in_chunks(vad, silence(3.0)) == []
    edges = feed_in_chunks(vad, synthesize(REPLY))
    assert [type(e) for e in edges] == [
        SpeechStarted
    ]  # still speaking at the end, no stop mid-sentence
    assert vad.speaking


def test_server_vad_padding_never_reaches_before_the_buffer():
    vad = ServerVad(VadParams(prefix_padding_ms=300), start_ms=5000)
    (start,) = feed_in_chunks(vad, synthesize("hello"))[:1]
    assert start.audio_start_ms == 5000


def test_threshold_maps_to_webrtcvad_modes_and_semantic_eagerness_to_silence():
    assert [VadParams(threshold=t).mode for t in (0.0, 0.3, 0.5, 0.9, 1.0)] == [0, 1, 2, 3, 3]
    low = VadParams.from_turn_detection({"type": "semantic_vad", "eagerness": "low"})
    high = VadParams.from_turn_detection({"type": "semantic_vad", "eagerness": "high"})
    assert low.silence_ms > high.silence_ms


@pytest.mark.parametrize("codec", ["ulaw", "alaw"])
def test_g711_round_trip_keeps_the_voice(codec):
    pcm = synthesize("hello there friend")
    wire = from_pcm24(pcm, codec)
    assert len(wire) == pytest.approx(len(pcm) / 6, abs=2)  # 8 kHz, one byte per sample
    back = pcm16_to_float(to_pcm24(wire, codec))
    original = pcm16_to_float(pcm)[: back.size]
    assert np.corrcoef(original, back)[0, 1] > 0.9
    assert from_pcm24(pcm, "pcm") == pcm


def test_the_threshold_sets_a_level_floor_under_which_nothing_is_speech():
    """Quiet speech (e.g. what echo cancellation leaves of a reply) does not start a turn at the
    default threshold; the same speech at a normal level does."""
    loud = pcm16_to_float(synthesize(REPLY))
    edges = {}
    for name, gain in (("normal", 1.0), ("quiet", 10 ** (-45 / 20))):
        vad = ServerVad(VadParams(threshold=0.5))
        edges[name] = vad.feed(float_to_pcm16(loud * gain))
    assert any(isinstance(e, SpeechStarted) for e in edges["normal"])
    assert edges["quiet"] == []
