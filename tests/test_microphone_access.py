"""macOS's microphone authorization (`talkapp.platform.microphone`), read through the
Objective-C runtime. macOS does not run here, so the runtime is a recording fake standing in
for `native.ObjC` (as in tests/test_platform.py): the test checks that the right class gets the
right message with AVMediaTypeAudio, and that each AVAuthorizationStatus reads as its name."""

import ctypes

import pytest

from talkapp.platform import microphone

AV_MEDIA_TYPE_AUDIO = 0x5A5A0  # stands for the NSString pointer AVFoundation exports
AV_CAPTURE_DEVICE = 0xC1A55


class FakeObjC:
    """`cls` and `send` as `native.ObjC` has them; answers the status it was given."""

    def __init__(self, status: int, classes: dict[str, int] | None = None) -> None:
        self.status = status
        self.classes = {"AVCaptureDevice": AV_CAPTURE_DEVICE} if classes is None else classes
        self.sent: list[tuple] = []

    def cls(self, name: str) -> int:
        return self.classes.get(name, 0)

    def send(self, receiver: int, selector: str, *args: tuple) -> int:
        self.sent.append((receiver, selector, *args))
        return self.status


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (0, microphone.NOT_DETERMINED),
        (1, microphone.RESTRICTED),
        (2, microphone.DENIED),
        (3, microphone.GRANTED),
        (7, microphone.UNKNOWN),  # a status a later macOS might add
    ],
)
def test_macos_authorization_status_is_read_from_avfoundation(status, name):
    objc = FakeObjC(status)
    assert microphone.authorization("darwin", objc, AV_MEDIA_TYPE_AUDIO) == name
    assert objc.sent == [
        (
            AV_CAPTURE_DEVICE,
            "authorizationStatusForMediaType:",
            (ctypes.c_void_p, AV_MEDIA_TYPE_AUDIO),
        )
    ]


def test_without_avfoundation_the_status_is_unknown_and_nothing_is_sent():
    objc = FakeObjC(2, classes={})  # AVCaptureDevice not registered: the framework not loaded
    assert microphone.authorization("darwin", objc, AV_MEDIA_TYPE_AUDIO) == microphone.UNKNOWN
    assert objc.sent == []


class Untouchable:
    def __getattr__(self, name: str):
        raise AssertionError(f"{name} called on the wrong platform")


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_other_systems_are_granted_without_asking(platform):
    assert microphone.authorization(platform, Untouchable(), 1) == microphone.GRANTED


def test_only_denied_and_restricted_keep_the_microphone_closed():
    assert set(microphone.REFUSED) == {microphone.DENIED, microphone.RESTRICTED}
    # not_determined opens: macOS asks the user then, on their press; unknown opens too (the
    # silent-microphone banner still catches a refusal)
    assert microphone.NOT_DETERMINED not in microphone.REFUSED
    assert microphone.UNKNOWN not in microphone.REFUSED


def test_each_system_gets_its_own_advice_and_page():
    assert "System Settings" in microphone.silent_text("darwin")
    assert "desktop apps" in microphone.silent_text("win32")
    assert "muted" in microphone.silent_text("linux")
    assert microphone.privacy_settings_url("linux") is None
    assert microphone.privacy_settings_url("win32") == "ms-settings:privacy-microphone"
    assert "macOS denied" in microphone.refused_text(microphone.DENIED)
    assert "restrict" in microphone.refused_text(microphone.RESTRICTED)
