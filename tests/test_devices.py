"""Device listing, lookup by name across rescans, and a missing PortAudio.

The `pulse` tests run against the private PulseAudio daemon of tests/audio_server.py; the
others need no audio at all.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
import types

import pytest

from talkapp.audio import devices
from talkapp.audio.devices import DeviceInfo, DeviceKey


def _info(name: str, index: int, ins: int = 2, outs: int = 2, **flags: bool) -> DeviceInfo:
    return DeviceInfo(name, "ALSA", index, ins, outs, 48000.0,
                      flags.get("default_in", False), flags.get("default_out", False))  # fmt: skip


def test_listing_shows_the_pulse_devices_with_their_host_api(pulse):
    found = {d.name: d for d in devices.list_devices()}
    for name in ("talkapp_mic", "talkapp_speaker", "talkapp_hw48", "default"):
        assert found[name].hostapi == "ALSA"
        assert found[name].max_input_channels > 0 and found[name].max_output_channels > 0
    assert devices.default_device("input").name == "default"
    assert devices.default_device("output").name == "default"
    table = devices.device_table()
    assert table[0].split() == ["#", "in", "out", "rate", "host", "API", "name"]
    mic_row = next(line for line in table if line.endswith("talkapp_mic"))
    assert mic_row.split()[:5] == [str(found["talkapp_mic"].index), "32", "32", "44100", "ALSA"]
    assert any(line.startswith("*") and line.endswith("default") for line in table)


def test_a_device_key_finds_the_device_after_a_rescan_shifts_the_indices(pulse):
    key = DeviceKey("talkapp_mic48", "ALSA")
    before = devices.find(key, "input")
    assert before is not None
    asoundrc = pulse.dir / "home" / ".asoundrc"
    original = asoundrc.read_text()
    # "Plug in" a device that PortAudio lists ahead of ours (ALSA keeps file order).
    asoundrc.write_text("pcm.talkapp_aaa_headset { type pulse device speaker }\n" + original)
    try:
        assert devices.find(DeviceKey("talkapp_aaa_headset", "ALSA"), "output") is None
        devices.rescan()
        after = devices.find(key, "input")
        assert after == before + 1  # the index moved; the key still finds it
        assert devices.device_info(after).name == "talkapp_mic48"
        assert devices.find(DeviceKey("talkapp_aaa_headset", "ALSA"), "output") is not None
    finally:
        asoundrc.write_text(original)
        devices.rescan()
    assert devices.find(DeviceKey("talkapp_aaa_headset", "ALSA"), "output") is None
    assert devices.find(key, "input") == before
    assert devices.find(DeviceKey("talkapp_mic48", "OSS"), "input") is None  # host API counts


def test_rescan_refuses_while_a_stream_is_open(pulse):
    index = devices.find(DeviceKey("talkapp_speaker", "ALSA"), "output")
    stream = devices.open_stream("output", device=index, samplerate=24000, channels=1,
                                 blocksize=240, callback=lambda *a: None,
                                 finished_callback=lambda: None)  # fmt: skip
    try:
        with pytest.raises(devices.DevicesBusy, match="1 stream"):
            devices.rescan()
    finally:
        devices.close_stream(stream)
    devices.rescan()


def test_find_prefers_the_exact_name_then_survives_alsa_card_renumbering():
    listed = [_info("USB Audio: - (hw:3,0)", 4), _info("HDA Intel: ALC (hw:0,0)", 5, ins=0)]
    assert devices.find(DeviceKey("USB Audio: - (hw:2,0)", "ALSA"), "input", listed) == 4
    assert devices.find(DeviceKey("HDA Intel: ALC (hw:0,0)", "ALSA"), "input", listed) is None
    assert devices.find(DeviceKey("HDA Intel: ALC (hw:0,0)", "ALSA"), "output", listed) == 5
    assert devices.find(DeviceKey("USB Audio", "ALSA"), "input", listed) is None


def test_one_resolver_answers_for_the_default_a_remembered_key_and_a_typed_name():
    listed = [
        _info("USB Audio: - (hw:3,0)", 4, default_in=True),
        _info("HDA Intel: ALC (hw:0,0)", 5, ins=0),
        _info("USB Audio 2", 6, outs=0, default_out=True),
    ]
    assert devices.resolve(None, "input", listed).index == 4
    with pytest.raises(devices.NoSuchDevice, match=r"^There is no system default speaker\.$"):
        devices.resolve(None, "output", listed)  # the default output cannot play
    renumbered = DeviceKey("USB Audio: - (hw:2,0)", "ALSA")
    assert devices.resolve(renumbered, "input", listed).index == 4
    with pytest.raises(devices.NoSuchDevice, match=r"^The microphone 'Headset' is not connected"):
        devices.resolve(DeviceKey("Headset", "ALSA"), "input", listed)
    assert devices.resolve("hda", "output", listed).index == 5  # part of one name, any case
    assert devices.resolve("USB Audio 2", "input", listed).index == 6  # exact wins over partial
    with pytest.raises(devices.NoSuchDevice) as several:
        devices.resolve("usb", "input", listed)
    assert str(several.value) == (
        "'usb' matches several input device; choose one of: 'USB Audio: - (hw:3,0)', 'USB Audio 2'"
    )
    with pytest.raises(devices.NoSuchDevice, match=r"^'hda' matches no input device; choose one"):
        devices.resolve("hda", "input", listed)


def test_table_marks_the_defaults():
    lines = devices.device_table([_info("pulse", 0), _info("default", 1, default_in=True,
                                                           default_out=True)])  # fmt: skip
    assert lines[1].split() == ["0", "2", "2", "48000", "ALSA", "pulse"]
    assert lines[2].split() == ["*", "1", "2", "2", "48000", "ALSA", "default"]
    assert devices.device_table([]) == ["No audio devices found (is a sound server running?)"]


def test_portaudio_errors_read_as_plain_words():
    error = OSError(
        "Error opening OutputStream: Unanticipated host error [PaErrorCode -9999]: "
        "'Input/output error' [ALSA error -5]"
    )
    assert devices.describe_error(error) == "Unanticipated host error: 'Input/output error'"


class _NoPortAudio(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")  # what sounddevice raises without it


def test_a_missing_portaudio_becomes_audio_unavailable_with_what_to_install(monkeypatch):
    monkeypatch.setattr(devices, "_sounddevice", None)
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    with pytest.raises(devices.AudioUnavailable, match="libportaudio2") as caught:
        devices.list_devices()
    assert "PortAudio library not found" in str(caught.value)


class _NeverStarts:
    """Stands in for a stream that PortAudio never comes back from starting (the 19.6 ALSA
    hang `start_stream` guards against); real audio cannot be made to hang on purpose."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def start(self) -> None:
        self.release.wait(10)


