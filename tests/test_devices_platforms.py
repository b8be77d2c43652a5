"""Host-API and device selection for Windows and macOS, from device lists shaped as PortAudio
reports them there (`sd.query_devices()` / `sd.query_hostapis()` dicts: names, host APIs,
default indices, rates). Neither system runs here, so the lists are written out; the
selection logic is the same code `devices.list_devices()` runs on them."""

from __future__ import annotations

import pytest

from talkapp.audio import devices
from talkapp.audio.devices import DeviceKey
from talkapp.audio.ring import open_ring
from talkapp.audio.streams import AudioIO

HEADSET = "Headset Microphone (WH-1000XM4 Hands-Free AG Audio)"


def _device(index: int, name: str, hostapi: int, ins: int, outs: int, rate: float) -> dict:
    return {
        "index": index,
        "name": name,
        "hostapi": hostapi,
        "max_input_channels": ins,
        "max_output_channels": outs,
        "default_samplerate": rate,
    }


# Windows 11 with a Realtek codec and a Bluetooth headset: every device once per host API; MME
# names cut at 31 characters; PortAudio's own defaults are MME's sound mappers.
WINDOWS_DEVICES = [
    _device(0, "Microsoft Sound Mapper - Input", 0, 2, 0, 44100.0),
    _device(1, HEADSET[:31], 0, 1, 0, 44100.0),
    _device(2, "Microphone (Realtek(R) Audio)", 0, 2, 0, 44100.0),
    _device(3, "Microsoft Sound Mapper - Output", 0, 0, 2, 44100.0),
    _device(4, "Speakers (Realtek(R) Audio)", 0, 0, 2, 44100.0),
    _device(5, "Primary Sound Capture Driver", 1, 2, 0, 44100.0),
    _device(6, HEADSET, 1, 1, 0, 44100.0),
    _device(7, "Primary Sound Driver", 1, 0, 2, 44100.0),
    _device(8, "Speakers (Realtek(R) Audio)", 1, 0, 2, 44100.0),
    _device(9, "Speakers (Realtek(R) Audio)", 2, 0, 2, 48000.0),
    _device(10, HEADSET, 2, 1, 0, 16000.0),
    _device(11, "Microphone (Realtek(R) Audio)", 2, 2, 0, 48000.0),
    _device(12, "Speakers (Realtek HD Audio output)", 3, 0, 2, 48000.0),
    _device(13, "Microphone (Realtek HD Audio Mic input)", 3, 2, 0, 44100.0),
]
WINDOWS_HOSTAPIS = [
    {"name": "MME", "devices": [0, 1, 2, 3, 4], "default_input_device": 0,
     "default_output_device": 3},
    {"name": "Windows DirectSound", "devices": [5, 6, 7, 8], "default_input_device": 5,
     "default_output_device": 7},
    {"name": "Windows WASAPI", "devices": [9, 10, 11], "default_input_device": 11,
     "default_output_device": 9},
    {"name": "Windows WDM-KS", "devices": [12, 13], "default_input_device": 13,
     "default_output_device": 12},
]  # fmt: skip
WINDOWS_PA_DEFAULTS = (0, 3)

# A MacBook with AirPods connected: one host API; AirPods' microphone is its own device.
MACOS_DEVICES = [
    _device(0, "MacBook Pro Microphone", 0, 1, 0, 48000.0),
    _device(1, "MacBook Pro Speakers", 0, 0, 2, 48000.0),
    _device(2, "AirPods Pro", 0, 1, 0, 24000.0),
    _device(3, "AirPods Pro", 0, 0, 2, 48000.0),
]
MACOS_HOSTAPIS = [
    {"name": "Core Audio", "devices": [0, 1, 2, 3], "default_input_device": 0,
     "default_output_device": 3},
]  # fmt: skip


def test_windows_lists_only_wasapi_with_its_own_defaults_and_mix_rates():
    listed = devices.select_devices(WINDOWS_DEVICES, WINDOWS_HOSTAPIS, WINDOWS_PA_DEFAULTS, "win32")
    assert [(d.index, d.hostapi) for d in listed] == [(9, devices.WASAPI), (10, devices.WASAPI),
                                                     (11, devices.WASAPI)]  # fmt: skip
    assert devices.resolve(None, "input", listed).name == "Microphone (Realtek(R) Audio)"
    assert devices.resolve(None, "output", listed).index == 9
    # Shared mode runs at the system mixer's rate, which PortAudio reports as the default.
    assert {d.name: d.default_samplerate for d in listed}[HEADSET] == 16000.0
    assert devices.resolve("WH-1000XM4", "input", listed).name == HEADSET  # the full name


