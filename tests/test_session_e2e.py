"""The session client against the simulator over a real loopback WebSocket, in both dialects."""

import base64
import dataclasses

import numpy as np
import pytest
from conftest import voice_like
from fake_keys import fake_key

from talkapp.audio.pcm import WIRE_RATE, float_to_pcm16, speech_end
from talkapp.protocol import beta
from talkapp.protocol import events as ev
from talkapp.protocol.commands import CreateResponse, SendText, SessionConfig, TurnDetection
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.selection import DialectChoice, choose_dialect
from talkapp.session.client import RealtimeSession, SessionRefused
from talkapp.session.one_turn import TurnFailed, run_one_turn
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

KEY = fake_key("test-0123456789abcdef")
MANUAL = SessionConfig(turn_detection=None)  # we commit the turn ourselves


@pytest.fixture
def simulator_config():
    return SimulatorConfig(seed=1, knobs=Knobs(audio_pace=0))  # pacing is not under test


@pytest.fixture
async def retired_simulator():
    async with Simulator(SimulatorConfig(beta_mode="retired")) as sim:
        yield sim


def _endpoint(sim, model, api="auto"):
    return Endpoint(sim.url, model, choose_dialect(api, model))


@pytest.mark.parametrize(
    "model, dialect",
    [("gpt-4o-realtime-preview", "beta"), ("gpt-realtime", "ga"), ("gpt-realtime-2", "ga")],
)
async def test_a_whole_spoken_turn_in_each_dialect(simulator, utterance_pcm, model, dialect):
    endpoint = _endpoint(simulator, model)
    assert endpoint.choice.dialect.name == dialect
    result = await run_one_turn(endpoint, KEY, SessionConfig(voice="alloy"), utterance_pcm, pace=0)
    assert result.status == "completed"
    assert result.assistant_transcript and result.user_transcript
    assert result.reply_ms > 500  # real audio came back, not a token chunk
    assert (
        result.usage is not None and result.usage.output_audio > 0 and result.usage.input_audio > 0
    )
    t = result.timings
    assert t.connect > 0 and 0 <= t.first_audio <= t.done
    # the simulator saw the header exactly when the dialect needs it
    (connection,) = simulator.connections
    assert (connection.headers.get("openai-beta") == "realtime=v1") == (dialect == "beta")


async def test_the_seed_bug_a_beta_session_on_a_ga_connection_is_refused_with_the_real_error(
    simulator,
):
    """A client that dropped the beta header but kept the beta session shape (the bug users hit)."""
    header_only_fix = dataclasses.replace(beta.DIALECT, extra_headers={})
    endpoint = Endpoint(simulator.url, "gpt-realtime-2", DialectChoice(header_only_fix, "beta"))
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(endpoint, KEY, SessionConfig())
    error = refused.value.error
    assert (error.code, error.param) == ("missing_required_parameter", "session.type")
    assert error.message == "Missing required parameter: 'session.type'."
    assert "GA" in str(refused.value) and "--api ga" in str(refused.value)


async def test_the_seed_bug_fixed_auto_routing_gets_a_working_ga_session(simulator):
    async with await RealtimeSession.open(
        _endpoint(simulator, "gpt-realtime-2"), KEY, SessionConfig()
    ) as session:
        assert session.started.model == "gpt-realtime-2"
        await session.send(SendText("Hello there"))
        await session.send(CreateResponse())
        seen = []
        async for event in session.events():
            seen.append(event)
            if isinstance(event, ev.ResponseDone):
                break
    assert any(isinstance(e, ev.TranscriptDelta) and e.role == "assistant" for e in seen)
    assert seen[-1].status == "completed"


async def test_a_beta_header_on_a_ga_only_model_is_refused_in_plain_words(simulator):
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(
            _endpoint(simulator, "gpt-realtime-2", api="beta"), KEY, SessionConfig()
        )
    assert refused.value.error.code == "invalid_beta"
    assert refused.value.closed is not None and refused.value.closed.code == 4000
    assert "does not speak the beta dialect" in str(refused.value)


