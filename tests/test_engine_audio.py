"""The engine with real audio: a private PulseAudio's virtual mic fed with espeak speech, its
virtual speaker recorded, the simulator over a real socket. Every turn-taking mode runs a
whole turn; barge-in cuts the reply and the truncate matches what reached the speaker."""

import asyncio
import base64
import sys
import time

import numpy as np
import pytest
from audio_server import align, cut_interval, locate, reply_start
from engine_harness import EventLog, running_engines
from speech import silence, speak

from talkapp.audio.echo import EchoMode
from talkapp.session import engine_events as out
from talkapp.session.engine import AudioOptions, Engine
from talkapp.session.transcript import heard_split
from talkapp.session.turns import Mode
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

QUESTION = "Hello, can you tell me the weather in Paris today?"
INTERRUPTION = "Wait, stop, I meant London."
UNDERRUN_LOSS_MS = 120  # see the barge-in test: a sound server recovering from an underrun


@pytest.fixture
def simulator_config():
    """Replies stream 4x faster than real time: the speaker's ring and pacing are under test."""
    return SimulatorConfig(knobs=Knobs(audio_pace=4.0))


def reply_audio(sim) -> np.ndarray:
    """Everything the simulator sent as reply audio, in order (24 kHz float)."""
    sent = [
        e
        for e in sim.connections[-1].sent
        if isinstance(e, dict) and e.get("type") == "response.output_audio.delta"
    ]
    pcm = b"".join(base64.b64decode(e["delta"]) for e in sent)
    return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0


def received(sim, wire_type):
    return [
        e
        for e in sim.connections[-1].received
        if isinstance(e, dict) and e.get("type") == wire_type
    ]


def finished_speaking(log):
    """The assistant spoke and is done: back to listening after the last 'speaking' state."""

    def done(_event) -> bool:
        states = [e.state for e in log.of(out.StateChanged)]
        spoke = [i for i, s in enumerate(states) if s is out.State.ASSISTANT_SPEAKING]
        return bool(spoke) and out.State.LISTENING in states[spoke[-1] :]

    return done


def played_span(
    reply: np.ndarray,
    recorded: np.ndarray,
    lag: int,
    segment: int = 2400,
    max_gap: int = 12000,
) -> tuple[float, float]:
    """Where playback of `reply` stopped, as seen in `recorded` (where the reply starts at `lag`):
    (end of the last 100 ms segment found, start of the first of two in a row that were not), in
    ms of the reply. Each segment is looked for in order, from 10 ms before where the one before
    it ended (the grain of the match) up to `max_gap` samples later: an underrun on a loaded
    machine plays silence and delays the rest of the reply, which is then found later, also
    inside a segment (`_segment_end` splits it); lost audio brings the rest earlier, where it is
    not looked for. One segment blurred beyond recognition (a crackle) is passed over."""
    at, last_found, missed = lag, 0, None
    for i in range(0, len(reply) - segment + 1, segment):
        if at + segment > len(recorded):  # the recording ended while the reply still played
            return 1000 * last_found / 24000, 1000 * i / 24000
        end = _segment_end(reply[i : i + segment], recorded, at, max_gap)
        if end is not None:
            at, last_found, missed = end, i + segment, None
            continue
        if missed is not None:
            return 1000 * last_found / 24000, 1000 * missed / 24000
        at, missed = at + segment, i
    end_ms = 1000 * len(reply) / 24000
    return end_ms, end_ms


