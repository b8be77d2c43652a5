"""When the audio streams run and how large their blocks are: two small pure policies.

`MicPolicy`: the microphone is open only while the user asks for it -- a push-to-talk press, or
hands-free switched on and not muted. After a release (or hands-free switched off) it stays
open `linger_s` longer, so a next press finds it running and loses nothing; then it closes,
and a waiting push-to-talk session costs no audio work at all (and on macOS the microphone
indicator goes out, a Bluetooth headset goes back to its high-quality profile). Muting closes
it at once: nothing is sent, and nothing is heard either.

`BlockSizer`: the output's PortAudio block. Small blocks start a reply soonest; when the
speaker runs dry while playing (PortAudio's underflow flag, on a busy machine), the next
reply uses a larger one, and after `calm_replies` replies without a dry spell it steps back.

Both are plain state machines: times and events in, decisions out; no audio, no threads.
"""

from __future__ import annotations

from dataclasses import dataclass

MIC_LINGER_S = 4.0  # after a release: the next press within this finds the microphone open


class MicPolicy:
    """Whether the microphone stream should be open now (`wanted`). Feed it the user's
    gestures and `tick` it; the engine opens or closes the stream to match."""

    def __init__(self, *, hands_free: bool = False, linger_s: float = MIC_LINGER_S) -> None:
        self.linger_s = linger_s
        self._hands_free = hands_free
        self._pressed = False
        self._muted = False
        self._until: float | None = None  # lingering: open until this time
        self._open = self._asked()

    @property
    def wanted(self) -> bool:
        return self._open

    @property
    def muted(self) -> bool:
        return self._muted

    def press(self, now: float) -> bool:
        self._pressed = True
        return self._update(now)

    def release(self, now: float) -> bool:
        self._pressed = False
        return self._update(now)

    def set_hands_free(self, on: bool, now: float) -> bool:
        self._hands_free = on
        return self._update(now)

    def set_muted(self, on: bool, now: float) -> bool:
        self._muted = on
        if on:
            self._until = None  # no pre-roll kept for a muted microphone
        return self._update(now)

    def stop(self) -> None:
        """The session ended: closed, whatever was asked."""
        self._pressed, self._until, self._open = False, None, False

    def tick(self, now: float) -> bool:
        """The microphone closes once its linger time has passed. Returns `wanted`."""
        return self._update(now)

    def _asked(self) -> bool:
        return not self._muted and (self._pressed or self._hands_free)

    def _update(self, now: float) -> bool:
        if self._asked():
            self._open, self._until = True, None
        elif self._open and not self._muted:
            if self._until is None:
                self._until = now + self.linger_s
            if now >= self._until:
                self._open, self._until = False, None
        else:
            self._open, self._until = False, None
        return self._open


BLOCK_STEPS_MS = (5.0, 10.0, 20.0)


@dataclass(frozen=True)
class BlockChange:
    block_ms: float
    larger: bool  # False: back to a smaller block after a calm spell


class BlockSizer:
    """The output block for the next reply. `reply_ended(ran_dry)` after each reply played;
    a `BlockChange` when the block should change (applied while nothing plays)."""

    def __init__(self, block_ms: float = BLOCK_STEPS_MS[0], calm_replies: int = 20) -> None:
        self.block_ms = block_ms
        self.floor_ms = block_ms  # never below what the user or the app chose
        self.calm_replies = calm_replies
        self._calm = 0

    def reply_ended(self, ran_dry: int) -> BlockChange | None:
        if ran_dry:
            self._calm = 0
            larger = next((b for b in BLOCK_STEPS_MS if b > self.block_ms), None)
            if larger is None:
                return None
            self.block_ms = larger
            return BlockChange(larger, True)
        self._calm += 1
        if self._calm < self.calm_replies or self.block_ms <= self.floor_ms:
            return None
        self._calm = 0
        smaller = max(
            (b for b in BLOCK_STEPS_MS if b < self.block_ms and b >= self.floor_ms),
            default=self.floor_ms,
        )
        self.block_ms = smaller
        return BlockChange(smaller, False)
