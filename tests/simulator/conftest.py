"""Shared helpers for the simulator tests: a running simulator and a raw-JSON WebSocket client."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from contextlib import asynccontextmanager

import pytest
import webrtcvad
from fake_keys import fake_key
from protocol_fixtures import FIXTURES
from websockets.asyncio.client import ClientConnection, connect

from talkapp.audio.pcm import float_to_pcm16, pcm16_to_float, resample
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.simulator.voice import silence, synthesize

GUARD_S = 10.0  # hang guard only; no test asserts on time
KEY = fake_key("test-0123456789abcdef")

GA_MODEL, BETA_MODEL = "gpt-realtime", "gpt-4o-realtime-preview"
MANUAL = {
    "ga": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
    "beta": {"turn_detection": None},
}


def fast_config(**overrides) -> SimulatorConfig:
    """audio_pace=0: stream as fast as possible where pacing does not matter."""
    knobs = overrides.pop("knobs", Knobs(audio_pace=0))
    return SimulatorConfig(knobs=knobs, **overrides)


@pytest.fixture
async def sim():
    async with Simulator(fast_config()) as running:
        yield running


class Client:
    """A raw-JSON client over a real WebSocket (no codec of ours in between)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict] = []

    async def send(self, event: dict) -> None:
        await self.ws.send(json.dumps(event))

    async def recv(self) -> dict:
        event = json.loads(await asyncio.wait_for(self.ws.recv(), GUARD_S))
        self.events.append(event)
        return event

    async def until(self, done: str | Callable[[dict], bool]) -> list[dict]:
        """Events up to and including the first matching one."""
        match = (lambda e: e["type"] == done) if isinstance(done, str) else done
        seen = []
        while True:
            seen.append(await self.recv())
            if match(seen[-1]):
                return seen

    async def turn(self) -> list[dict]:
        """Events up to the end of a response (rate_limits.updated follows response.done)."""
        return await self.until("rate_limits.updated")

    async def append(self, pcm: bytes, chunk_ms: int = 100) -> None:
        step = 48 * chunk_ms
        for i in range(0, len(pcm), step):
            await self.send({"type": "input_audio_buffer.append", "audio": b64(pcm[i : i + step])})


@asynccontextmanager
async def client(
    sim: Simulator,
    model: str = GA_MODEL,
    *,
    dialect: str = "ga",
    headers: dict | None = None,
    query: str | None = None,
):
    """Connect, read session.created (unless refused), yield a Client."""
    given = {"Authorization": f"Bearer {KEY}"} if headers is None else headers
    if dialect == "beta":
        given = {**given, "OpenAI-Beta": "realtime=v1"}
    url = f"{sim.url}/realtime?{query if query is not None else 'model=' + model}"
    # max_queue=None: keep reading while closing, or a mid-stream close waits for close_timeout
    async with connect(url, additional_headers=given, max_size=None, max_queue=None) as ws:
        yield Client(ws)


@asynccontextmanager
async def session(
    sim: Simulator, dialect: str = "ga", model: str | None = None, update: dict | None = None
):
    """A connected client whose session.created (and optional session.updated) were read."""
    model = model or (GA_MODEL if dialect == "ga" else BETA_MODEL)
    async with client(sim, model, dialect=dialect) as c:
        assert (await c.recv())["type"] == "session.created"
        if update is not None:
            await c.send({"type": "session.update", "session": update})
            assert (await c.recv())["type"] == "session.updated"
        yield c


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def collapsed(events: list[dict]) -> list[str]:
    """Event types with runs of the same delta type collapsed (interleaved deltas → one each)."""
    out: list[str] = []
    for t in types(events):
        if t.endswith(".delta") and t in out[-2:]:
            continue
        out.append(t)
    return out


def spoken(
    seconds_before: float = 0.5,
    text: str = "Could you tell me the weather today please",
    after: float = 1.5,
) -> bytes:
    """Input audio: silence, the synthesized voice, silence (enough for server VAD to end the
    turn)."""
    return silence(seconds_before) + synthesize(text, voice="ash") + silence(after)


def load(dialect: str, pattern: str) -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted((FIXTURES / dialect).glob(pattern))]


def frames_16k(pcm24: bytes, frame_ms: int = 30) -> list[bytes]:
    pcm16k = float_to_pcm16(resample(pcm16_to_float(pcm24), 24_000, 16_000))
    size = 16 * frame_ms * 2
    return [pcm16k[i : i + size] for i in range(0, len(pcm16k) - size + 1, size)]


def speech_share(pcm24: bytes, mode: int = 2) -> float:
    vad = webrtcvad.Vad(mode)
    frames = frames_16k(pcm24)
    return sum(vad.is_speech(f, 16_000) for f in frames) / len(frames)
