"""A hold-to-talk key that works while TalkApp is in the background (pynput).

`start(combo)` returns None when the hotkey is active, else a reason in plain words (no X
display, Wayland, macOS without the Accessibility permission, pynput missing, a combination it
cannot read); it never raises for those. `pressed` fires once when the whole combination is
down, `released` when any key of it comes up.

Threads: pynput calls back on its own listener thread, where this class only updates a set of
held keys and emits `_seen`; that signal is connected with `QueuedConnection` to `_on_seen`, a
slot of this main-thread object, which emits `pressed` / `released` -- so both always fire on
the Qt main thread. Each `start` bumps a generation number carried by `_seen`, so an event
queued by a listener that was stopped since is dropped.

On macOS and Windows the listener runs in a helper process (`hotkey_helper`, `isolated`):
pynput's macOS listener can get the whole process killed, and a Windows keyboard hook that
waits on our GIL is silently removed. A reader thread turns the helper's lines into the same
`_seen` signal; a helper that dies is reported by `failed` (on the main thread) and TalkApp
keeps running. `start` waits for the helper's first line (it is listening, or why not).

Combinations use pynput's syntax, `<ctrl>+<alt>+h`, `<f9>`; bare key names are accepted too
(`<ctrl>+<alt>+space` and `<ctrl>+<alt>+<space>` are the same).
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
from typing import IO, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from talkapp.ui.hotkey_keys import (
    MACOS_PERMISSION,
    _import_reason,
    _Watcher,
    parse,
    platform_reason,
)

READY_TIMEOUT_S = 2.0  # a listener is ready in a few ms; one that is not has failed
HELPER_READY_TIMEOUT_S = 15.0  # a helper process starts Python first (well under a second)
ISOLATED = sys.platform in ("darwin", "win32")  # where the listener runs in a helper process


def helper_command() -> list[str]:
    """A frozen app has no `-m`: its entry point (packaging/talkapp_main.py) runs the helper
    when given `--hotkey-helper`."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--hotkey-helper"]
    return [sys.executable, "-m", "talkapp.ui.hotkey_helper"]


