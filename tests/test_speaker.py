"""The playback feeder's idea of where a reply ends, against a real ring read the way the output
callback reads it: running dry at a reply's end is not an underrun, mid-reply it is -- and a
reply cut off by a lost connection ends where its audio does."""

from collections.abc import Callable

import numpy as np

from talkapp.audio.echo import Passthrough
from talkapp.audio.pcm import float_to_pcm16
from talkapp.audio.ring import open_ring
from talkapp.session.speaker import Speaker

RATE = 48_000
BLOCK = RATE // 200  # 5 ms, as the output callback takes it


def speaker_and_callback() -> tuple[Speaker, Callable[[float], int]]:
    ring, played = open_ring(RATE)
    speaker = Speaker(ring, played, RATE, Passthrough())
    block = np.zeros(BLOCK, np.float32)

    def play_out(seconds: float) -> int:
        """Run the output callback for `seconds` (the feeder topping up between blocks); the
        ring's underruns so far."""
        for _ in range(round(seconds * 200)):
            speaker.feed()
            played.fill(block)
        return ring.statistics().underruns

    return speaker, play_out


def reply_audio(seconds: float) -> bytes:
    t = np.arange(round(24_000 * seconds)) / 24_000
    return float_to_pcm16(0.3 * np.sin(2 * np.pi * 220 * t))


def test_a_reply_that_ends_runs_dry_without_an_underrun():
    speaker, play_out = speaker_and_callback()
    speaker.play("item_1", reply_audio(0.2))
    speaker.end_of_item("item_1")
    assert play_out(0.5) == 0


def test_audio_that_stops_mid_reply_is_an_underrun():
    speaker, play_out = speaker_and_callback()
    speaker.play("item_1", reply_audio(0.2))  # and then nothing: the reply is still open
    assert play_out(0.5) == 1


def test_a_reply_cut_off_by_a_lost_connection_ends_where_its_audio_does():
    speaker, play_out = speaker_and_callback()
    speaker.play("item_1", reply_audio(0.2))
    speaker.cut_off()
    assert play_out(0.5) == 0
    speaker.cut_off()  # nothing open any more: nothing changes
    speaker.play("item_2", reply_audio(0.1))  # the resumed reply, on the new connection
    speaker.end_of_item("item_2")
    assert play_out(0.5) == 0
