"""Devices looked for again during a session, through the real engine and a private
PulseAudio: the engine re-scans at a quiet moment and the conversation goes on; and on Linux a
new default output (`pactl set-default-sink`, as connecting a headset does) is followed by the
sound server itself, so TalkApp's "System default" output plays there without reopening."""

import asyncio

import numpy as np
import pytest

from talkapp.audio import devices
from talkapp.platform.default_output import Follow
from talkapp.session import engine_events as out
from talkapp.session.turns import Mode


@pytest.fixture
def plugged_pcm(pulse):
    """A device PortAudio can only see after a re-scan: a new ALSA PCM (on the speaker), named
    for the test (PortAudio keeps listing it until its next re-scan)."""
    asoundrc = pulse.dir / "home" / ".asoundrc"
    original = asoundrc.read_text()

    def plug(name: str) -> str:
        asoundrc.write_text(original + f"pcm.{name} {{ type pulse device speaker }}\n")
        return name

    yield plug
    asoundrc.write_text(original)


def listed(name: str) -> bool:
    return any(d.name == name for d in devices.list_devices())


async def a_reply(log, engine, text: str) -> None:
    before = len(log.of(out.TurnMeasured))
    await engine.send_text(text)
    await log.wait_for(lambda _e: len(log.of(out.TurnMeasured)) > before)


async def test_a_rescan_during_a_session_finds_a_new_device_and_the_session_goes_on(
    pulse, engine_for, plugged_pcm
):
    engine, log = await engine_for(Mode.SERVER_VAD)  # hands-free: the microphone is open
    await a_reply(log, engine, "Remember the number seven.")
    new = plugged_pcm("talkapp_new_headset")
    with pytest.raises(devices.DevicesBusy):
        devices.rescan()  # the session's streams are open: only the engine can
    assert not listed(new)
    assert await engine.rescan_devices() is True
    assert listed(new)
    stats = engine.statistics()
    assert stats.input_rate is not None and stats.output_rate is not None  # both reopened
    await a_reply(log, engine, "And now?")
    assert len(log.of(out.Connected)) == 1  # the same session, no reconnect
    users = [t.text for t in engine.transcript.turns() if t.role == "user"]
    assert users == ["Remember the number seven.", "And now?"]  # the transcript survived


async def test_a_rescan_waits_while_a_reply_plays(pulse, engine_for):
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    await engine.send_text("Tell me something long.")
    await log.wait_for(
        lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ASSISTANT_SPEAKING
    )
    rescan = asyncio.ensure_future(engine.rescan_devices())
    state_when_done = []
    rescan.add_done_callback(lambda _done: state_when_done.append(engine.state))
    assert await rescan is True
    assert state_when_done == [out.State.LISTENING]  # done once the reply had played
    assert log.of(out.TurnMeasured)


async def test_while_another_stream_is_open_the_session_reopens_without_a_rescan(pulse, engine_for):
    engine, _log = await engine_for(Mode.PUSH_TO_TALK)
    test_stream = devices.open_stream(  # the settings' microphone test, say
        "input",
        device=devices.default_device("input").index,
        samplerate=24_000,
        channels=1,
        blocksize=240,
        callback=lambda *_: None,
        finished_callback=lambda: None,
    )
    try:
        assert await engine.rescan_devices() is False
    finally:
        devices.close_stream(test_stream)
    assert engine.statistics().output_rate is not None  # the output came back all the same


async def test_on_linux_a_new_default_output_is_followed_by_the_sound_server(pulse, engine_for):
    engine, log = await engine_for(Mode.PUSH_TO_TALK)  # output on "System default"
    assert engine.audio_options.output_device is None
    pulse.plug_in("usb")  # headphones connected mid-session ...
    pulse.pactl("set-default-sink", "usb")  # ... and the system makes them the default
    try:
        headphones = pulse.record("usb.monitor")
        try:
            await a_reply(log, engine, "Say something to my headphones.")
            await log.wait_for(
                lambda e: isinstance(e, out.StateChanged) and e.state is out.State.LISTENING
            )
        finally:
            heard = headphones.stop()
    finally:
        pulse.pactl("set-default-sink", "speaker")
    assert np.max(np.abs(heard)) > 0.05  # the reply played on the new default
    assert engine.statistics().reopens == 0  # moved by the server: TalkApp reopened nothing


async def until_listed(name: str, timeout: float = 20.0) -> None:
    """A re-scan has no event of its own: wait until PortAudio lists `name`."""
    async with asyncio.timeout(timeout):
        while not listed(name):
            await asyncio.sleep(0.05)


async def test_a_new_default_the_system_announces_is_looked_for_at_the_next_quiet_moment(
    pulse, engine_for, plugged_pcm
):
    """macOS's way (its Core Audio listener is tested with fakes in tests/test_device_watch.py):
    the notification makes the engine re-scan at its next quiet moment."""
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    engine.device_watch.follow = Follow.NOTIFIED
    new = plugged_pcm("talkapp_announced_headset")
    engine.device_watch.default_changed()
    await until_listed(new)
    await a_reply(log, engine, "Still there?")  # and the conversation goes on
    assert len(log.of(out.Connected)) == 1


async def test_where_the_system_does_not_announce_it_one_look_follows_the_mic_closing(
    pulse, engine_for, plugged_pcm
):
    """Windows' way: no notification; one look once the microphone has closed after a turn."""
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    engine.device_watch.follow = Follow.POLLED
    engine.mic_use.linger_s = 0.2
    new = plugged_pcm("talkapp_polled_headset")
    await engine.press()
    await engine.release()
    await until_listed(new)
    assert engine.statistics().input_rate is None  # it looked with the microphone closed
    await a_reply(log, engine, "Still there?")