def _segment_end(want: np.ndarray, recorded: np.ndarray, at: int, max_gap: int) -> int | None:
    """Where `want`, expected from `at` on, ends in `recorded`, or None: it is not there. Whole, or
    (silence put in the middle) its halves one after the other, down to 25 ms pieces."""
    if np.sqrt(np.mean(want**2)) < 1e-2:
        return at + len(want)  # a pause in the reply: no evidence either way
    lo = max(0, at - 240)
    # In place first: a steady vowel repeats itself, and a match 50 ms on scores as well as the
    # right one (seen), which would then put the search for the next segment past it
    for reach in (240, max_gap):
        found = locate(want, recorded[lo : at + len(want) + reach])
        if found.lag >= 0 and found.similarity >= 0.9:
            return lo + found.lag + len(want)
    if len(want) < 1200:
        return None
    half = len(want) // 2
    middle = _segment_end(want[:half], recorded, at, max_gap)
    return None if middle is None else _segment_end(want[half:], recorded, middle, max_gap)


async def feed(pulse, samples):
    player = pulse.feed_mic(samples)
    await asyncio.to_thread(player.wait)


@pytest.mark.parametrize("mode", [Mode.SERVER_VAD, Mode.SEMANTIC_VAD, Mode.LOCAL_VAD])
async def test_a_hands_free_turn_is_heard_answered_and_played(pulse, simulator, engine_for, mode):
    _engine, log = await engine_for(mode)
    speaker = pulse.record()
    await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.3)]))
    measured = await log.wait_for(lambda e: isinstance(e, out.TurnMeasured))
    await log.wait_for(finished_speaking(log))
    await asyncio.sleep(0.3)  # not a wait for a state: the device buffer's tail, recorded too
    recorded = speaker.stop()
    reply = reply_audio(simulator)
    assert len(reply) > 24000  # a real reply, seconds long
    start = reply_start(reply, recorded)
    assert start.similarity > 0.95  # the reply's first words reached the speaker intact
    # ... and all of it, in order, nothing lost (a loaded machine may delay a block: an underrun
    # plays silence and the rest follows later; the benchmark counts those, not this test)
    assert played_span(reply, recorded, start.lag) == (1000 * len(reply) / 24000,) * 2
    assert (
        measured.first_audio_received_ms is not None
        and measured.first_audio_played_ms >= measured.first_audio_received_ms
    )
    config = received(simulator, "session.update")[0]["session"]["audio"]["input"]["turn_detection"]
    if mode is Mode.LOCAL_VAD:
        assert config is None and len(received(simulator, "input_audio_buffer.commit")) == 1
    else:
        assert config["type"] == mode.value and not received(simulator, "input_audio_buffer.commit")
    user = [e.turn for e in log.of(out.TranscriptChanged) if e.turn.role == "user" and e.turn.final]
    assert user and "speech" in user[-1].text


async def test_push_to_talk_press_and_release_run_a_turn(pulse, simulator, engine_for):
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    speaker = pulse.record()
    await engine.press()
    await feed(pulse, np.concatenate([speak(QUESTION), silence(0.2)]))
    await engine.release()
    await log.wait_for(finished_speaking(log))
    await asyncio.sleep(0.3)  # not a wait for a state: the device buffer's tail, recorded too
    recorded = speaker.stop()
    assert [e["type"] for e in received(simulator, "input_audio_buffer.commit")] == [
        "input_audio_buffer.commit"
    ]
    appended = (
        sum(
            len(base64.b64decode(e["audio"]))
            for e in received(simulator, "input_audio_buffer.append")
        )
        / 48
    )
    assert appended > 0.8 * 1000 * len(speak(QUESTION)) / 24000  # the speech went out, not silence
    reply = reply_audio(simulator)
    start = reply_start(reply, recorded)
    assert start.similarity > 0.95
    assert played_span(reply, recorded, start.lag) == (1000 * len(reply) / 24000,) * 2


