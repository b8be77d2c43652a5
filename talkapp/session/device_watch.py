"""When the engine re-scans the audio devices during a session: a small pure policy.

A re-scan (PortAudio re-initialised, to see devices plugged in since) needs every stream
closed, so it happens only at a quiet moment, and only when there is a reason:
- the user asked (the settings' Refresh): at the next moment nobody talks and nothing plays
  (a hands-free microphone closes for the few milliseconds it takes);
- the output follows "System default" and the system said the default changed (macOS): at the
  same kind of moment: the user just connected their headphones;
- the output follows "System default" on a system that does not say (Windows): once per quiet
  stretch with the microphone closed and nothing playing, at most every `min_interval_s`, so a
  waiting session costs nothing and a conversation is never cut for a guess.
On Linux the sound server moves the stream to a new default itself (`Follow.BY_SERVER`).
"""

from __future__ import annotations

import math
from enum import Enum

from talkapp.audio.devices import DeviceInfo
from talkapp.platform.default_output import Follow

POLL_INTERVAL_S = 5.0


class Rescan(Enum):
    ASKED = "asked"  # the user's Refresh
    DEFAULT_CHANGED = "default_changed"  # the system said so
    LOOK_FOR_DEFAULT = "look_for_default"  # a check on a system that does not say


class RescanPolicy:
    def __init__(
        self, follow: Follow, *, following: bool = True, min_interval_s: float = POLL_INTERVAL_S
    ) -> None:
        """`following`: the output device is "System default" (`follow_default` changes it)."""
        self.follow = follow
        self.following = following
        self.min_interval_s = min_interval_s
        self._asked = False
        self._changed = False  # the system said the default output changed
        self._stretch_checked = True  # the streams just opened on the current default
        self._last = -math.inf

    def ask(self) -> None:
        self._asked = True

    def default_changed(self) -> None:
        self._changed = True

    @property
    def asked(self) -> bool:
        return self._asked

    def due(self, now: float, *, quiet: bool, mic_open: bool, playing: bool) -> Rescan | None:
        """Whether to re-scan now. `quiet`: nobody is talking and no reply is on its way;
        `playing`: the output is busy with a reply (or its tail)."""
        idle = quiet and not playing
        if not (idle and not mic_open):
            self._stretch_checked = False  # a new quiet stretch will be worth a look
        if not idle:
            return None
        if self._asked:
            return Rescan.ASKED
        if not self.following:
            return None
        if self._changed and self.follow is Follow.NOTIFIED:
            return Rescan.DEFAULT_CHANGED
        if (
            self.follow is Follow.POLLED
            and not mic_open
            and not self._stretch_checked
            and now - self._last >= self.min_interval_s
        ):
            return Rescan.LOOK_FOR_DEFAULT
        return None

    def done(self, now: float) -> None:
        """The re-scan ran (whatever it found): every reason for it is answered."""
        self._asked = self._changed = False
        self._stretch_checked = True
        self._last = now


def moved_to_new_default(
    before: DeviceInfo | None, after: DeviceInfo | None, following: bool
) -> str | None:
    """What to tell after a re-scan reopened the output: the device it now plays on, when it
    follows "System default" and that is another device than before; else None."""
    if not following or before is None or after is None or before.key == after.key:
        return None
    return f"Playing on '{after.name}', the new system default."