def test_a_start_that_never_returns_is_abandoned_and_rescans_stop(monkeypatch):
    portaudio = types.SimpleNamespace(_initialized=1)  # sounddevice's init count, nothing else
    monkeypatch.setattr(devices, "sounddevice", lambda: portaudio)
    monkeypatch.setattr(devices, "_stuck_streams", [])
    stream = _NeverStarts()
    try:
        with pytest.raises(devices.StartTimeout, match="did not start within 0.2 s"):
            devices.start_stream(stream, timeout=0.2)
        assert devices._stuck_streams == [stream]
        assert devices.rescan() is False  # Pa_Terminate would abort on its locked mutex
        assert portaudio._initialized == 0  # and so would sounddevice's exit handler
    finally:
        stream.release.set()


class _Starts:
    """A stream whose start returns at once, noting the thread it ran on."""

    def __init__(self) -> None:
        self.thread: int | None = None

    def start(self) -> None:
        self.thread = threading.get_ident()


def test_starts_share_one_thread_and_a_stuck_one_gets_replaced(monkeypatch):
    """The output on demand starts once per reply: one thread kept for it, not a new one each
    time; a start that never returns leaves its thread behind, and the next start gets another."""
    portaudio = types.SimpleNamespace(_initialized=1)
    monkeypatch.setattr(devices, "sounddevice", lambda: portaudio)
    monkeypatch.setattr(devices, "_stuck_streams", [])
    monkeypatch.setattr(devices, "_worker", None)
    first, second = _Starts(), _Starts()
    devices.start_stream(first)
    devices.start_stream(second)
    assert first.thread is not None and first.thread == second.thread != threading.get_ident()

    stuck = _NeverStarts()
    try:
        with pytest.raises(devices.StartTimeout):
            devices.start_stream(stuck, timeout=0.2)
        after = _Starts()
        devices.start_stream(after)
        assert after.thread is not None and after.thread != first.thread  # a fresh thread
    finally:
        stuck.release.set()


class _NeverCloses:
    """Stands in for a stream whose close PortAudio does not come back from; real audio
    cannot be made to hang on purpose."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.active = False

    def stop(self, ignore_errors: bool = True) -> None:
        pass

    def close(self, ignore_errors: bool = True) -> None:
        self.release.wait(10)


def test_a_close_that_does_not_return_is_left_behind_and_the_caller_goes_on(monkeypatch):
    portaudio = types.SimpleNamespace(_initialized=1)
    monkeypatch.setattr(devices, "sounddevice", lambda: portaudio)
    monkeypatch.setattr(devices, "_stuck_streams", [])
    monkeypatch.setattr(devices, "_worker", None)
    stream = _NeverCloses()
    devices._open_streams.add(stream)
    try:
        devices.close_stream(stream, timeout=0.2)  # returns: the disconnect and quit go on
        assert stream not in devices._open_streams and devices._stuck_streams == [stream]
        assert devices.rescan() is False  # PortAudio is still inside that close
        assert portaudio._initialized == 0
    finally:
        stream.release.set()
