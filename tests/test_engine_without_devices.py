"""A machine with no sound devices at all (no sound server here, on purpose): the engine still
connects, typed messages get their replies in the transcript, and the state comes back to
listening instead of hanging on "speaking" with nothing to play on."""

import asyncio

from services import unavailable

from talkapp.audio import devices
from talkapp.audio.echo import EchoMode
from talkapp.session import engine_events as out
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile


def _rescan() -> None:
    """Re-read the device list. Without the PortAudio library the engine stops with that
    message instead (another situation): this test needs PortAudio with no devices behind it."""
    try:
        devices.rescan()
    except devices.AudioUnavailable as exc:
        unavailable(str(exc))


async def test_no_devices_means_text_still_works_and_the_state_moves_on(simulator, monkeypatch):
    monkeypatch.setenv(
        "PULSE_SERVER", "unix:/nonexistent/pulse/native"
    )  # no sound server reachable
    _rescan()
    events: list = []
    engine = Engine(
        ProviderProfile(base_url=simulator.url),
        "sk-test",
        events.append,
        Mode.PUSH_TO_TALK,
        AudioOptions(echo=EchoMode.HEADSET),
    )
    assert await engine.start(), events
    try:
        assert engine.statistics().output_rate is None  # really no speaker
        await engine.send_text("Hello?")
        async with asyncio.timeout(15):
            while not (
                engine.state is out.State.LISTENING
                and any(
                    isinstance(e, out.TranscriptChanged)
                    and e.turn.role == "assistant"
                    and e.turn.final
                    for e in events
                )
            ):
                await asyncio.sleep(0.02)
        assert any(
            isinstance(e, out.Notice) and e.topic == out.AUDIO for e in events
        )  # and it said why
    finally:
        await engine.stop()
    monkeypatch.undo()
    _rescan()


def test_levels_can_be_read_while_the_loop_is_still_opening_the_audio():
    """The GUI polls levels from its own thread while the loop may still be opening the audio.
    (A GUI test once caught a moment with the mic pump built and the speaker not: an
    AttributeError in the level poll. The parts now appear together, in one object.)"""
    engine = Engine(
        ProviderProfile(base_url="ws://127.0.0.1:9"),
        "sk-test",
        lambda event: None,
        Mode.PUSH_TO_TALK,
        AudioOptions(echo=EchoMode.HEADSET),
    )
    assert engine.levels() == (float("-inf"), float("-inf"))
    assert engine.statistics() is None