async def test_the_retired_beta_dialect_is_refused_like_openai_does_today(retired_simulator):
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(
            _endpoint(retired_simulator, "gpt-4o-realtime-preview"), KEY, SessionConfig()
        )
    assert refused.value.error.code == "beta_api_shape_disabled"
    assert refused.value.closed.code == 4000
    assert "retired" in str(refused.value) and "--api ga" in str(refused.value)


async def test_forcing_ga_reaches_a_beta_era_model_on_the_retired_service(
    retired_simulator, utterance_pcm
):
    result = await run_one_turn(
        _endpoint(retired_simulator, "gpt-realtime", api="ga"),
        KEY,
        SessionConfig(),
        utterance_pcm,
        pace=0,
    )
    assert result.status == "completed" and result.endpoint.choice.describe() == "GA"


async def test_a_ga_session_on_a_beta_only_endpoint_names_the_beta_setting(simulator):
    """A beta-era server answers a GA session.update with 'Unknown parameter: session.type'.
    The simulator is beta for gpt-4o previews when the header is sent; we send the header
    with a GA body, the mirror image of the seed bug."""
    beta_headers_ga_body = dataclasses.replace(
        choose_dialect("ga", "m").dialect, extra_headers=beta.DIALECT.extra_headers
    )
    endpoint = Endpoint(
        simulator.url, "gpt-4o-realtime-preview", DialectChoice(beta_headers_ga_body, "ga")
    )
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(endpoint, KEY, SessionConfig())
    assert refused.value.error.code == "unknown_parameter"
    assert "--api beta" in str(refused.value)


async def test_a_wrong_key_is_refused_and_never_repeated():
    async with Simulator(SimulatorConfig(api_keys=frozenset({fake_key("the-right-one")}))) as sim:
        with pytest.raises(SessionRefused) as refused:
            await RealtimeSession.open(
                _endpoint(sim, "gpt-realtime"), fake_key("wrong-key-0123456789"), SessionConfig()
            )
    assert refused.value.error.code == "invalid_api_key"
    assert refused.value.closed.code == 3000
    assert "sk-wrong" not in str(refused.value) and "OPENAI_API_KEY" in str(refused.value)


async def test_an_unknown_model_is_refused_by_name(simulator):
    with pytest.raises(SessionRefused, match="gpt-nope"):
        await RealtimeSession.open(_endpoint(simulator, "gpt-nope"), KEY, SessionConfig())


async def test_nothing_listening_is_a_plain_refusal():
    endpoint = Endpoint(
        "ws://127.0.0.1:9/v1", "gpt-realtime", choose_dialect("auto", "gpt-realtime")
    )
    with pytest.raises(SessionRefused, match="cannot reach 127.0.0.1:9"):
        await RealtimeSession.open(endpoint, KEY, SessionConfig())


async def test_a_connection_dropped_mid_reply_fails_the_turn_with_a_clear_message(
    simulator, utterance_pcm
):
    simulator.knobs.drop_after_audio_deltas = 2
    with pytest.raises(TurnFailed, match="connection dropped"):
        await run_one_turn(
            _endpoint(simulator, "gpt-realtime"), KEY, SessionConfig(), utterance_pcm, pace=0
        )


async def test_unknown_and_malformed_server_events_do_not_break_the_turn(simulator, utterance_pcm):
    simulator.knobs.send_unknown_event = True
    simulator.knobs.send_malformed = True
    result = await run_one_turn(
        _endpoint(simulator, "gpt-realtime"), KEY, SessionConfig(), utterance_pcm, pace=0
    )
    assert result.status == "completed" and result.reply_ms > 0


async def test_too_little_audio_is_refused_before_sending():
    with pytest.raises(TurnFailed, match="at least 100 ms"):
        await run_one_turn(
            Endpoint("ws://127.0.0.1:9/v1", "m", choose_dialect("ga", "m")),
            KEY,
            SessionConfig(),
            b"\x00\x00" * 100,
        )


@pytest.mark.parametrize("model", ["gpt-4o-realtime-preview", "gpt-realtime"])
async def test_reply_audio_is_exactly_the_audio_the_service_sent(simulator, utterance_pcm, model):
    result = await run_one_turn(
        _endpoint(simulator, model), KEY, SessionConfig(), utterance_pcm, pace=0
    )
    deltas = [
        e
        for e in simulator.connections[0].sent
        if isinstance(e, dict)
        and e["type"] in ("response.audio.delta", "response.output_audio.delta")
    ]
    assert len(deltas) > 1
    assert result.reply_pcm == b"".join(base64.b64decode(e["delta"]) for e in deltas)


