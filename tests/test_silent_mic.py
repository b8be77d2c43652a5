"""The silent-microphone detector: a second of exact zeros at the device rate is a denied or
muted microphone, said once per opening; a real microphone's noise floor never is."""

import numpy as np
import pytest

from talkapp.audio.silence import MicSilence, SilentMicDetector

RATE = 48_000


def blocks(samples: np.ndarray, size: int = 480):
    return [samples[i : i + size] for i in range(0, len(samples), size)]


def changes(detector: SilentMicDetector, samples: np.ndarray, size: int = 480):
    """(frame index after the block, change) for every change the blocks caused."""
    found, at = [], 0
    for block in blocks(samples, size):
        at += len(block)
        change = detector.feed(block)
        if change is not None:
            found.append((at, change))
    return found


def noise_floor(seconds: float, seed: int = 0) -> np.ndarray:
    """A quiet room through a real microphone: a few LSBs of 16-bit noise, never all zero."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 3, int(seconds * RATE)).round() / 32768).astype(np.float32)


@pytest.mark.parametrize("size", [1, 240, 480, 1000, 48_000])
def test_one_second_of_exact_zeros_is_said_once_whatever_the_block(size):
    detector = SilentMicDetector(RATE)
    found = changes(detector, np.zeros(3 * RATE, np.float32), size)
    assert len(found) == 1 and found[0][1] is MicSilence.SILENT
    assert RATE <= found[0][0] < RATE + size  # at the block that completed the second
    assert detector.silent


def test_a_quiet_room_never_counts_as_silent():
    detector = SilentMicDetector(RATE)
    assert changes(detector, noise_floor(5)) == []


def test_any_non_zero_sample_starts_the_count_again():
    detector = SilentMicDetector(RATE)
    almost = np.zeros(RATE - 10, np.float32)
    click = np.zeros(10, np.float32)
    click[5] = 1 / 32768  # one LSB: four zeros follow it
    assert changes(detector, np.concatenate([almost, click, almost])) == []
    assert changes(detector, np.zeros(10, np.float32), size=1) == [(6, MicSilence.SILENT)]


def test_zeros_after_the_last_sound_of_a_block_count():
    detector = SilentMicDetector(RATE)
    block = np.zeros(RATE // 2, np.float32)
    block[0] = 0.5  # sound, then half a second of zeros in the same block
    assert detector.feed(block) is None
    assert detector.feed(np.zeros(RATE // 2, np.float32)) is None  # one frame short
    assert detector.feed(np.zeros(1, np.float32)) is MicSilence.SILENT


def test_sound_coming_back_is_said_once_and_silence_is_not_said_again_that_opening():
    detector = SilentMicDetector(RATE)
    zeros = np.zeros(2 * RATE, np.float32)
    found = changes(detector, np.concatenate([zeros, noise_floor(0.5), zeros, noise_floor(0.5)]))
    assert [change for _, change in found] == [MicSilence.SILENT, MicSilence.SOUND_BACK]
    assert not detector.silent


def test_each_opening_may_say_it_again():
    detector = SilentMicDetector(RATE)
    assert detector.feed(np.zeros(RATE, np.float32)) is MicSilence.SILENT
    detector.opened()
    assert not detector.silent
    assert detector.feed(np.zeros(RATE - 1, np.float32)) is None  # counted afresh
    assert detector.feed(np.zeros(1, np.float32)) is MicSilence.SILENT


def test_the_second_is_counted_at_the_device_rate():
    detector = SilentMicDetector(16_000)
    assert detector.feed(np.zeros(15_999, np.float32)) is None
    assert detector.feed(np.zeros(1, np.float32)) is MicSilence.SILENT
    detector.set_rate(RATE)
    detector.opened()
    assert detector.feed(np.zeros(16_000, np.float32)) is None


def test_an_empty_block_changes_nothing():
    detector = SilentMicDetector(RATE)
    assert detector.feed(np.zeros(0, np.float32)) is None
    assert detector.feed(np.zeros(RATE, np.float32)) is MicSilence.SILENT
    assert detector.feed(np.zeros(0, np.float32)) is None and detector.silent


def test_a_microphone_said_silent_before_it_closed_says_when_sound_comes_after_reopening():
    detector = SilentMicDetector(RATE)
    assert detector.feed(np.zeros(RATE, np.float32)) is MicSilence.SILENT
    detector.opened(silent=True)  # closed and reopened, still told silent
    assert detector.feed(noise_floor(0.01)) is MicSilence.SOUND_BACK
    detector.opened(silent=True)
    assert detector.feed(np.zeros(RATE, np.float32)) is MicSilence.SILENT  # told again
