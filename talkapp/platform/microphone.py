"""The microphone and the operating system: may TalkApp use it, where the user allows it, and
what to say when it gives only silence.

macOS asks the user once whether an app may use the microphone; an app it refused (or that a
profile restricts) gets silence, not an error. `authorization()` reads that answer through
AVFoundation (`[AVCaptureDevice authorizationStatusForMediaType:AVMediaTypeAudio]`, via the
Objective-C runtime), so TalkApp can say so instead of sending silence. It never asks: macOS
asks by itself when the microphone first opens, which TalkApp does only on a user action (a
press, hands-free switched on). Other systems have no such answer to read: "granted".
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from talkapp.platform import native

GRANTED, DENIED, RESTRICTED = "granted", "denied", "restricted"
NOT_DETERMINED, UNKNOWN = "not_determined", "unknown"
REFUSED = (DENIED, RESTRICTED)  # the microphone stays closed: it would only give silence

# AVAuthorizationStatus
_AV_STATUS = {0: NOT_DETERMINED, 1: RESTRICTED, 2: DENIED, 3: GRANTED}

PRIVACY_SETTINGS_URL = {
    "darwin": "x-apple.systempreferences:com.apple.preference.security?Privacy_Microphone",
    "win32": "ms-settings:privacy-microphone",
}


def authorization(platform: str | None = None, objc: Any = None, media_type: int = 0) -> str:
    """This app's microphone authorization: granted, denied, restricted, not_determined, or
    unknown (AVFoundation could not be asked); "granted" on systems other than macOS.
    `objc` and `media_type` (the `AVMediaTypeAudio` string) default to this system's."""
    platform = sys.platform if platform is None else platform
    if platform != "darwin":
        return GRANTED
    try:
        runtime = objc or native.objc()
        media = media_type or native.av_media_type_audio()
        device_class = runtime.cls("AVCaptureDevice")
        if not media or not device_class:
            return UNKNOWN
        status = runtime.send(
            device_class, "authorizationStatusForMediaType:", (ctypes.c_void_p, media)
        )
    except (OSError, AttributeError, ValueError):  # no AVFoundation, or not this symbol
        return UNKNOWN
    return _AV_STATUS.get(status, UNKNOWN)


def privacy_settings_url(platform: str | None = None) -> str | None:
    """The system settings page where the user lets apps use the microphone; None on systems
    without one (Linux: the sound settings differ by desktop)."""
    return PRIVACY_SETTINGS_URL.get(sys.platform if platform is None else platform)


def refused_text(status: str) -> str:
    """Why the microphone stays closed when macOS refused it (`REFUSED`)."""
    if status == RESTRICTED:
        return (
            "macOS does not let TalkApp use the microphone (a profile or parental controls "
            "restrict it), so TalkApp does not listen; ask whoever manages this Mac."
        )
    return (
        "macOS denied TalkApp the microphone, so TalkApp does not listen. Allow TalkApp in "
        "System Settings → Privacy & Security → Microphone, then reopen TalkApp."
    )


def silent_text(platform: str | None = None) -> str:
    """What to do about a microphone that gives only exact silence (`audio.silence`)."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return (
            "The microphone gives only silence: macOS may have denied TalkApp the microphone, "
            "or it is muted. Allow TalkApp in System Settings → Privacy & Security → "
            "Microphone (then reopen TalkApp), or unmute the microphone."
        )
    if platform == "win32":
        return (
            "The microphone gives only silence: Windows may block it for desktop apps, or it "
            "is muted. Turn on “Let desktop apps access your microphone” in Settings → "
            "Privacy & security → Microphone, or unmute the microphone."
        )
    return (
        "The microphone gives only silence: it is probably muted (a mute switch or key, or "
        "the system's sound settings). Unmute it, or pick another microphone."
    )


SOUND_BACK_TEXT = "The microphone hears sound again."
