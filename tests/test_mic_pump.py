"""The mic pump's push-to-talk release: the unsent tail goes out before the commit when it may
hold the end of the user's speech, and is left out when the VAD says it is silence."""

import numpy as np
from speech import silence, speak

from talkapp.audio.echo import Passthrough
from talkapp.audio.pcm import WIRE_RATE
from talkapp.audio.ring import open_ring
from talkapp.audio.vad import SpeechDetector
from talkapp.session.engine import AudioOptions
from talkapp.session.mic import SEND_CHUNK_MS, MicPump

# A pull holds one mic block or more (the bell wakes the pump after a single block)
BLOCK = int(WIRE_RATE * AudioOptions().input_block_ms) // 1000


def talk_then_release(audio: np.ndarray) -> tuple[int, int]:
    """Stream `audio` through a pump block by block, then release: (samples sent while
    streaming, samples in the release's tail)."""
    writer, reader = open_ring(WIRE_RATE * 10)
    pump = MicPump(
        reader, WIRE_RATE, Passthrough(), SpeechDetector(aggressiveness=2, hangover_ms=500)
    )
    pump.start_stream()
    sent = 0
    for start in range(0, len(audio) - BLOCK + 1, BLOCK):
        writer.write(audio[start : start + BLOCK])
        sent += sum(len(chunk) // 2 for chunk in pump.pull().chunks)
    tail = sum(len(chunk) // 2 for chunk in pump.stop_stream().chunks)
    return sent, tail


def test_a_tail_that_may_end_the_speech_is_sent_before_the_commit():
    speech = speak("Hello there, how are you today")
    step = SEND_CHUNK_MS * WIRE_RATE // 1000
    audio = speech[: len(speech) // 2 // step * step + BLOCK]  # mid-word, a chunk not yet full
    sent, tail = talk_then_release(audio)
    assert tail > 0
    assert sent + tail == len(audio) // BLOCK * BLOCK  # every sample, none twice


def test_a_silent_tail_long_after_the_speech_is_left_out():
    audio = np.concatenate([speak("Hello there"), silence(0.5)])
    sent, tail = talk_then_release(
        audio[: len(audio) // BLOCK * BLOCK - BLOCK // 2]
    )  # not on a chunk edge
    assert tail == 0
    step = SEND_CHUNK_MS * WIRE_RATE // 1000
    assert len(audio) - sent < step + BLOCK  # only what the last chunk had not yet gathered