@pytest.mark.parametrize("mode", [Mode.SERVER_VAD, Mode.SEMANTIC_VAD, Mode.LOCAL_VAD])
async def test_barge_in_cuts_the_reply_and_truncates_to_what_was_played(
    pulse, simulator, engine_for, mode
):
    """In every turn-detection mode the same measure: what was played is what is truncated,
    and the transcript shows that share of the reply as heard."""
    engine, log = await engine_for(mode)
    speaker = pulse.record()
    await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.2)]))
    await log.wait_for(
        lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ASSISTANT_SPEAKING
    )
    (item,) = reply_items(simulator)
    await until(
        lambda: engine._audio.speaker.heard_ms(item) >= 1500
    )  # the user hears part of the reply
    await feed(pulse, np.concatenate([speak(INTERRUPTION), silence(0.8)]))
    interrupted = await log.wait_for(
        lambda e: isinstance(e, out.TranscriptChanged) and e.turn.interrupted
    )
    assert engine._audio.io.bell.rings >= 1  # the voice over the reply woke the pump at once
    await asyncio.sleep(0.5)  # not a wait for a state: half a second of recording after the cut
    recorded = speaker.stop()
    (truncate,) = received(simulator, "conversation.item.truncate")
    assert truncate["audio_end_ms"] == interrupted.turn.heard_ms
    reply = reply_audio(simulator)
    start = reply_start(reply, recorded).lag
    lo, hi = cut_interval(reply, recorded[start:])  # heard: up to somewhere in [lo, hi] (samples)
    heard_from, heard_to = 1000 * lo / 24000, 1000 * hi / 24000
    # One block, and the 1 ms grain of the measure. After an output underrun (a loaded machine)
    # ALSA's pulse plugin re-creates its stream and drops what was written since the server ran
    # dry, which PortAudio counted as handed over and never reports: the engine may then claim up
    # to UNDERRUN_LOSS_MS more than was heard, per underrun (the benchmark counts underruns).
    stats = engine.statistics()
    tolerance = engine.audio_options.block_ms + 1
    lost = stats.output_underflows * UNDERRUN_LOSS_MS
    assert heard_from - tolerance <= truncate["audio_end_ms"] <= heard_to + tolerance + lost, (
        f"heard {heard_from:.0f}-{heard_to:.0f} ms, underflows {stats.output_underflows}, "
        f"output latency {1000 * stats.output_latency:.1f} ms, playback {stats.playback}"
    )
    assert heard_to < 1000 * len(reply) / 24000 - 500  # it really was cut short
    # What the transcript shows as heard: the played share of the audio received by then.
    turn = interrupted.turn
    assert turn.heard_ms <= turn.spoken_ms <= 1000 * len(reply) / 24000 + 1
    heard, rest = heard_split(turn)
    assert heard and rest and f"{heard} {rest}" == turn.text