class GlobalHotkey(QObject):
    pressed = Signal()
    released = Signal()
    failed = Signal(str)  # the isolated listener stopped by itself: why, in words
    _seen = Signal(int, int)  # (generation, down: 1 or 0), emitted on pynput's thread
    _lost = Signal(int, str)  # (generation, why), emitted on the helper's reader thread

    def __init__(self, parent: QObject | None = None, isolated: bool | None = None) -> None:
        super().__init__(parent)
        self._seen.connect(self._on_seen, Qt.ConnectionType.QueuedConnection)
        self._lost.connect(self._on_lost, Qt.ConnectionType.QueuedConnection)
        self.isolated = ISOLATED if isolated is None else isolated
        self._listener: Any = None
        self._helper: subprocess.Popen[str] | None = None
        self._generation = 0
        self._down = False  # as the main thread knows it

    def start(self, combo: str) -> str | None:
        """Listen for `combo` anywhere; None when active, else why it is not."""
        self.stop()
        reason = platform_reason()
        if reason:
            return reason
        if self.isolated:
            return self._start_helper(combo)
        try:
            from pynput import keyboard
        except ImportError as exc:
            return _import_reason(exc)
        except Exception as exc:  # noqa: BLE001 - Xlib raises its own errors for a broken display
            return f"The global hotkey is unavailable: the keyboard could not be watched ({exc})."
        try:
            wanted = parse(combo, keyboard)
        except ValueError as exc:
            return str(exc)
        self._generation += 1
        watcher = _Watcher(wanted, self._generation, self._seen.emit)
        listener = keyboard.Listener(on_press=watcher.press, on_release=watcher.release)
        watcher.canonical = listener.canonical
        return self._run(listener)

    def stop(self) -> None:
        """Stop listening; a combination still held counts as released."""
        listener, self._listener = self._listener, None
        helper, self._helper = self._helper, None
        self._generation += 1
        if helper is not None:
            _end_helper(helper)
        if listener is not None:
            listener.stop()
            _unblock_x11(listener)
            listener.join(
                1.0
            )  # its X connections close within a few ms; do not leave them half-open
        if self._down:
            self._down = False
            self.released.emit()

    @property
    def active(self) -> bool:
        return self._listener is not None or self._helper is not None

    def _start_helper(self, combo: str) -> str | None:
        try:
            helper = subprocess.Popen(
                [*helper_command(), combo],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            return f"The global hotkey is unavailable: its helper did not start ({exc})."
        self._generation += 1
        first: queue.Queue[str] = queue.Queue()
        assert helper.stdout is not None
        threading.Thread(
            target=self._read_helper,
            args=(helper, helper.stdout, self._generation, first),
            name="hotkey-helper-reader",
            daemon=True,
        ).start()
        try:
            line = first.get(timeout=HELPER_READY_TIMEOUT_S)
        except queue.Empty:
            line = "error The global hotkey is unavailable: the keyboard listener did not start."
        if line != "ready":
            self._generation += 1  # whatever it still says is not ours
            _end_helper(helper)
            return line.removeprefix("error ").strip() or (
                "The global hotkey is unavailable: the keyboard listener did not start."
            )
        self._helper = helper
        return None

    def _read_helper(
        self, helper: subprocess.Popen[str], lines: IO[str], generation: int, first: queue.Queue
    ) -> None:
        """On its own thread: the helper's lines, until it ends."""
        ready = False
        try:
            for raw in lines:
                line = raw.strip()
                if not ready:
                    first.put(line)
                    ready = line == "ready"
                    if not ready:
                        return
                elif line in ("down", "up"):
                    self._seen.emit(generation, int(line == "down"))
        except (OSError, ValueError):  # the pipe broke: the same as the helper ending
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                lines.close()
        if not ready:
            first.put("")
            return
        code = helper.wait()
        self._lost.emit(
            generation,
            "The global hotkey stopped: its keyboard listener quit unexpectedly "
            f"(exit status {code}). TalkApp keeps running; use the key in the window, or turn "
            "the hotkey off and on in Settings → Hotkeys.",
        )

    @Slot(int, str)
    def _on_lost(self, generation: int, why: str) -> None:
        if generation != self._generation:
            return  # stopped on purpose since
        self._helper = None
        if self._down:
            self._down = False
            self.released.emit()
        self.failed.emit(why)

    def _run(self, listener: Any) -> str | None:
        ready = threading.Event()
        try:
            listener.start()
        except Exception as exc:  # noqa: BLE001 - any platform failure means "unavailable"
            return f"The global hotkey is unavailable: the keyboard could not be watched ({exc})."

        # `wait()` never returns when the listener thread fails before it is ready, so it runs
        # on a helper thread; we wait for that while the listener lives, within a limit.
        def wait_until_ready() -> None:
            listener.wait()
            ready.set()

        threading.Thread(target=wait_until_ready, daemon=True).start()
        waited = 0.0
        while not ready.wait(0.005) and listener.is_alive() and waited < READY_TIMEOUT_S:
            waited += 0.005
        if ready.is_set() and not getattr(listener, "IS_TRUSTED", True):
            listener.stop()  # macOS: the event tap is refused without the permission
            return MACOS_PERMISSION
        if not ready.is_set() or not listener.is_alive():
            listener.stop()
            return "The global hotkey is unavailable: the keyboard listener did not start."
        self._listener = listener
        return None

    @Slot(int, int)
    def _on_seen(self, generation: int, down: int) -> None:
        down = bool(down)
        if generation != self._generation or down == self._down:
            return
        self._down = down
        (self.pressed if down else self.released).emit()


def _end_helper(helper: subprocess.Popen[str]) -> None:
    """Closing its stdin ends the helper at once; one that does not go is killed."""
    with contextlib.suppress(OSError, ValueError):
        if helper.stdin is not None:
            helper.stdin.close()
    try:
        helper.wait(2.0)
    except subprocess.TimeoutExpired:
        helper.kill()
        helper.wait(2.0)


def _unblock_x11(listener: Any) -> None:
    """Make pynput's X11 listener really stop. Its `stop()` sends "disable recording" on the
    connection its own thread is blocked reading from, where the request sits unsent until the
    next key event; the listener thread (and its two X connections) then outlives `stop()` --
    by forever, if no key is pressed again (measured: still alive 3 s after `stop()`). The X
    RECORD extension expects that request on another connection, so we send it on a fresh one.
    (pynput's private `_context`; without it, there is nothing to do.)"""
    context = getattr(listener, "_context", None)
    if context is None or not sys.platform.startswith("linux"):
        return
    # The server or the context may already be gone: then there is nothing left to stop.
    with contextlib.suppress(Exception):
        import Xlib.display

        display = Xlib.display.Display()
        try:
            display.record_disable_context(context)
            display.flush()
        finally:
            display.close()
