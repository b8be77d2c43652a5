"""Interpreter tuning for live audio: process-wide, so only a composition root applies it (the
desktop app, `talkapp talk`, a bench worker) and takes it back when it is done; an engine made
elsewhere (a test's, a comparison's) runs untuned and changes nothing outside itself.

Why: the PortAudio callbacks are Python, and each needs the GIL within a block or the device
runs dry (bench/audio_latency.py shows the gaps).
- The switch interval: a thread waiting for the GIL gets it within 1 ms instead of the default
  5 ms.
- The heap: a full garbage collection holds the GIL for every object the process has, for tens
  of milliseconds once the streams run. So the engine collects before its streams start and
  freezes what survives, and freezes again what connecting made: later collections skip it.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator

SWITCH_INTERVAL_S = 0.001


class Untuned:
    """The engine's hooks with no tuning behind them: they do nothing."""

    def settle_heap(self) -> None:
        """Before the audio streams start (the echo canceller and the VAD already loaded)."""

    def freeze_heap(self) -> None:
        """Once the session is connected."""


UNTUNED = Untuned()


class LiveAudioTuning(Untuned):
    """Applied while it is open (`tuned_for_live_audio`); the engine calls its heap hooks."""

    def __init__(self) -> None:
        self._switch_interval_before = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)

    def settle_heap(self) -> None:
        gc.collect()
        gc.freeze()

    def freeze_heap(self) -> None:
        gc.freeze()

    def undo(self) -> None:
        sys.setswitchinterval(self._switch_interval_before)
        gc.unfreeze()  # the frozen objects go back to the oldest generation


@contextlib.contextmanager
def tuned_for_live_audio() -> Iterator[LiveAudioTuning]:
    """For a composition root: the tuning, for as long as the `with` block runs."""
    tuning = LiveAudioTuning()
    try:
        yield tuning
    finally:
        tuning.undo()
