"""The simulator's Gemini Live door, with Google's own `google-genai` SDK as the client (an
independent peer, as the openai SDK is for the OpenAI doors), and raw frames for its refusals.
Every server message is checked against the SDK's `LiveServerMessage` type."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from gemini_types import validate_server_message
from google import genai
from google.genai import types
from tls_cert import loopback_tls
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from talkapp.audio.pcm import float_to_pcm16, pcm16_to_float, resample
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.simulator.voice import silence, synthesize

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
PATH = "/ws/google.ai.generativelanguage.{}.GenerativeService.BidiGenerateContent"
GUARD_S = 20.0  # hang guard only


def key() -> str:
    return "test-" + "gemini-" + "0123456789"  # made at run time; not a key to anything


def speech_16k(seconds: float = 1.5) -> bytes:
    spoken = synthesize("one two three four five", seed=3)[: int(24000 * 2 * seconds)]
    pcm = spoken + silence(1.5)
    return float_to_pcm16(resample(pcm16_to_float(pcm), 24000, 16000))


@pytest.fixture
async def tls_sim(tmp_path):
    server_tls, client_tls = loopback_tls(tmp_path)
    config = SimulatorConfig(knobs=Knobs(audio_pace=0))
    async with Simulator(config, tls=server_tls) as sim:
        yield sim, client_tls


def sdk_client(sim: Simulator, client_tls, version: str = "v1beta") -> genai.Client:
    return genai.Client(
        api_key=key(),
        http_options={
            "base_url": f"https://127.0.0.1:{sim.port}",
            "api_version": version,
            "async_client_args": {"ssl": client_tls},
        },
    )


def checked(sim: Simulator) -> list[dict]:
    """Every message the door sent, each valid for Google's types."""
    sent = [message for record in sim.connections for message in record.sent]
    for message in sent:
        validate_server_message(json.dumps(message))
    return sent


@pytest.mark.parametrize("version", ["v1beta", "v1"])
async def test_googles_sdk_completes_a_spoken_turn(tls_sim, version):
    sim, client_tls = tls_sim
    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore")
            )
        ),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
    )
    audio, said, heard, usage, complete = bytearray(), [], [], None, False
    async with asyncio.timeout(GUARD_S):
        async with sdk_client(sim, client_tls, version).aio.live.connect(
            model=MODEL, config=config
        ) as session:
            pcm = speech_16k()
            for n in range(0, len(pcm), 640):
                await session.send_realtime_input(
                    audio=types.Blob(data=pcm[n : n + 640], mime_type="audio/pcm;rate=16000")
                )
            async for message in session.receive():
                content = message.server_content
                if message.usage_metadata is not None:
                    usage = message.usage_metadata
                if content is None:
                    continue
                for part in (content.model_turn.parts or []) if content.model_turn else []:
                    if part.inline_data is not None:
                        audio += part.inline_data.data
                if content.output_transcription is not None:
                    said.append(content.output_transcription.text)
                if content.input_transcription is not None:
                    heard.append(content.input_transcription.text)
                complete = bool(content.turn_complete)
    assert complete and len(audio) > 24000  # more than half a second of 24 kHz reply
    assert "".join(said).startswith(f"This is the TalkApp simulator speaking as {MODEL}")
    assert heard and "s of speech" in heard[0]
    assert usage is not None and usage.response_token_count and usage.prompt_token_count
    assert {d.modality for d in usage.prompt_tokens_details} == {
        types.MediaModality.AUDIO,
        types.MediaModality.TEXT,
    }
    record = sim.connections[-1]
    assert record.headers["x-goog-api-key"] != key()  # recorded masked
    assert record.received[0]["setup"]["model"] == f"models/{MODEL}"
    checked(sim)


async def test_manual_activity_and_a_tool_call_round_trip(tls_sim):
    sim, client_tls = tls_sim
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="The weather",
        parameters_json_schema={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        tools=[types.Tool(function_declarations=[weather])],
        realtime_input_config=types.RealtimeInputConfig(
            automatic_activity_detection=types.AutomaticActivityDetection(disabled=True)
        ),
        session_resumption=types.SessionResumptionConfig(),
    )
    async with asyncio.timeout(GUARD_S):
        async with sdk_client(sim, client_tls).aio.live.connect(
            model=MODEL, config=config
        ) as session:
            await session.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text="get weather in Oslo")]),
                turn_complete=True,
            )
            call = None
            async for message in session.receive():
                if message.tool_call is not None:
                    call = message.tool_call.function_calls[0]
                    break
            assert call is not None and call.name == "get_weather" and call.args == {"city": "Oslo"}
            await session.send_tool_response(
                function_responses=[
                    types.FunctionResponse(id=call.id, name=call.name, response={"temp_c": 4})
                ]
            )
            texts, handle = [], None
            async for message in session.receive():
                if message.session_resumption_update is not None:
                    handle = message.session_resumption_update.new_handle
                content = message.server_content
                if content is not None and content.model_turn is not None:
                    texts.append(content)
            # A spoken turn in manual mode: activityStart, audio, activityEnd.
            await session.send_realtime_input(activity_start=types.ActivityStart())
            await session.send_realtime_input(
                audio=types.Blob(data=speech_16k(1.0), mime_type="audio/pcm;rate=16000")
            )
            await session.send_realtime_input(activity_end=types.ActivityEnd())
            spoken_turn_done = False
            async for message in session.receive():
                if message.server_content is not None and message.server_content.turn_complete:
                    spoken_turn_done = True
                if message.session_resumption_update is not None:
                    handle = message.session_resumption_update.new_handle or handle
    assert texts and spoken_turn_done
    sent = checked(sim)
    replies = [m for m in sent if "toolCall" in m]
    assert replies[0]["toolCall"]["functionCalls"][0]["id"] == call.id
    update = [m for m in sent if "sessionResumptionUpdate" in m]
    assert update and update[-1]["sessionResumptionUpdate"]["resumable"] is True
    assert handle is not None