def test_windows_falls_back_to_mme_when_wasapi_lists_nothing():
    hostapis = [dict(api) for api in WINDOWS_HOSTAPIS]
    hostapis[2]["devices"] = []  # WASAPI failed to initialise (Windows Audio service stopped)
    raw = [d for d in WINDOWS_DEVICES if d["hostapi"] != 2]
    listed = devices.select_devices(raw, hostapis, WINDOWS_PA_DEFAULTS, "win32")
    assert {d.hostapi for d in listed} == {devices.MME}
    assert devices.resolve(None, "input", listed).name == "Microsoft Sound Mapper - Input"
    assert devices.resolve(None, "output", listed).name == "Microsoft Sound Mapper - Output"


def test_a_device_remembered_under_mme_is_found_among_wasapis_full_names():
    listed = devices.select_devices(WINDOWS_DEVICES, WINDOWS_HOSTAPIS, WINDOWS_PA_DEFAULTS, "win32")
    assert devices.find(DeviceKey(HEADSET[:31], devices.MME), "input", listed) == 10
    speakers = DeviceKey("Speakers (Realtek(R) Audio)", devices.MME)
    assert devices.find(speakers, "output", listed) == 9
    assert devices.find(speakers, "input", listed) is None  # cannot record
    # A short name is a whole name, not a prefix: "Speakers" is not "Speakers (Realtek…)".
    assert devices.find(DeviceKey("Speakers", devices.MME), "output", listed) is None
    # While MME itself is listed (the fallback), a key keeps to its own host API.
    mme = devices.select_devices(WINDOWS_DEVICES[:5], WINDOWS_HOSTAPIS[:1], (0, 3), "win32")
    assert devices.find(DeviceKey(HEADSET[:31], devices.MME), "input", mme) == 1


@pytest.mark.parametrize("platform", ["darwin", "linux"])
def test_macos_and_linux_list_every_device_with_portaudios_defaults(platform):
    listed = devices.select_devices(MACOS_DEVICES, MACOS_HOSTAPIS, (0, 3), platform)
    assert [d.index for d in listed] == [0, 1, 2, 3]
    assert devices.resolve(None, "output", listed).name == "AirPods Pro"
    assert devices.resolve(None, "input", listed).name == "MacBook Pro Microphone"
    assert devices.resolve(DeviceKey("AirPods Pro", "Core Audio"), "input", listed).index == 2
    # The same Windows-shaped list off Windows: nothing is hidden, PortAudio's defaults hold.
    everything = devices.select_devices(
        WINDOWS_DEVICES, WINDOWS_HOSTAPIS, WINDOWS_PA_DEFAULTS, platform
    )
    assert len(everything) == len(WINDOWS_DEVICES)
    assert devices.resolve(None, "input", everything).index == 0


def test_a_block_fits_wasapis_period_and_stays_as_asked_elsewhere():
    assert [devices.fit_block_ms(devices.WASAPI, ms) for ms in (5, 10, 20, 15)] == [10, 10, 20, 20]
    assert [devices.fit_block_ms("Core Audio", ms) for ms in (5, 10, 20)] == [5, 10, 20]
    assert devices.fit_block_ms("ALSA", 5) == 5


def test_the_echo_delay_adds_what_mme_leaves_unreported():
    wasapi = devices.echo_delay_ms(devices.WASAPI, 0.012, devices.WASAPI, 0.021)
    assert wasapi == pytest.approx(33.0)
    mme = devices.echo_delay_ms(devices.MME, 0.090, devices.MME, 0.090)
    assert mme == pytest.approx(220.0)
    assert devices.echo_delay_ms("ALSA", 0.01, "ALSA", 0.02) == pytest.approx(30.0)


def test_the_streams_ask_wasapi_for_whole_periods_and_other_hosts_for_the_block_asked():
    """AudioIO's callback size goes through `fit_block_ms` with the device's host API (nothing
    is opened: `blocksize` is the number the stream would be opened with)."""
    capture, _ = open_ring(4800)
    _, playback = open_ring(4800)
    io = AudioIO(capture, playback, block_ms=5.0)
    assert io.blocksize(48_000, "output", devices.WASAPI) == 480  # 10 ms, WASAPI's period
    assert io.blocksize(48_000, "output", "ALSA") == 240  # 5 ms as asked
    assert io.blocksize(48_000, "output", "Windows MME") == 240