async def until(condition, timeout: float = 20.0) -> None:
    """Wait for a state the engine shows no event for (what the speaker has played), looking
    again every pump period."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def reply_items(sim) -> list[str]:
    """The assistant items whose audio the simulator sent on the last connection, in order."""
    deltas = [
        e
        for e in sim.connections[-1].sent
        if isinstance(e, dict) and e.get("type") == "response.output_audio.delta"
    ]
    return list(dict.fromkeys(e["item_id"] for e in deltas))


async def test_a_barge_in_on_the_second_reply_truncates_the_second_reply(
    pulse, simulator, engine_for
):
    engine, log = await engine_for(Mode.SERVER_VAD)
    await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.3)]))
    await log.wait_for(finished_speaking(log), timeout=30)  # the first reply played in full
    spoke = len([e for e in log.of(out.StateChanged) if e.state is out.State.ASSISTANT_SPEAKING])
    await feed(pulse, np.concatenate([speak(QUESTION), silence(0.2)]))
    await log.wait_for(
        lambda e: (
            len([s for s in log.of(out.StateChanged) if s.state is out.State.ASSISTANT_SPEAKING])
            > spoke
        )
    )
    first, second = reply_items(simulator)
    speaker = engine._audio.speaker
    await until(lambda: speaker.heard_ms(second) >= 1000)  # the user hears a second of it
    await feed(pulse, np.concatenate([speak(INTERRUPTION), silence(0.8)]))
    interrupted = await log.wait_for(
        lambda e: isinstance(e, out.TranscriptChanged) and e.turn.interrupted
    )
    (truncate,) = received(simulator, "conversation.item.truncate")
    assert truncate["item_id"] == second == interrupted.turn.item_id
    assert 1000 <= truncate["audio_end_ms"] == interrupted.turn.heard_ms
    assert not [
        e.turn
        for e in log.of(out.TranscriptChanged)
        if e.turn.item_id == first and e.turn.interrupted
    ]


@pytest.mark.parametrize(
    "echo, self_interrupts",
    [(EchoMode.AEC, False), (EchoMode.GATE, False), (EchoMode.HEADSET, True)],
)
async def test_with_speakers_the_assistant_does_not_interrupt_itself(
    pulse, simulator, engine_for, echo, self_interrupts
):
    """Speaker-to-mic coupling at the sound server: everything played leaks back into the mic,
    as loud as it was played. Echo handling keeps the reply from barging in on itself; the
    headset mode (no echo handling) shows that the coupling is real."""
    coupling = pulse.pactl(
        "load-module",
        "module-loopback",
        "source=speaker.monitor",
        "sink=micfeed",
        "latency_msec=20",
    ).strip()
    try:
        _engine, log = await engine_for(Mode.SERVER_VAD, echo=echo)
        await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.2)]))
        await log.wait_for(
            lambda e: (
                finished_speaking(log)(e)
                or (isinstance(e, out.TranscriptChanged) and e.turn.interrupted)
            ),
            timeout=30,
        )
    finally:
        pulse.pactl("unload-module", coupling)
    interrupted = [e for e in log.of(out.TranscriptChanged) if e.turn.interrupted]
    assert bool(interrupted) == self_interrupts
    if not self_interrupts:
        assert not received(simulator, "conversation.item.truncate") and not received(
            simulator, "response.cancel"
        )


async def test_a_speaker_unplugged_mid_reply_falls_back_with_a_message_and_talking_goes_on(
    pulse, simulator
):
    """The device is taken away at the sound server while the reply plays: the engine says so,
    carries on on the default speaker, and the next turn is heard there."""
    from talkapp.audio.devices import DeviceKey

    pulse.plug_in("usb")
    log = EventLog()
    engine = Engine(
        ProviderProfile(base_url=simulator.url),
        "sk-test",
        log,
        Mode.SERVER_VAD,
        AudioOptions(echo=EchoMode.HEADSET, output_device=DeviceKey("talkapp_usb", "ALSA")),
    )
    assert await engine.start(), log.events
    try:
        await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.2)]))
        await log.wait_for(
            lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ASSISTANT_SPEAKING
        )
        await asyncio.sleep(0.5)
        pulse.unplug("usb")
        notice = await log.wait_for(lambda e: isinstance(e, out.Notice) and e.topic == out.AUDIO)
        assert "talkapp_usb" in notice.text and "default" in notice.text
        await log.wait_for(finished_speaking(log), timeout=30)
        speaker = pulse.record()
        await feed(pulse, np.concatenate([silence(0.3), speak(QUESTION), silence(0.2)]))
        await log.wait_for(
            lambda e: (
                isinstance(e, out.TurnMeasured)
                and e.response_id != log.of(out.TurnMeasured)[0].response_id
            )
        )
        await log.wait_for(finished_speaking(log), timeout=30)
        recorded = speaker.stop()
        assert (
            np.sqrt(np.mean(recorded**2)) > 0.01
        )  # the second reply was heard on the default speaker
        assert engine.state is not out.State.ERROR
    finally:
        await engine.stop()


async def test_session_expiry_renews_the_session_and_keeps_the_transcript(pulse, simulator):
    log = EventLog()
    engine = Engine(
        ProviderProfile(base_url=simulator.url),
        "sk-test",
        log,
        Mode.PUSH_TO_TALK,
        AudioOptions(echo=EchoMode.HEADSET),
    )
    assert await engine.start(), log.events
    try:
        await engine.send_text("Remember the word banana.")
        await log.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged) and e.turn.role == "assistant" and e.turn.final
            )
        )
        before = [(t.role, t.text) for t in engine.transcript.turns()]
        simulator.knobs.expire_after_s = 0.1  # the service's time limit, now
        await log.wait_for(
            lambda e: isinstance(e, out.Connected) and e is not log.of(out.Connected)[0]
        )
        simulator.knobs.expire_after_s = None
        assert [(t.role, t.text) for t in engine.transcript.turns()][: len(before)] == before
        async with asyncio.timeout(5):  # the new session may not have read them all yet
            while (
                len(resent := [e["item"] for e in received(simulator, "conversation.item.create")])
                < 2
            ):
                await asyncio.sleep(0.01)
        assert [
            (i["role"], i["content"][0]["text"]) for i in resent[:2]
        ] == before  # context for the new session
        await engine.send_text("What was the word?")
        await log.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged)
                and e.turn.role == "assistant"
                and e.turn.final
                and "What was the word" in e.turn.text
            )
        )
        assert not [e for e in log.of(out.StateChanged) if e.state is out.State.ERROR]
    finally:
        await engine.stop()


def connection_of(sim, session_id: str):
    return next(
        c
        for c in sim.connections
        if c.sent and c.sent[0].get("session", {}).get("id") == session_id
    )


def messages_created(connection) -> list[tuple[str, str, str]]:
    items = [
        e["item"]
        for e in connection.received
        if isinstance(e, dict) and e.get("type") == "conversation.item.create"
    ]
    return [
        (i["role"], i["content"][0]["type"], i["content"][0]["text"])
        for i in items
        if i["type"] == "message"
    ]


async def test_the_automatic_renewal_resends_the_conversation_as_items(pulse):
    """Sessions the service ends 3 s after they start (RENEW_BEFORE_S + 3): the engine renews
    each once nobody is talking, and the new session gets the conversation so far."""
    from talkapp.session.keeper import RENEW_BEFORE_S

    config = SimulatorConfig(knobs=Knobs(audio_pace=0), ga_cap_s=RENEW_BEFORE_S + 3)
    async with Simulator(config) as sim, running_engines(sim) as start:
        engine, log = await start(Mode.PUSH_TO_TALK)
        await engine.send_text("Remember the word banana.")
        answer = await log.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged) and e.turn.role == "assistant" and e.turn.final
            )
        )
        after = log.events.index(answer)
        renewed = await log.wait_for(
            lambda e: isinstance(e, out.Connected) and log.events.index(e) > after, timeout=30
        )
        await engine.send_text("What was the word?")  # on the renewed session: its reply proves
        await log.wait_for(
            lambda e: (
                isinstance(e, out.TranscriptChanged)
                and e.turn.role == "assistant"
                and e.turn.final
                and "What was the word" in e.turn.text
            )
        )  # all before was read
        connection = connection_of(sim, renewed.session_id)
        assert messages_created(connection)[:2] == [
            ("user", "input_text", "Remember the word banana."),
            ("assistant", "output_text", answer.turn.text),
        ]
        assert not [
            e for e in log.of(out.Notice) if "Reconnected" in e.text
        ]  # a renewal, not a recovery
        assert connection.errors == [] and engine.state is not out.State.ERROR


def hold_the_gil(seconds: float) -> None:
    """Keep every other Python thread -- the PortAudio callbacks too -- waiting, as a stalled
    machine would: a busy loop that does not hand the GIL over within the default 5 ms."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(10 * seconds)
    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass
    finally:
        sys.setswitchinterval(before)


