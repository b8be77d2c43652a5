"""How this system tells an app that the default output device changed (AirPods connected
mid-session), so a session on "System default" can move its output there.

- macOS: Core Audio calls a listener on `kAudioHardwarePropertyDefaultOutputDevice` of the
  system object (`AudioObjectAddPropertyListener`, via ctypes), on its own notification
  thread: free while nothing changes. `DefaultOutputListener` only raises a flag there; the
  engine reads it at its next quiet moment.
- Windows: PortAudio sees a new default only after a re-scan and nothing cheap tells us
  (IMMNotificationClient is a COM callback interface): the engine checks at its quiet moments.
- Linux: the stream is opened on the sound server's default ("default" / "pulse"), and the
  server (PulseAudio 15+, PipeWire) moves it to a new default by itself: nothing to do.
"""

from __future__ import annotations

import ctypes
import sys
from enum import Enum
from typing import Any

from talkapp.platform import native


class Follow(Enum):
    NOTIFIED = "notified"  # the system says when it changed (macOS)
    POLLED = "polled"  # look at quiet moments (Windows)
    BY_SERVER = "by_server"  # the sound server moves the stream itself (Linux)


def follow_mode(platform: str | None = None) -> Follow:
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return Follow.NOTIFIED
    if platform == "win32":
        return Follow.POLLED
    return Follow.BY_SERVER


K_AUDIO_OBJECT_SYSTEM_OBJECT = 1
# kAudioHardwarePropertyDefaultOutputDevice
K_DEFAULT_OUTPUT_DEVICE = int.from_bytes(b"dOut", "big")
K_SCOPE_GLOBAL = int.from_bytes(b"glob", "big")  # kAudioObjectPropertyScopeGlobal
K_ELEMENT_MAIN = 0  # kAudioObjectPropertyElementMain


class AudioObjectPropertyAddress(ctypes.Structure):
    _fields_ = [
        ("mSelector", ctypes.c_uint32),
        ("mScope", ctypes.c_uint32),
        ("mElement", ctypes.c_uint32),
    ]


# OSStatus (*)(AudioObjectID, UInt32, const AudioObjectPropertyAddress*, void*)
LISTENER_PROC = ctypes.CFUNCTYPE(
    ctypes.c_int32,
    ctypes.c_uint32,
    ctypes.c_uint32,
    ctypes.POINTER(AudioObjectPropertyAddress),
    ctypes.c_void_p,
)


def default_output_address() -> AudioObjectPropertyAddress:
    return AudioObjectPropertyAddress(K_DEFAULT_OUTPUT_DEVICE, K_SCOPE_GLOBAL, K_ELEMENT_MAIN)


class DefaultOutputListener:
    """On macOS, `changed` turns True when the default output device changes, between
    `start()` and `stop()` (both idempotent); elsewhere `start()` does nothing and says so
    (False). `take()` reads and clears the flag."""

    def __init__(self, platform: str | None = None, coreaudio: Any = None) -> None:
        self.platform = sys.platform if platform is None else platform
        self._coreaudio = coreaudio
        self._proc: Any = None  # the ctypes callback: kept alive while Core Audio holds it
        self._address = default_output_address()
        self.changed = False

    @property
    def listening(self) -> bool:
        return self._proc is not None

    def start(self) -> bool:
        if self._proc is not None or self.platform != "darwin":
            return self.listening
        lib = self._coreaudio or native.coreaudio()
        proc = LISTENER_PROC(self._on_change)
        status = lib.AudioObjectAddPropertyListener(
            K_AUDIO_OBJECT_SYSTEM_OBJECT, ctypes.byref(self._address), proc, None
        )
        if status == 0:
            self._proc = proc
        return self.listening

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            lib = self._coreaudio or native.coreaudio()
            lib.AudioObjectRemovePropertyListener(
                K_AUDIO_OBJECT_SYSTEM_OBJECT, ctypes.byref(self._address), proc, None
            )

    def take(self) -> bool:
        changed, self.changed = self.changed, False
        return changed

    def _on_change(self, _object: int, _count: int, _addresses: Any, _data: Any) -> int:
        self.changed = True  # Core Audio's thread: a flag, nothing else
        return 0
