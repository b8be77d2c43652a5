"""AudioIO against real audio: a private PulseAudio daemon (tests/audio_server.py), PortAudio
streams through the ALSA pulse plugin, `paplay` into the virtual mic, `parecord` of the
virtual speaker. Nothing here fakes a stream.

Timing is never asserted on the wall clock: every bound is on sample content (where a signal
sits in a recording, found by cross-correlation) or on counters.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pytest
from audio_server import RATE, align, noise_signal, similarity

from talkapp.audio import devices
from talkapp.audio.devices import DeviceInfo, DeviceKey
from talkapp.audio.pcm import resample
from talkapp.audio.ring import RingReader, RingWriter, open_ring
from talkapp.audio.streams import AudioIO
from talkapp.threads import priority

SILENT = 1e-3  # |sample| below this is silence (s16 quantisation and resampler tails)
# These tests check that every frame arrives and that the counters are right. The app's 5 ms
# blocks leave ~10 ms of device buffer, which a sound server late on a loaded 2-core machine
# sometimes runs dry (once in CI: a damaged recording here); how often that happens is the
# benchmark's question (bench/audio_latency.py), not a test's, so the streams here use 10 ms.
RIG_BLOCK_MS = 10.0


def key(name: str) -> DeviceKey:
    return DeviceKey(name, "ALSA")


def wait_until_still(value, settle: float = 0.05, timeout: float = 5.0) -> None:
    """Until `value()` stays the same for `settle` seconds."""
    deadline, last = time.monotonic() + timeout, value()
    while time.sleep(settle) or value() != last:
        assert time.monotonic() < deadline, "still changing"
        last = value()


def wait_for(predicate, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@dataclass
class Rig:
    io: AudioIO
    capture: RingReader  # what the input callback captured (the loop's end)
    playback: RingWriter  # what the output callback plays (the loop's end)

    def captured(self) -> np.ndarray:
        out = np.zeros(self.capture.available, np.float32)
        return out[: self.capture.read_into(out)]

    def played(self) -> int:
        return self.io.statistics().playback.frames_read_total

    def block(self, direction: str = "output") -> int:
        rate = self.io.output_rate if direction == "output" else self.io.input_rate
        return self.io.blocksize(rate)


@pytest.fixture
def rig(pulse):
    made: list[AudioIO] = []

    def make(seconds: float = 8.0, **options) -> Rig:
        capture_in, capture_out = open_ring(int(48000 * seconds))
        playback_in, playback_out = open_ring(int(48000 * seconds))
        io = AudioIO(capture_in, playback_out, **{"block_ms": RIG_BLOCK_MS, **options})
        made.append(io)
        io.start()
        return Rig(io, capture_out, playback_in)

    yield make
    for io in made:
        io.stop()


def to_wire(samples: np.ndarray, rate: int) -> np.ndarray:
    return resample(samples, rate, RATE)


def test_capture_equals_what_the_virtual_mic_heard(pulse, rig):
    r = rig(input_device=key("talkapp_mic"), output_device=key("talkapp_speaker"))
    assert r.io.poll_faults() == []
    # The device's own rate: PortAudio reports 44100 for a pulse PCM, so this is the
    # resampling path a Linux desktop takes (Pulse converts 24 kHz -> 44.1 kHz).
    assert r.io.input_rate == 44100
    wait_for(lambda: r.io.statistics().input_callbacks > 5, what="input callbacks")
    said = noise_signal(1.5)
    assert pulse.feed_mic(said).wait(10) == 0  # returns once the server has played it all
    tail = r.capture.available + 0.2 * 44100  # and 200 ms more for the capture path
    wait_for(lambda: r.capture.available >= tail, what="the capture to catch up")
    block = r.block("input")
    r.io.stop()
    heard = to_wire(r.captured(), 44100)
    found = align(said, heard)
    assert found.similarity >= 0.99
    assert 0 <= found.lag and found.lag + len(said) <= len(heard)  # all of it arrived
    stats = r.io.statistics()
    assert stats.capture.overruns == stats.capture.frames_dropped == stats.input_overflows == 0
    assert stats.capture.frames_written_total == stats.input_callbacks * block
    assert 0 < stats.input_latency < 0.2


def test_the_threads_audio_waits_on_run_real_time_where_the_kernel_allows(pulse, rig):
    r = rig(input_device=key("talkapp_mic"), output_device=key("talkapp_speaker"))
    both = lambda: min(r.io.statistics().input_callbacks, r.io.statistics().output_callbacks)
    wait_for(lambda: both() > 5, what="callbacks on both streams")
    if not r.io.statistics().realtime:
        pytest.skip("this machine refuses real-time scheduling (not root, no RLIMIT_RTPRIO)")

    def check() -> None:
        stats = r.io.statistics()
        # Each stream on a pulse PCM runs one libpulse main-loop thread in this process: the
        # thread that wakes the callback when the server asks for audio.
        assert stats.sound_server_threads >= 2
        assert stats.sound_server_threads_realtime == stats.sound_server_threads
        helpers = priority.sound_server_threads()
        assert len(helpers) >= 2
        for tid in helpers:
            assert os.sched_getscheduler(tid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_FIFO
            assert os.sched_getparam(tid).sched_priority == priority.AUDIO_PRIORITY

    check()
    # Reopening (new devices, or recovery from a fault) starts new helper threads: raised too.
    before, calls = set(priority.sound_server_threads()), both()
    r.io.set_devices(key("talkapp_mic"), key("talkapp_speaker"))
    wait_for(lambda: both() > calls + 5, what="callbacks after reopening")
    assert set(priority.sound_server_threads()) - before, "reopening started no new helper thread"
    check()


def test_playback_reaches_the_speaker_intact_without_underruns(pulse, rig):
    r = rig(output_device=key("talkapp_speaker"))
    assert r.io.output_rate == 44100
    reply = noise_signal(1.5, seed=2)
    at_device = resample(reply, RATE, 44100)
    recording = pulse.record("speaker.monitor")
    underflows_before = r.io.statistics().output_underflows  # idle silence may have run dry
    r.playback.write(at_device)  # all queued at once: the ring stays fed to the end
    underruns_while_fed = []
    while r.played() < len(at_device):
        underruns_while_fed.append(r.io.statistics().playback.underruns)
        time.sleep(0.02)
    time.sleep(0.3)  # let the server render the last blocks
    heard = recording.stop()
    found = align(reply, heard)
    assert found.similarity >= 0.99
    assert found.lag + len(reply) <= len(heard)
    assert set(underruns_while_fed) == {0}
    stats = r.io.statistics()
    assert stats.playback.underruns == 1  # the natural end of the reply, nothing before
    assert stats.output_underflows == underflows_before  # PortAudio's own flag: no xrun either
    assert 0 < stats.output_latency < 0.2


def recorded_so_far(recording) -> np.ndarray:
    """What `recording` has written so far, without stopping it (mono)."""
    return np.fromfile(recording.path, dtype="<i2").astype(np.float32) / 32768.0


def audible_ms(samples: np.ndarray) -> int:
    """Milliseconds (24 kHz) of `samples` whose level is above silence."""
    n = len(samples) // 24 * 24
    level = np.sqrt(np.mean(samples[:n].reshape(-1, 24).astype(np.float64) ** 2, axis=1))
    return int(np.count_nonzero(level > 0.01))


@pytest.mark.parametrize("prime", [False, True], ids=["filled-with-silence", "primed"])
def test_an_output_on_demand_runs_from_wake_to_rest_and_plays_the_reply(pulse, rig, prime):
    """Stopped while nothing plays (no callback takes the queued reply), started by
    `wake_output` -- its device buffer filled with silence or primed with the reply --, it
    plays the reply; `rest_output` stops it (the engine rests it only once what it was handed
    has played: a stop drops what the device still holds). Whether every frame arrives under
    load is bench/output_soak.py's question: here the reply must be heard, give or take one
    dropout (a loaded machine may run the device dry)."""
    r = rig(output_device=key("talkapp_speaker"), output_on_demand=True, prime_output=prime)
    assert not r.io.output_running
    reply = noise_signal(1.0, seed=3)
    assert audible_ms(reply) >= 990  # audible throughout
    at_device = resample(reply, RATE, r.io.output_rate)
    recording = pulse.record("speaker.monitor")
    callbacks = r.io.statistics().output_callbacks
    r.playback.write(at_device)
    assert r.io.statistics().output_callbacks == callbacks and r.played() == 0  # stopped
    r.io.wake_output()
    assert r.io.output_running
    wait_for(lambda: r.played() == len(at_device), what="the reply to be handed over")
    wait_for(lambda: audible_ms(recorded_so_far(recording)) >= 900, what="the reply at the speaker")
    r.io.rest_output()
    assert not r.io.output_running
    callbacks = r.io.statistics().output_callbacks
    heard = recording.stop()
    assert r.io.statistics().output_callbacks == callbacks  # stopped: no callback since
    chunks = np.split(reply, 5)  # the reply, not some other sound (a dropout may split it)
    assert max(align(chunk, heard).similarity for chunk in chunks) > 0.95
    assert r.io.statistics().playback.underruns == 1  # the reply's end: the ring held it all


def _last_loud(samples: np.ndarray) -> int:
    loud = np.flatnonzero(np.abs(samples) > SILENT)
    return int(loud[-1]) if loud.size else -1


def test_flush_silences_the_speaker_within_one_block(pulse, rig):
    """request_flush() is a barge-in. Content bound: after the flush the speaker plays at most
    the block that was being filled: the recording is silent from the flush point + one block,
    where the flush point is `frames_read_total` when the flush was requested (everything
    before it was already handed to PortAudio, and plays: the server's buffering delays the
    silence by the output latency but adds no audio)."""
    r = rig(output_device=key("talkapp_speaker"), prefer_rate=RATE)
    assert r.io.output_rate == RATE
    reply = noise_signal(3.0, seed=3)
    recording = pulse.record("speaker.monitor")
    r.playback.write(reply)
    wait_for(lambda: r.played() >= RATE, what="1 s played")
    flush_point = r.played()
    r.playback.request_flush()
    wait_for(lambda: r.io.statistics().playback.flushes == 1, what="the flush applied")
    stopped_at = r.played()
    time.sleep(0.4)
    heard = recording.stop()
    lag = align(reply[:flush_point], heard).lag
    assert similarity(reply[:flush_point], heard, lag) >= 0.99
    last = _last_loud(heard) - lag  # in reply frames
    block = r.block()
    assert flush_point - block <= last <= flush_point + block, (flush_point, last)
    assert stopped_at - flush_point <= block
    assert abs(last - stopped_at) <= 2, "frames_read_total is what reached the speaker"
    assert np.max(np.abs(heard[lag + stopped_at + 2 :])) < SILENT
    past_ms = 1000 * (last - flush_point) / RATE
    latency_ms = 1000 * r.io.statistics().output_latency
    print(
        f"\nflush: audio past the flush point {past_ms:.1f} ms; output latency {latency_ms:.1f} ms"
    )


def test_paused_output_keeps_the_ring_and_resumes_where_it_stopped(pulse, rig):
    r = rig(output_device=key("talkapp_speaker"), prefer_rate=RATE)
    reply = noise_signal(1.6, seed=4)
    recording = pulse.record("speaker.monitor")
    r.playback.write(reply)
    wait_for(lambda: r.played() >= 0.5 * RATE, what="0.5 s played")
    r.io.paused = True
    wait_until_still(r.played)  # the block being filled when the flag flipped ends
    paused_at = r.played()
    underruns = r.io.statistics().playback.underruns
    time.sleep(0.4)
    assert r.played() == paused_at
    assert r.playback.statistics().available == len(reply) - paused_at  # kept, not consumed
    assert r.io.statistics().playback.underruns == underruns  # silence by choice is no underrun
    r.io.paused = False
    wait_for(lambda: r.played() == len(reply), what="the rest played")
    time.sleep(0.3)
    heard = recording.stop()
    first = align(reply[:paused_at], heard)
    rest = align(reply[paused_at:], heard)
    assert first.similarity >= 0.99 and rest.similarity >= 0.99, r.io.statistics()
    gap = rest.lag - (first.lag + paused_at)  # silence inserted, in frames
    assert gap >= 0.35 * RATE
    assert np.max(np.abs(heard[first.lag + paused_at + 2 : rest.lag - 2])) < SILENT


def test_a_48k_stereo_device_loops_back_at_48k(pulse, rig):
    """hw48 is a 48 kHz stereo sink and mic48 a source on its monitor: what AudioIO plays comes
    back through its own input. Checks the device rate, the copy to every output channel, and
    channel 0 of a stereo input; measures the echo path (output + input latency) by content."""
    r = rig(input_device=key("talkapp_mic48"), output_device=key("talkapp_hw48"),
            prefer_rate=48000, channels=2)  # fmt: skip
    assert (r.io.input_rate, r.io.output_rate) == (48000, 48000)
    assert r.io.poll_faults() == []
    reply = noise_signal(1.0, rate=48000, seed=5)
    recording = pulse.record("hw48.monitor", rate=48000, channels=2)
    wait_for(lambda: r.io.statistics().input_callbacks > 5, what="input callbacks")
    r.capture.discard()
    stats = r.io.statistics()  # the latencies as the reply goes in, which is what it meets
    r.playback.write(reply)
    wait_for(lambda: r.played() == len(reply), what="the reply played")
    time.sleep(0.3)
    heard = recording.stop()
    captured = r.captured()
    for channel in (0, 1):
        assert align(reply, heard[:, channel]).similarity >= 0.99
    echo = align(reply, captured)
    assert echo.similarity >= 0.99
    predicted = stats.output_latency + stats.input_latency
    # Content: from the write to where the echo sits in the capture ring. That is the output
    # latency + the input latency + the wait for the next output callback (up to a block), give or
    # take a capture block each way; the sound server's buffer level moves by a few blocks between
    # callbacks on a loaded machine, and the loose upper margin absorbs this thread being
    # descheduled between discarding the capture and writing the reply.
    measured = echo.lag / 48000
    print(
        f"\necho path: measured {1000 * measured:.1f} ms; timestamps say output "
        f"{1000 * stats.output_latency:.1f} + input {1000 * stats.input_latency:.1f} ms"
    )
    assert -0.030 <= measured - predicted <= 0.060


def test_an_unplugged_speaker_is_reported_and_playback_moves_to_the_default(pulse, rig):
    pulse.plug_in("usb")
    r = rig(input_device=key("talkapp_mic"), output_device=key("talkapp_usb"), prefer_rate=RATE)
    assert r.io.poll_faults() == []
    reply = noise_signal(3.0, seed=6)
    on_default = pulse.record("speaker.monitor")
    r.playback.write(reply)
    wait_for(lambda: r.played() >= 0.5 * RATE, what="0.5 s played on usb")
    pulse.unplug("usb")  # pactl unload-module of the sink being played to
    faults = []
    wait_for(lambda: faults.extend(r.io.poll_faults()) or faults, what="a fault")
    resumed_at = r.played()  # the ring continues from here on the default device
    assert [f.direction for f in faults] == ["output"]
    message = faults[0].message
    assert message == (
        "The speaker 'talkapp_usb' stopped working (unplugged, or taken away by the sound "
        "server?). Playing on the system default 'default' instead."
    )
    assert r.io.output_rate == RATE
    calls = r.io.statistics().input_callbacks
    wait_for(lambda: r.played() == len(reply), what="the rest played on the default")
    time.sleep(0.3)
    heard = on_default.stop()
    rest = reply[resumed_at:]
    assert align(rest, heard).similarity >= 0.99
    stats = r.io.statistics()
    assert stats.reopens == 1
    assert stats.input_callbacks > calls  # the microphone was reopened and kept going
    assert r.io.poll_faults() == []


def test_a_device_back_at_another_rate_is_reopened_at_it_never_played_too_fast(
    pulse, rig, monkeypatch
):
    """A Bluetooth headset switching profile: its sink goes away (playback moves to the
    default) and comes back at 16 kHz; the app selects it again. A pulse PCM cannot report a
    rate of its own (PortAudio always says 44100), so only the rate PortAudio *reports* for
    talkapp_usb is substituted; the streams and the sound server are real."""
    pulse.plug_in("usb")
    r = rig(output_device=key("talkapp_usb"))
    assert r.io.output_rate == 44100
    r.playback.write(noise_signal(2.0, rate=44100, seed=7))
    wait_for(lambda: r.played() >= 0.3 * 44100, what="0.3 s played")
    pulse.unplug("usb")
    faults = []
    wait_for(lambda: faults.extend(r.io.poll_faults()) or faults, what="a fault")
    assert r.io.output_rate == 44100  # the default; same rate, so the queue plays on
    assert r.playback.statistics().frames_flushed == 0
    pulse.plug_in("usb")
    real_list = devices.list_devices

    def listed_at_16k() -> list[DeviceInfo]:
        return [
            DeviceInfo(d.name, d.hostapi, d.index, d.max_input_channels, d.max_output_channels,
                       16000.0, d.is_default_input, d.is_default_output)
            if d.name == "talkapp_usb" else d
            for d in real_list()
        ]  # fmt: skip

    monkeypatch.setattr(devices, "list_devices", listed_at_16k)
    r.io.set_devices(None, key("talkapp_usb"))
    assert r.io.output_rate == 16000
    (fault,) = r.io.poll_faults()
    assert fault.direction == "output"
    assert fault.message.startswith(
        "The speaker 'talkapp_usb' now runs at 16000 Hz (was 44100 Hz); reopened at the new "
        "rate and dropped "
    )
    assert r.playback.statistics().available == 0  # old-rate audio dropped, not played
    tone = (0.3 * np.sin(2 * np.pi * 1000 * np.arange(8000) / 16000)).astype(np.float32)
    recording = pulse.record("usb.monitor")
    r.playback.write(tone)
    wait_for(lambda: r.playback.statistics().available == 0, what="the tone played")
    time.sleep(0.3)
    heard = recording.stop()
    spectrum = np.abs(np.fft.rfft(heard))
    assert np.fft.rfftfreq(len(heard), 1 / RATE)[np.argmax(spectrum)] == pytest.approx(1000, abs=5)


def test_a_speaker_that_cannot_open_falls_back_to_the_default_and_says_so(pulse, rig):
    r = rig(input_device=key("no such mic"), output_device=key("talkapp_usb"))  # usb unplugged
    faults = {f.direction: f.message for f in r.io.poll_faults()}
    assert faults["input"] == (
        "The microphone 'no such mic' is not connected. "
        "Listening on the system default 'default' instead."
    )
    assert faults["output"].startswith("Could not open the speaker 'talkapp_usb' (")
    assert faults["output"].endswith("Playing on the system default 'default' instead.")
    assert r.io.input_rate and r.io.output_rate
    wait_for(lambda: r.io.statistics().output_callbacks > 3, what="output on the default")


def test_stop_is_idempotent_and_set_devices_reopens(pulse, rig):
    r = rig(output_device=key("talkapp_speaker"))
    r.io.set_devices(key("talkapp_mic48"), key("talkapp_hw48"))
    assert r.io.poll_faults() == []
    assert r.io.statistics().input_rate == 44100
    r.io.stop()
    r.io.stop()
    assert (r.io.input_rate, r.io.output_rate) == (None, None)
    assert not [s for s in devices._open_streams if not s.closed]
    devices.rescan()  # allowed: nothing is open
