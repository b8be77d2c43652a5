"""24 kHz → 16 kHz PCM16 for Gemini's input, in the standard library (the protocol layer's rule).

Gemini's input audio is natively 16 kHz (it resamples anything else, but sending 16 kHz saves a
third of the upload); TalkApp's wire rate is 24 kHz. Every 3 input samples become 2: a short
smoothing before picking limits what folds back from above 8 kHz. Stateful across chunks, so a
stream cut into any chunk sizes comes out the same.
"""

from __future__ import annotations

import sys
from array import array


class Downsampler:
    def __init__(self) -> None:
        self._carry: list[int] = []  # input samples not yet consumed (fewer than 3 + 1)
        self._previous = 0  # the sample before the carry, for the smoothing window

    def convert(self, pcm: bytes) -> bytes:
        samples = array("h")
        samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
        x = self._carry + samples.tolist()
        out = array("h")
        prev = self._previous
        n = 0
        # Each group of three (a, b, c) needs the next sample too, for the second output.
        while n + 3 < len(x):
            a, b, c, d = x[n], x[n + 1], x[n + 2], x[n + 3]
            out.append((prev + 2 * a + b) // 4)  # at a
            out.append((a + 3 * b + 3 * c + d) // 8)  # halfway between b and c
            prev = c
            n += 3
        self._carry, self._previous = x[n:], prev
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()
