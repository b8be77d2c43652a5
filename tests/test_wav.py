"""WAV files as people have them: any rate, channels and sample format; damaged ones explained."""

import struct
import wave

import numpy as np
import pytest

from talkapp.audio.pcm import float_to_pcm16, pcm16_to_float, resample
from talkapp.audio.wav import WavError, read_wav, read_wav_for_wire, write_wav


def _tone(rate, seconds=0.5, freq=440.0):
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _write_raw_wav(path, tag, channels, rate, bits, frames: bytes):
    fmt = struct.pack(
        "<HHIIHH", tag, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits
    )
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(frames))
        + frames
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_stereo_44k1_16bit_becomes_24k_mono(tmp_path):
    left = _tone(44100)
    stereo = np.stack([left, left], axis=1)
    with wave.open(str(tmp_path / "s.wav"), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(float_to_pcm16(stereo.reshape(-1)))
    pcm = read_wav_for_wire(tmp_path / "s.wav")
    samples = pcm16_to_float(pcm)
    assert abs(samples.size - 12000) <= 1
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 24000 / samples.size - 440) < 5  # the tone survives resampling


@pytest.mark.parametrize(
    "tag, bits, encode",
    [
        (1, 8, lambda x: (np.round(x * 127) + 128).astype(np.uint8).tobytes()),
        (
            1,
            24,
            lambda x: b"".join(
                int(v).to_bytes(3, "little", signed=True) for v in np.round(x * 8388607)
            ),
        ),
        (1, 32, lambda x: np.round(x * 2147483647).astype("<i4").tobytes()),
        (3, 32, lambda x: x.astype("<f4").tobytes()),
        (0xFFFE, 16, None),
    ],
)
def test_sample_formats(tmp_path, tag, bits, encode):
    x = _tone(16000, 0.1)
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE around 16-bit PCM
        frames = float_to_pcm16(x)
        fmt = (
            struct.pack("<HHIIHH", 0xFFFE, 1, 16000, 32000, 2, 16)
            + struct.pack("<HHI", 22, 16, 4)
            + struct.pack("<H", 1)
            + bytes(14)
        )
        body = (
            b"WAVE"
            + b"fmt "
            + struct.pack("<I", len(fmt))
            + fmt
            + b"data"
            + struct.pack("<I", len(frames))
            + frames
        )
        (tmp_path / "x.wav").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    else:
        _write_raw_wav(tmp_path / "x.wav", tag, 1, 16000, bits, encode(x))
    audio = read_wav(tmp_path / "x.wav")
    assert audio.rate == 16000
    assert np.max(np.abs(audio.samples - x)) < 0.01


def test_round_trip_at_wire_rate_is_exact(tmp_path):
    pcm = float_to_pcm16(_tone(24000, 0.2))
    write_wav(tmp_path / "o.wav", pcm)
    assert read_wav_for_wire(tmp_path / "o.wav") == pcm


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "not a WAV file"),
        (b"RIFF\x04\x00\x00\x00WAVE", "missing fmt chunk"),
        (b"ID3\x03hello this is an mp3", "not a WAV file"),
    ],
)
def test_unusable_files_are_explained(tmp_path, content, says):
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(WavError, match=says):
        read_wav(tmp_path / "bad.wav")


def test_a_missing_file_is_explained(tmp_path):
    with pytest.raises(WavError, match="cannot read"):
        read_wav(tmp_path / "nope.wav")


def test_unsupported_encoding_says_how_to_convert(tmp_path):
    _write_raw_wav(tmp_path / "alaw.wav", 6, 1, 8000, 8, bytes(800))
    with pytest.raises(WavError, match="convert it to 16-bit PCM"):
        read_wav(tmp_path / "alaw.wav")


def test_resampling_keeps_speech_band_and_removes_what_cannot_be_represented():
    x = _tone(48000, 1.0, 1000.0) + _tone(48000, 1.0, 15000.0)
    y = resample(x, 48000, 24000)
    spectrum = np.abs(np.fft.rfft(y[100:-100]))
    freqs = np.fft.rfftfreq(y[100:-100].size, 1 / 24000)
    assert (
        spectrum[np.argmin(np.abs(freqs - 1000))] > 100 * spectrum[np.argmin(np.abs(freqs - 9000))]
    )