async def test_the_audio_we_streamed_is_what_the_service_received(simulator, utterance_pcm):
    await run_one_turn(_endpoint(simulator, "gpt-realtime"), KEY, MANUAL, utterance_pcm, pace=0)
    appends = [
        e
        for e in simulator.connections[0].received
        if isinstance(e, dict) and e["type"] == "input_audio_buffer.append"
    ]
    sent = b"".join(base64.b64decode(e["audio"]) for e in appends)
    assert sent == utterance_pcm[: speech_end(utterance_pcm)]  # the speech; not its silent tail
    assert len(utterance_pcm) - len(sent) == len(
        float_to_pcm16(np.zeros(int(0.2 * WIRE_RATE), np.float32))
    )
    types = [e["type"] for e in simulator.connections[0].received if isinstance(e, dict)]
    assert types[0] == "session.update" and types[-2:] == [
        "input_audio_buffer.commit",
        "response.create",
    ]


@pytest.mark.parametrize("kind", ["server_vad", "semantic_vad"])
async def test_with_service_turn_detection_the_service_ends_the_turn(
    simulator, utterance_pcm, kind
):
    config = SessionConfig(
        turn_detection=TurnDetection(kind=kind, silence_duration_ms=300, eagerness="high")
    )
    result = await run_one_turn(
        _endpoint(simulator, "gpt-realtime"), KEY, config, utterance_pcm, pace=0
    )
    assert result.status == "completed" and result.reply_ms > 0
    types = [e["type"] for e in simulator.connections[0].received if isinstance(e, dict)]
    assert "input_audio_buffer.commit" not in types and "response.create" not in types
    assert (
        result.timings.first_audio > 0
    )  # counted from the end of the speech, through the VAD's silence


async def test_service_vad_and_our_commit_count_from_the_same_end_of_speech(simulator):
    """An utterance whose silent tail outlasts the service VAD's silence: the service answers
    while we still stream that tail, yet its latencies count from the end of the speech, like
    the manual commit's, so neither reads negative (the Compare table once showed -178 ms)."""
    speech = np.concatenate([voice_like(0.6), np.zeros(int(0.8 * WIRE_RATE), np.float32)])
    pcm = float_to_pcm16(speech)
    vad = SessionConfig(turn_detection=TurnDetection(kind="server_vad", silence_duration_ms=200))
    for config in (vad, MANUAL):
        result = await run_one_turn(
            _endpoint(simulator, "gpt-realtime"), KEY, config, pcm, pace=1.0
        )
        assert result.timings.first_audio > 0 and result.timings.done > result.timings.first_audio


@pytest.mark.parametrize(
    "url",
    [
        "ws://192.0.2.10:8765/v1",  # a remote host, unencrypted
        "ws://example.test/v1",
    ],
)
async def test_plain_ws_to_another_host_is_refused_before_any_key_leaves(url):
    with pytest.raises(SessionRefused, match="unencrypted ws://"):
        await RealtimeSession.open(
            Endpoint(url, "gpt-realtime", choose_dialect("auto", "gpt-realtime")),
            KEY,
            SessionConfig(),
        )


async def test_plain_ws_to_loopback_or_when_allowed_is_fine(simulator):
    endpoint = Endpoint(
        simulator.url.replace("127.0.0.1", "localhost"),
        "gpt-realtime",
        choose_dialect("auto", "gpt-realtime"),
    )
    async with await RealtimeSession.open(endpoint, KEY, SessionConfig()) as session:
        assert session.started is not None
    allowed = Endpoint(
        "ws://192.0.2.10:9/v1",
        "gpt-realtime",
        choose_dialect("auto", "gpt-realtime"),
        allow_insecure=True,
    )
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(allowed, KEY, SessionConfig(), timeout=0.5)
    assert "unencrypted" not in str(refused.value)  # it tried (and found nobody there)