@pytest.mark.parametrize("on_demand", [True, False], ids=["output-on-demand", "output-running"])
async def test_waiting_in_push_to_talk_tells_of_no_dry_speaker(
    pulse, simulator, engine_for, on_demand
):
    audio = AudioOptions(echo=EchoMode.HEADSET, output_on_demand=on_demand)
    engine, log = await engine_for(Mode.PUSH_TO_TALK, audio=audio)
    await asyncio.sleep(0.3)  # the pump's first cycles
    before = engine.statistics()
    assert before.input_rate is None  # the microphone opens only when the user asks
    hold_the_gil(0.2)  # a stalled machine while nothing plays: nobody hears anything
    await asyncio.sleep(1.5)
    after = engine.statistics()
    assert after.input_callbacks == before.input_callbacks == 0
    if on_demand:  # no callback at all while waiting
        assert after.output_callbacks == before.output_callbacks
    assert after.output_underflows == 0  # a late callback in silence is no dry speaker
    assert not [e for e in log.of(out.Notice) if "ran dry" in e.text]
    assert engine.state is out.State.LISTENING


async def test_a_speaker_that_runs_dry_while_playing_moves_to_larger_blocks_and_says_so(
    pulse, simulator, engine_for
):
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    await engine.send_text("Tell me something long.")
    await log.wait_for(
        lambda e: isinstance(e, out.StateChanged) and e.state is out.State.ASSISTANT_SPEAKING
    )
    await asyncio.sleep(0.3)  # well into the reply
    hold_the_gil(0.2)  # 200 ms without a callback: many times the device buffer
    notice = await log.wait_for(
        lambda e: isinstance(e, out.Notice) and "ran dry" in e.text, timeout=20
    )
    assert "larger audio blocks (10 ms)" in notice.text
    assert notice.topic == out.PLAYBACK  # no device to pick: another device is not the fix
    assert engine.statistics().output_underflows >= 1
    assert engine.audio_block_ms == 10.0
    assert engine.state is out.State.LISTENING  # and the conversation goes on


