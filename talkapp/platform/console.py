"""The console of the command that started a windowed Windows exe. `TalkApp.exe` is built
without a console (no black window behind the app), so `TalkApp.exe devices` typed in a
terminal would print nothing: its stdout is None. Attaching to the parent's console gives the
command-line tools their output back (`talkapp-cli.exe` is the console build for scripts: a
shell waits for it and pipes its output, which it cannot do for a windowed exe)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any, TextIO

ATTACH_PARENT_PROCESS = -1


def attach_parent_console(
    platform: str | None = None,
    stdout: TextIO | None = None,
    kernel32: Any = None,
    opener: Callable[..., TextIO] = open,
) -> TextIO | None:
    """A stream onto the parent's console when this process is a windowed Windows exe without
    one (`stdout` None) and was started from a console; else None (keep what there is)."""
    platform = sys.platform if platform is None else platform
    if platform != "win32" or stdout is not None:
        return None
    with contextlib.suppress(Exception):  # no console to attach to: stay silent, as before
        if kernel32 is None:
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
        if kernel32.AttachConsole(ATTACH_PARENT_PROCESS):
            return opener("CONOUT$", "w", encoding="utf-8", errors="replace")
    return None
