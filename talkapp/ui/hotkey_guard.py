"""The global hotkey's crash guard: a hotkey that took TalkApp down is not started again at
the next launch, and the person is told why.

Why: pynput's macOS listener asks for the keyboard layout from its own thread, which recent
macOS versions punish by killing the process (pynput issue 511); with the combination saved,
TalkApp would start the listener, and die, at every launch. A process killed that way runs no
Python, so the guard is a file: written (`arm`) when the listener starts, removed (`disarm`)
when it stops normally. Found at the next launch, the last run ended while the listener ran:
the hotkey stays off, with a message, until the person turns it back on (`disarm` and start),
which is the one way out. A crash elsewhere while the hotkey was on also leaves it off: one
click to undo, against a crash at every launch.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

MARKER = "global-hotkey-running.json"


@dataclass(frozen=True)
class Verdict:
    start: bool
    message: str = ""  # when not started after a crash: what happened and what to do


def verdict(combo: str, left_running: str | None) -> Verdict:
    """Whether to start the hotkey `combo` at launch, given the combination whose listener was
    still running when the last run ended (None: it stopped normally, or there was none)."""
    if not combo:
        return Verdict(False)
    if left_running is None:
        return Verdict(True)
    return Verdict(
        False,
        f"The global hotkey {combo} is off: TalkApp quit unexpectedly while it was listening "
        f"for {left_running}, and the keyboard listener may be why. Turn it on again to try once "
        "more; if TalkApp quits again, use the push-to-talk key in the window.",
    )


class HotkeyGuard:
    def __init__(self, folder: Path) -> None:
        self.path = folder / MARKER

    def left_running(self) -> str | None:
        """The combination of a listener that never stopped, or None."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return "the global hotkey"  # unreadable: it was there, that is what counts
        combo = data.get("combo") if isinstance(data, dict) else None
        return combo if isinstance(combo, str) and combo else "the global hotkey"

    def arm(self, combo: str) -> None:
        """Before the listener starts. A folder that cannot be written only loses the guard."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"combo": combo}), encoding="utf-8")

    def disarm(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