async def raw(sim: Simulator, path: str, headers: dict[str, str], first: dict | None):
    """Frames until the door closes; the close code and reason."""
    url = f"ws://127.0.0.1:{sim.port}{path}"
    async with asyncio.timeout(GUARD_S):
        async with connect(url, additional_headers=headers) as ws:
            try:
                if first is not None:
                    await ws.send(json.dumps(first))
                while True:
                    await ws.recv()
            except ConnectionClosed as closed:
                assert closed.rcvd is not None
                return closed.rcvd.code, closed.rcvd.reason


@pytest.fixture
async def plain_sim():
    async with Simulator(SimulatorConfig(api_keys=frozenset({key()}))) as sim:
        yield sim


async def test_refusals_are_closes_with_googles_reasons(plain_sim):
    path, good = PATH.format("v1beta"), {"x-goog-api-key": key()}
    setup = {"setup": {"model": f"models/{MODEL}"}}
    assert (await raw(plain_sim, path, {}, setup))[0] == 1008
    code, reason = await raw(plain_sim, path, {"x-goog-api-key": "wrong"}, setup)
    assert (code, reason) == (1008, "API key not valid. Please pass a valid API key.")
    code, reason = await raw(plain_sim, path, good, {"setup": {"model": "models/gemini-2.5-flash"}})
    assert code == 1008 and "not supported for bidiGenerateContent" in reason
    code, reason = await raw(plain_sim, path, good, {"setup": {"model": f"models/{MODEL}", "x": 1}})
    assert code == 1007 and 'Unknown name "x"' in reason
    code, _ = await raw(plain_sim, path, good, {"realtimeInput": {"activityStart": {}}})
    assert code == 1007  # setup first
    # The key is also taken as `?key=` (as Google does); the recorder masks it.
    assert (await raw(plain_sim, f"{path}?key={key()}", {}, {"setup": {"model": 7}}))[0] == 1007
    assert key() not in plain_sim.connections[-1].path


async def test_activity_control_is_refused_while_detection_is_on(plain_sim):
    path, good = PATH.format("v1beta"), {"x-goog-api-key": key()}
    url = f"ws://127.0.0.1:{plain_sim.port}{path}"
    async with asyncio.timeout(GUARD_S), connect(url, additional_headers=good) as ws:
        await ws.send(json.dumps({"setup": {"model": f"models/{MODEL}"}}))
        assert json.loads(await ws.recv()) == {"setupComplete": {}}
        await ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd.code == 1007
    assert "automatic activity detection" in closed.value.rcvd.reason


async def test_speech_over_a_reply_interrupts_it_then_the_turn_completes(plain_sim):
    plain_sim.knobs.audio_pace = 1.0  # a reply long enough to talk over
    path, good = PATH.format("v1"), {"x-goog-api-key": key()}
    url = f"ws://127.0.0.1:{plain_sim.port}{path}"
    pcm = speech_16k(1.0)
    chunk = lambda data: {
        "realtimeInput": {
            "audio": {"data": base64.b64encode(data).decode(), "mimeType": "audio/pcm;rate=16000"}
        }
    }
    async with asyncio.timeout(GUARD_S), connect(url, additional_headers=good) as ws:
        await ws.send(json.dumps({"setup": {"model": f"models/{MODEL}"}}))
        await ws.recv()
        for n in range(0, len(pcm), 640):
            await ws.send(json.dumps(chunk(pcm[n : n + 640])))
        while "serverContent" not in (message := json.loads(await ws.recv())) or (
            "modelTurn" not in message["serverContent"]
        ):
            pass
        for n in range(0, len(pcm) // 2, 640):
            await ws.send(json.dumps(chunk(pcm[n : n + 640])))
        seen = []
        while {"serverContent": {"turnComplete": True}} not in seen:
            seen.append(json.loads(await ws.recv()))
    assert {"serverContent": {"interrupted": True}} in seen
    interrupted_at = seen.index({"serverContent": {"interrupted": True}})
    assert seen[interrupted_at + 1] == {"serverContent": {"turnComplete": True}}
    checked(plain_sim)
