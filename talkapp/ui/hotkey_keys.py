"""The global hotkey's keys, without Qt: parsing a combination, following which keys are held,
and why a hotkey cannot work here. Shared by `global_hotkey` (in the app) and `hotkey_helper`
(its own process, which starts faster without Qt)."""

from __future__ import annotations

import os
import sys
from typing import Any

MACOS_PERMISSION = (
    "macOS has not allowed TalkApp to watch the keyboard. Open System Settings → Privacy & "
    "Security → Accessibility (and Input Monitoring), switch TalkApp on — or the Terminal or "
    "Python app that runs it — then quit and reopen TalkApp."
)


class _Watcher:
    """On pynput's thread: which keys are held, and whether that completes the combination."""

    def __init__(self, wanted: list, generation: int, emit) -> None:
        self._wanted = wanted
        self.canonical = lambda key: key  # the listener's own, set once it exists
        self._generation = generation
        self._emit = emit
        self._held: set = set()
        self._active = False

    def press(self, key, injected: bool = False) -> None:
        if key is None:
            return
        self._held.add(self.canonical(key))
        if not self._active and all(self._held_matches(w) for w in self._wanted):
            self._active = True  # key repeat sends more presses; only the first counts
            self._emit(self._generation, 1)

    def release(self, key, injected: bool = False) -> None:
        if key is None:
            return
        canonical = self.canonical(key)
        self._held.discard(canonical)
        if self._active and any(_same(canonical, w) for w in self._wanted):
            self._active = False
            self._emit(self._generation, 0)

    def _held_matches(self, wanted) -> bool:
        return any(_same(held, wanted) for held in self._held)


def _same(key, wanted) -> bool:
    if key == wanted:
        return True
    # Windows reports ctrl+h as the control character '\x08' with vk 0x48: match letters and
    # digits by their virtual-key code too.
    char = getattr(wanted, "char", None)
    vk = getattr(key, "vk", None)
    return (
        sys.platform == "win32" and char is not None and char.isalnum() and vk == ord(char.upper())
    )


def parse(combo: str, keyboard: Any) -> list:
    """pynput's keys for `combo`; ValueError with a readable message when it is not one."""
    parts = [p.strip() for p in combo.split("+")] if combo.strip() else []
    if not parts or any(not p for p in parts):
        raise ValueError(f"“{combo}” is not a key combination (example: <ctrl>+<alt>+h).")
    normal = "+".join(p if len(p) == 1 or p.startswith("<") else f"<{p.lower()}>" for p in parts)
    try:
        keys = keyboard.HotKey.parse(normal)
    except ValueError:
        raise ValueError(
            f"“{combo}” is not a key combination TalkApp knows (example: <ctrl>+<alt>+h)."
        ) from None
    if all(isinstance(k, keyboard.Key) for k in keys):
        raise ValueError(f"“{combo}” has only modifier keys; add a key such as h or <f9>.")
    return keys


def platform_reason() -> str | None:
    """Why a global hotkey cannot work in this desktop session, before trying; None if it may."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
            return (
                "The global hotkey is unavailable under Wayland: apps may not see keys pressed in "
                "other apps. Use the push-to-talk key in the TalkApp window, or bind a key in your "
                "desktop's keyboard settings."
            )
        if not os.environ.get("DISPLAY"):
            return (
                "The global hotkey is unavailable: there is no X display (DISPLAY is not set), so "
                "keys pressed in other apps cannot be seen. Use the push-to-talk key in the window."
            )
    return None


def _import_reason(exc: ImportError) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if getattr(exc, "name", None) == "pynput":
        return "The global hotkey needs the Python package pynput (pip install 'talkapp[hotkeys]')."
    if "X connection" in text or "display" in text.lower():
        return (
            f"The global hotkey is unavailable: the X display {os.environ.get('DISPLAY', '')!s} "
            "could not be reached. Use the push-to-talk key in the window."
        )
    return f"The global hotkey is unavailable on this system ({text})."
