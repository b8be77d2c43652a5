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
        # Each group of three (a, b, c) needs the next sample (d) too, for its second output.
        groups = max(0, (len(x) - 1) // 3)
        end = 3 * groups
        a, b, c, d = x[0:end:3], x[1:end:3], x[2:end:3], x[3 : end + 1 : 3]
        before = [self._previous, *c[:-1]]  # the sample before each a
        out = array("h", bytes(4 * groups))
        out[0::2] = array("h", [(p + 2 * a_ + b_) >> 2 for p, a_, b_ in zip(before, a, b)])
        out[1::2] = array(
            "h", [(a_ + 3 * (b_ + c_) + d_) >> 3 for a_, b_, c_, d_ in zip(a, b, c, d)]
        )  # at a, smoothed; then halfway between b and c
        if groups:
            self._previous = c[-1]
        self._carry = x[end:]
        if sys.byteorder == "big":
            out.byteswap()
        return out.tobytes()
