"""When a session re-scans its audio devices (`RescanPolicy`), and the macOS listener that says
the default output changed (`DefaultOutputListener`).

macOS does not run here, so Core Audio is a recording fake standing in for the ctypes library
(as in tests/test_platform.py): the test checks the listener is added on the system object for
the default output device, that Core Audio calling it raises the flag, and that it is removed
with the same callback."""

import ctypes

import pytest

from talkapp.audio.devices import DeviceInfo
from talkapp.platform import default_output
from talkapp.platform.default_output import DefaultOutputListener, Follow, follow_mode
from talkapp.session.device_watch import Rescan, RescanPolicy, moved_to_new_default

QUIET = {"quiet": True, "mic_open": False, "playing": False}


def test_each_system_follows_the_default_its_own_way():
    assert follow_mode("darwin") is Follow.NOTIFIED
    assert follow_mode("win32") is Follow.POLLED
    assert follow_mode("linux") is Follow.BY_SERVER


def test_nothing_is_rescanned_without_a_reason():
    for follow in Follow:
        policy = RescanPolicy(follow)
        assert policy.due(0.0, **QUIET) is None  # the streams just opened on the default


@pytest.mark.parametrize("follow", list(Follow))
def test_a_refresh_waits_for_a_quiet_moment_and_is_done_once(follow):
    policy = RescanPolicy(follow, following=False)
    policy.ask()
    assert policy.due(1.0, quiet=False, mic_open=True, playing=False) is None  # user talking
    assert policy.due(1.1, quiet=True, mic_open=True, playing=True) is None  # a reply plays
    # hands-free between turns: the microphone closes for the moment it takes
    assert policy.due(1.2, quiet=True, mic_open=True, playing=False) is Rescan.ASKED
    policy.done(1.3)
    assert policy.due(1.4, **QUIET) is None


def test_macos_moves_at_the_first_quiet_moment_after_it_said_the_default_changed():
    policy = RescanPolicy(Follow.NOTIFIED)
    policy.default_changed()
    assert policy.due(1.0, quiet=True, mic_open=False, playing=True) is None
    assert policy.due(1.1, quiet=True, mic_open=True, playing=False) is Rescan.DEFAULT_CHANGED
    policy.done(1.2)
    assert policy.due(1.3, **QUIET) is None
    for _ in range(3):  # quiet stretches come and go: no look without a notification
        assert policy.due(10.0, quiet=False, mic_open=True, playing=False) is None
        assert policy.due(20.0, **QUIET) is None


def test_a_chosen_output_device_is_not_moved_to_a_new_default():
    policy = RescanPolicy(Follow.NOTIFIED, following=False)
    policy.default_changed()
    assert policy.due(1.0, **QUIET) is None
    polled = RescanPolicy(Follow.POLLED, following=False)
    polled.due(1.0, quiet=False, mic_open=True, playing=False)
    assert polled.due(10.0, **QUIET) is None


def test_windows_looks_once_per_quiet_stretch_with_the_microphone_closed():
    policy = RescanPolicy(Follow.POLLED, min_interval_s=5.0)
    assert policy.due(0.0, **QUIET) is None  # the session's first stretch: just opened
    policy.due(1.0, quiet=False, mic_open=True, playing=False)  # a turn
    # its reply, then the microphone lingers: nothing while it is open
    assert policy.due(2.0, quiet=True, mic_open=True, playing=False) is None
    assert policy.due(6.0, **QUIET) is Rescan.LOOK_FOR_DEFAULT  # closed: one look
    policy.done(6.0)
    assert policy.due(7.0, **QUIET) is None  # the rest of this waiting costs nothing
    assert policy.due(600.0, **QUIET) is None


def test_windows_looks_at_most_every_interval():
    policy = RescanPolicy(Follow.POLLED, min_interval_s=5.0)
    policy.due(0.0, quiet=False, mic_open=True, playing=False)
    assert policy.due(1.0, **QUIET) is Rescan.LOOK_FOR_DEFAULT
    policy.done(1.0)
    policy.due(2.0, quiet=True, mic_open=False, playing=True)  # a short reply
    assert policy.due(3.0, **QUIET) is None  # too soon after the last look ...
    assert policy.due(6.0, **QUIET) is Rescan.LOOK_FOR_DEFAULT  # ... but this stretch gets one


def test_linux_leaves_following_the_default_to_the_sound_server():
    policy = RescanPolicy(Follow.BY_SERVER)
    policy.default_changed()
    policy.due(0.0, quiet=False, mic_open=True, playing=False)
    assert policy.due(100.0, **QUIET) is None


class FakeCoreAudio:
    """`AudioObjectAddPropertyListener` / `…Remove…` as ctypes would call them: records the
    object, the property address and the callback, and returns `status`."""

    def __init__(self, status: int = 0) -> None:
        self.status = status
        self.calls: list[tuple] = []

    def _record(self, name, object_id, address, proc, data):
        address = ctypes.cast(address, ctypes.POINTER(default_output.AudioObjectPropertyAddress))
        fields = (address.contents.mSelector, address.contents.mScope, address.contents.mElement)
        self.calls.append((name, object_id, fields, proc, data))
        return self.status

    def AudioObjectAddPropertyListener(self, *args):
        return self._record("add", *args)

    def AudioObjectRemovePropertyListener(self, *args):
        return self._record("remove", *args)


DEFAULT_OUTPUT = (0x644F7574, 0x676C6F62, 0)  # 'dOut', 'glob', main element


def test_macos_listens_for_the_default_output_and_raises_a_flag_when_it_changes():
    coreaudio = FakeCoreAudio()
    listener = DefaultOutputListener("darwin", coreaudio)
    assert listener.start() and listener.start()  # idempotent
    [(name, system_object, address, proc, _data)] = coreaudio.calls
    assert (name, system_object, address) == ("add", 1, DEFAULT_OUTPUT)
    assert listener.take() is False
    assert proc(1, 1, None, None) == 0  # Core Audio calls it (on its own thread)
    assert listener.take() is True and listener.take() is False
    listener.stop()
    listener.stop()
    assert [c[0] for c in coreaudio.calls] == ["add", "remove"]
    assert coreaudio.calls[1][3] is proc  # removed with the very callback it added


def test_a_refused_listener_is_not_kept_nor_removed():
    coreaudio = FakeCoreAudio(status=-50)  # kAudio_ParamError
    listener = DefaultOutputListener("darwin", coreaudio)
    assert listener.start() is False
    listener.stop()
    assert [c[0] for c in coreaudio.calls] == ["add"]


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_other_systems_do_not_listen(platform):
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"{name} called on {platform}")

    listener = DefaultOutputListener(platform, Untouchable())
    assert listener.start() is False
    listener.stop()


def core_audio_device(name: str, index: int) -> DeviceInfo:
    return DeviceInfo(name, "Core Audio", index, 0, 2, 48_000.0, False, True)


def test_a_move_to_a_new_default_is_told_with_its_name_and_nothing_else_is():
    speakers = core_audio_device("MacBook Pro Speakers", 1)
    airpods = core_audio_device("AirPods Pro", 3)
    assert moved_to_new_default(speakers, airpods, True) == (
        "Playing on 'AirPods Pro', the new system default."
    )
    same_after_rescan = core_audio_device("MacBook Pro Speakers", 2)  # another index
    assert moved_to_new_default(speakers, same_after_rescan, True) is None
    assert moved_to_new_default(speakers, airpods, False) is None  # a chosen device
    assert moved_to_new_default(None, airpods, True) is None  # nothing played before
    assert moved_to_new_default(speakers, None, True) is None  # nothing could be opened
