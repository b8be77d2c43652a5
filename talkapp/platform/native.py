"""The system libraries, loaded on first use with the prototypes TalkApp calls them with.
Only ever called on the platform they belong to (the callers check `sys.platform` first)."""

from __future__ import annotations

import ctypes
import functools
from typing import Any


@functools.cache
def winmm() -> Any:
    lib = ctypes.WinDLL("winmm")  # type: ignore[attr-defined,unused-ignore]
    for name in ("timeBeginPeriod", "timeEndPeriod"):
        getattr(lib, name).argtypes = [ctypes.c_uint]
        getattr(lib, name).restype = ctypes.c_uint
    return lib


@functools.cache
def avrt() -> Any:
    lib = ctypes.WinDLL("avrt")  # type: ignore[attr-defined,unused-ignore]
    lib.AvSetMmThreadCharacteristicsW.argtypes = [
        ctypes.c_wchar_p,
        ctypes.POINTER(ctypes.c_ulong),
    ]
    lib.AvSetMmThreadCharacteristicsW.restype = ctypes.c_void_p
    lib.AvRevertMmThreadCharacteristics.argtypes = [ctypes.c_void_p]
    lib.AvRevertMmThreadCharacteristics.restype = ctypes.c_int
    return lib


@functools.cache
def libsystem() -> Any:
    lib = ctypes.CDLL("/usr/lib/libSystem.B.dylib")
    lib.pthread_set_qos_class_self_np.argtypes = [ctypes.c_uint, ctypes.c_int]
    lib.pthread_set_qos_class_self_np.restype = ctypes.c_int
    return lib


@functools.cache
def coreaudio() -> Any:
    from talkapp.platform.default_output import LISTENER_PROC, AudioObjectPropertyAddress

    lib = ctypes.CDLL("/System/Library/Frameworks/CoreAudio.framework/CoreAudio")
    for name in ("AudioObjectAddPropertyListener", "AudioObjectRemovePropertyListener"):
        getattr(lib, name).argtypes = [
            ctypes.c_uint32,
            ctypes.POINTER(AudioObjectPropertyAddress),
            LISTENER_PROC,
            ctypes.c_void_p,
        ]
        getattr(lib, name).restype = ctypes.c_int32
    return lib


@functools.cache
def av_media_type_audio() -> int:
    """AVFoundation's `AVMediaTypeAudio` (an NSString constant). Loading the framework also
    registers its classes (AVCaptureDevice) with the Objective-C runtime."""
    lib = ctypes.CDLL("/System/Library/Frameworks/AVFoundation.framework/AVFoundation")
    return int(ctypes.c_void_p.in_dll(lib, "AVMediaTypeAudio").value or 0)


class ObjC:
    """The few Objective-C runtime calls App Nap and the microphone authorization need.
    `objc_msgSend` must be called through a prototype of the exact method's types (arm64
    passes variadic arguments differently)."""

    def __init__(self) -> None:
        self._lib = ctypes.CDLL("/usr/lib/libobjc.A.dylib")
        self._lib.objc_getClass.argtypes = [ctypes.c_char_p]
        self._lib.objc_getClass.restype = ctypes.c_void_p
        self._lib.sel_registerName.argtypes = [ctypes.c_char_p]
        self._lib.sel_registerName.restype = ctypes.c_void_p
        self._send = int(ctypes.cast(self._lib.objc_msgSend, ctypes.c_void_p).value or 0)

    def cls(self, name: str) -> int:
        return int(self._lib.objc_getClass(name.encode()) or 0)

    def send(self, receiver: int, selector: str, *args: tuple[Any, Any]) -> int:
        """`[receiver selector args…]`; each argument is (ctypes type, value)."""
        types = [ctypes.c_void_p, ctypes.c_void_p, *(t for t, _ in args)]
        call = ctypes.CFUNCTYPE(ctypes.c_void_p, *types)(self._send)
        sel = self._lib.sel_registerName(selector.encode())
        return int(call(receiver, sel, *(v for _, v in args)) or 0)


@functools.cache
def objc() -> ObjC:
    return ObjC()