async def test_the_microphone_opens_on_a_press_keeps_the_first_word_and_closes_when_idle(
    pulse, simulator, engine_for
):
    engine, log = await engine_for(Mode.PUSH_TO_TALK)
    engine.mic_use.linger_s = 0.5
    assert engine.statistics().input_rate is None
    speech = np.concatenate([speak(QUESTION), silence(0.2)])
    await engine.press()  # opens the microphone; the speech starts right after
    assert engine.statistics().input_rate is not None
    await feed(pulse, speech)
    await engine.release()
    await log.wait_for(lambda e: isinstance(e, out.TurnMeasured))
    appended = (
        np.frombuffer(
            b"".join(
                base64.b64decode(e["audio"])
                for e in received(simulator, "input_audio_buffer.append")
            ),
            "<i2",
        ).astype(np.float32)
        / 32768.0
    )
    voiced = np.flatnonzero(np.abs(speech) > 0.05)[0]
    first_word = speech[voiced : voiced + 4800]  # the first 200 ms of voice
    assert align(first_word, appended).similarity > 0.9  # sent whole: not clipped
    deadline = time.monotonic() + 5
    while engine.statistics().input_rate is not None:  # closes after the linger, by itself
        assert time.monotonic() < deadline, "the microphone stayed open"
        await asyncio.sleep(0.05)


async def test_hands_free_keeps_the_microphone_open_and_mute_closes_it(
    pulse, simulator, engine_for
):
    engine, _log = await engine_for(Mode.SERVER_VAD)
    assert engine.statistics().input_rate is not None
    await engine.set_muted(True)
    assert engine.statistics().input_rate is None
    sent = len(received(simulator, "input_audio_buffer.append"))
    await asyncio.sleep(0.3)
    assert len(received(simulator, "input_audio_buffer.append")) == sent  # nothing while muted
    await engine.set_muted(False)
    assert engine.statistics().input_rate is not None
    engine.mic_use.linger_s = 0.0
    await engine.set_mode(Mode.PUSH_TO_TALK)
    await asyncio.sleep(0.3)
    assert engine.statistics().input_rate is None
