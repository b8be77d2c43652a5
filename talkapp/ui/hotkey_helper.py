"""The global hotkey's keyboard listener in a process of its own (`GlobalHotkey` on macOS and
Windows), so that it can neither take TalkApp down nor be starved by it:

- macOS kills a process whose keyboard listener asks for the keyboard layout off the main
  thread (pynput issue 511); here the listener runs *on* this process's main thread, and if it
  dies anyway only this process does: TalkApp says so and keeps running.
- Windows silently removes a low-level keyboard hook whose callback does not return within its
  timeout, which happens when the callback waits for a GIL the app's other threads hold; here
  nothing else wants the GIL.

Protocol (one line each on stdout): `ready` once listening, then `down` / `up` as the whole
combination goes down / any key of it comes up; or `error <reason in words>` and exit 1. It
exits when its stdin closes (TalkApp stopped it, or TalkApp is gone).

    python -m talkapp.ui.hotkey_helper "<ctrl>+<alt>+h"     (frozen: TalkApp --hotkey-helper …)
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stream = out or sys.stdout
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            stream.write(line + "\n")
            stream.flush()

    from talkapp.ui.hotkey_keys import MACOS_PERMISSION, _import_reason, _Watcher, parse

    try:
        from pynput import keyboard
    except ImportError as exc:
        say(f"error {_import_reason(exc)}")
        return 1
    except Exception as exc:  # noqa: BLE001 - Xlib raises its own errors for a broken display
        say(f"error The global hotkey is unavailable: the keyboard could not be watched ({exc}).")
        return 1
    try:
        wanted = parse(argv[0] if argv else "", keyboard)
    except ValueError as exc:
        say(f"error {exc}")
        return 1
    watcher = _Watcher(wanted, 0, lambda _generation, down: say("down" if down else "up"))
    listener = keyboard.Listener(on_press=watcher.press, on_release=watcher.release)
    watcher.canonical = listener.canonical

    def announce() -> None:
        listener.wait()
        if not getattr(listener, "IS_TRUSTED", True):  # macOS refused the event tap
            say(f"error {MACOS_PERMISSION}")
            os._exit(1)
        say("ready")

    def until_stdin_closes() -> None:
        if sys.stdin is None:  # a windowed exe given no stdin: TalkApp kills it instead
            return
        sys.stdin.read()
        os._exit(0)  # a listener blocked in its platform loop need not be unwound

    threading.Thread(target=announce, daemon=True).start()
    threading.Thread(target=until_stdin_closes, daemon=True).start()
    listener.run()  # on this main thread, where macOS allows the keyboard-layout calls
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
