"""A microphone that gives only exact zeros, through the real engine and a private PulseAudio:
its virtual microphone muted (`pactl set-source-mute`, as a mute switch would) becomes one
notice, unmuted it says sound came back; a room's noise floor with speech in it never does. And
a microphone macOS refused (its authorization given here as a function: no macOS here) stays
closed, told once, and nothing is sent."""

import asyncio

import numpy as np
import pytest
from audio_server import room_tone
from speech import speak

from talkapp.platform import microphone
from talkapp.session import engine_events as out
from talkapp.session.turns import Mode

RATE = 24_000


def room(seconds: float) -> np.ndarray:
    return room_tone(seconds, RATE)


def microphone_notices(log) -> list[out.Notice]:
    return [n for n in log.of(out.Notice) if n.topic == out.MICROPHONE]


@pytest.fixture
def muted_mic(pulse):
    yield lambda on: pulse.pactl("set-source-mute", "virtmic", "1" if on else "0")
    pulse.pactl("set-source-mute", "virtmic", "0")


@pytest.fixture
def feeding(pulse):
    players = []

    def play(samples: np.ndarray):
        players.append(pulse.feed_mic(samples))
        return players[-1]

    yield play
    for player in players:  # started by this test: ended by it
        player.kill()
        player.wait()


async def test_a_muted_microphone_is_told_once_and_cleared_when_it_hears_again(
    pulse, engine_for, muted_mic, feeding
):
    feeding(room(60))  # the room goes on the whole test
    muted_mic(True)
    _engine, log = await engine_for(Mode.SERVER_VAD)  # hands-free: the microphone open
    silent = await log.wait_for(lambda e: isinstance(e, out.Notice) and e.topic == out.MICROPHONE)
    assert silent.level == "warning"
    assert silent.text == microphone.silent_text()
    muted_mic(False)
    back = await log.wait_for(
        lambda e: isinstance(e, out.Notice) and e.topic == out.MICROPHONE and e.level == "info"
    )
    assert back.text == microphone.SOUND_BACK_TEXT
    assert microphone_notices(log) == [silent, back]  # said once, then cleared


async def test_speech_in_a_room_never_looks_like_a_silent_microphone(
    pulse, simulator, engine_for, feeding
):
    words = speak("Hello, can you tell me the weather in Paris today?")
    bed = room(len(words) / RATE + 8)
    bed[RATE : RATE + len(words)] += words  # a second of room, the question, then room again
    feeding(bed)
    _engine, log = await engine_for(Mode.SERVER_VAD)
    await log.wait_for(lambda e: isinstance(e, out.TurnMeasured))
    assert microphone_notices(log) == []


async def test_a_microphone_macos_denied_stays_closed_and_is_told_once(
    pulse, simulator, engine_for
):
    engine, log = await engine_for(
        Mode.SERVER_VAD, mic_access=lambda: microphone.DENIED
    )  # hands-free asks for the microphone at once
    assert engine.statistics().input_rate is None
    [notice] = microphone_notices(log)
    assert notice.level == "error" and notice.text == microphone.refused_text(microphone.DENIED)
    await engine.set_mode(Mode.PUSH_TO_TALK)
    await engine.press()  # a new user action asks again, and is refused again
    assert engine.statistics().input_rate is None
    await engine.release()
    assert microphone_notices(log) == [notice]  # not repeated at every press
    assert not [
        e
        for e in simulator.connections[-1].received
        if isinstance(e, dict) and e.get("type") == "input_audio_buffer.append"
    ]  # no silence sent


async def test_a_microphone_macos_has_not_asked_about_yet_opens_on_the_press(pulse, engine_for):
    asked = []

    def not_determined() -> str:
        asked.append(True)
        return microphone.NOT_DETERMINED

    engine, log = await engine_for(Mode.PUSH_TO_TALK, mic_access=not_determined)
    assert engine.statistics().input_rate is None and asked == []  # nothing asked at launch
    await engine.press()  # the user's action: macOS shows its prompt as the microphone opens
    assert engine.statistics().input_rate is not None and asked == [True]
    await engine.release()
    assert microphone_notices(log) == []


def answers(*statuses: str):
    """The system's answers to "may TalkApp use the microphone", one per question (the last
    one repeats)."""
    left = list(statuses)
    return lambda: left.pop(0) if len(left) > 1 else left[0]


async def test_silence_after_macos_said_no_names_the_refusal(pulse, engine_for, muted_mic):
    muted_mic(True)  # what macOS hands a refused app
    # granted as the microphone opened, refused by the time it has been silent a second
    # (the user answered macOS's prompt, or changed the setting, meanwhile)
    _engine, log = await engine_for(
        Mode.SERVER_VAD, mic_access=answers(microphone.GRANTED, microphone.DENIED)
    )
    notice = await log.wait_for(lambda e: isinstance(e, out.Notice) and e.topic == out.MICROPHONE)
    assert notice.level == "error"
    assert notice.text == microphone.refused_text(microphone.DENIED)


async def test_silence_while_macos_is_still_asking_the_user_is_not_told(
    pulse, engine_for, muted_mic, feeding
):
    muted_mic(True)
    asked = []
    asked_twice = asyncio.Event()

    def still_asking() -> str:  # called on the engine's loop, this test's
        asked.append(True)
        if len(asked) == 2:
            asked_twice.set()
        return microphone.NOT_DETERMINED

    _engine, log = await engine_for(Mode.SERVER_VAD, mic_access=still_asking)
    assert len(asked) == 1  # as the microphone opened
    async with asyncio.timeout(20):
        await asked_twice.wait()  # and again once it had been silent a second
    feeding(room(30))
    muted_mic(False)  # the user said yes: sound
    words = speak("Hello, can you tell me the weather in Paris today?")
    bed = room(len(words) / RATE + 4)
    bed[RATE // 2 : RATE // 2 + len(words)] += words
    feeding(bed)
    await log.wait_for(lambda e: isinstance(e, out.TurnMeasured))
    assert microphone_notices(log) == []  # the prompt said it all


async def test_sound_at_the_next_press_clears_a_silence_told_at_the_last_one(
    pulse, engine_for, muted_mic, feeding
):
    """Push-to-talk with the mute switch on, then off between two presses."""
    feeding(room(60))
    muted_mic(True)
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    engine.mic_use.linger_s = 0.0
    await engine.press()
    silent = await log.wait_for(lambda e: isinstance(e, out.Notice) and e.topic == out.MICROPHONE)
    await engine.release()
    async with asyncio.timeout(20):
        while engine.statistics().input_rate is not None:  # closes at the pump's next cycle
            await asyncio.sleep(0.02)
    muted_mic(False)
    await engine.press()
    back = await log.wait_for(
        lambda e: isinstance(e, out.Notice) and e.topic == out.MICROPHONE and e.level == "info"
    )
    await engine.release()
    assert microphone_notices(log) == [silent, back]
