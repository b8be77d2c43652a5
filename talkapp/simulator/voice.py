"""A synthesized, voice-like signal for the simulator's replies (pure numpy, no I/O).

The simulator cannot speak words, but clients must be exercised with audio that behaves like
speech: webrtcvad must call it speech, playback must sound like a voice, and its length must fit
the transcript. So each word becomes one to three syllables of a harmonic-rich glottal source
(pitch 100–220 Hz with a contour) shaped by vowel formants, under a syllable-rate envelope, with
short pauses between words and longer ones at punctuation. Same text + seed → same samples.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16

WORDS_PER_SECOND = 2.5

# (F1, F2, F3) in Hz of a few vowels; syllables cycle through them so the spectrum moves.
_VOWELS = (
    (730, 1090, 2440),
    (270, 2290, 3010),
    (530, 1840, 2480),
    (570, 840, 2410),
    (300, 870, 2240),
)
_BANDWIDTHS = (90.0, 110.0, 170.0)
_MAX_HARMONIC_HZ = 4000.0
_PEAK = 0.5  # about -6 dBFS


def word_count(text: str) -> int:
    return max(1, len(text.split()))


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long the reply takes to say: about 2.5 words per second at speed 1.0."""
    return word_count(text) / (WORDS_PER_SECOND * speed)


def synthesize(text: str, *, voice: str = "alloy", speed: float = 1.0, seed: int = 0) -> bytes:
    """PCM16 24 kHz mono audio of a voice-like signal as long as `text` takes to say."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}:{voice}:{text}".encode()))
    base_f0 = 100.0 + (zlib.crc32(voice.encode()) % 121)  # each voice has its own pitch
    words = text.split() or ["…"]
    slot = 1.0 / (WORDS_PER_SECOND * speed)
    pieces = [_word(w, slot, base_f0, rng) for w in words]
    signal = np.concatenate(pieces)
    peak = float(np.max(np.abs(signal))) or 1.0
    return float_to_pcm16(signal * (_PEAK / peak))


def silence(seconds: float, rate: int = WIRE_RATE) -> bytes:
    """Digital silence, PCM16."""
    return b"\x00\x00" * round(seconds * rate)


def _word(word: str, slot_s: float, base_f0: float, rng: np.random.Generator) -> np.ndarray:
    """One word slot: voiced syllables, then a pause (longer after punctuation)."""
    pause_s = slot_s * (0.45 if re.search(r"[.?!,;:]$", word) else 0.2)
    voiced_s = slot_s - pause_s
    n_syll = min(3, max(1, len(re.findall(r"[aeiouy]+", word.lower()))))
    sylls = [_syllable(voiced_s / n_syll, base_f0, rng) for _ in range(n_syll)]
    return np.concatenate([*sylls, np.zeros(int(pause_s * WIRE_RATE), dtype=np.float32)])


def _syllable(seconds: float, base_f0: float, rng: np.random.Generator) -> np.ndarray:
    n = max(1, int(seconds * WIRE_RATE))
    t = np.arange(n) / WIRE_RATE
    f0 = _pitch_contour(t, seconds, base_f0, rng)
    formants = _VOWELS[int(rng.integers(len(_VOWELS)))]
    voiced = _harmonics(f0, formants)
    onset = _consonant_burst(n, rng)
    return (voiced + onset) * _envelope(n)


def _pitch_contour(
    t: np.ndarray, seconds: float, base_f0: float, rng: np.random.Generator
) -> np.ndarray:
    """A rise-fall within the syllable plus a little jitter, kept within 100–220 Hz."""
    start = base_f0 * float(rng.uniform(0.9, 1.1))
    rise = np.sin(np.pi * t / max(seconds, 1e-3)) * float(rng.uniform(0.05, 0.2))
    wobble = 0.02 * np.sin(2 * np.pi * 5.5 * t)
    return np.clip(start * (1.0 + rise + wobble), 100.0, 220.0)


def _harmonics(f0: np.ndarray, formants: tuple[int, int, int]) -> np.ndarray:
    """Sum of harmonics of a sawtooth-like source, each weighted by the formant envelope."""
    phase = 2 * np.pi * np.cumsum(f0) / WIRE_RATE
    out = np.zeros(f0.size, dtype=np.float64)
    for k in range(1, int(_MAX_HARMONIC_HZ // float(f0.min())) + 1):
        freq = k * f0
        gain = _formant_gain(freq, formants) / k
        out += gain * np.sin(k * phase) * (freq < _MAX_HARMONIC_HZ)
    return out.astype(np.float32)


def _formant_gain(freq: np.ndarray, formants: tuple[int, int, int]) -> np.ndarray:
    """Magnitude of three second-order resonances (a crude vocal tract) at `freq`."""
    gain = np.full(freq.shape, 0.05)
    for centre, width in zip(formants, _BANDWIDTHS):
        gain += 1.0 / (1.0 + ((freq - centre) / (width / 2.0)) ** 2)
    return gain


def _consonant_burst(n: int, rng: np.random.Generator) -> np.ndarray:
    """A short noisy onset (20–40 ms), like a plosive or fricative before the vowel."""
    burst = np.zeros(n, dtype=np.float32)
    m = min(n, int(WIRE_RATE * float(rng.uniform(0.02, 0.04))))
    noise = rng.standard_normal(m).astype(np.float32)
    burst[:m] = 0.3 * np.diff(noise, prepend=0.0) * np.linspace(1.0, 0.0, m, dtype=np.float32)
    return burst


def _envelope(n: int) -> np.ndarray:
    """Syllable amplitude envelope: quick attack, sustained body, gentle release."""
    attack, release = min(n // 4, int(0.02 * WIRE_RATE)), min(n // 3, int(0.06 * WIRE_RATE))
    env = np.ones(n, dtype=np.float32)
    env[:attack] = np.linspace(0.0, 1.0, attack, dtype=np.float32)
    env[n - release :] = np.linspace(1.0, 0.0, release, dtype=np.float32)
    return env
