"""The baseline for bench/audio_latency.py: a minimal voice client on the official `openai` SDK.

Written the obvious way, as a developer following the SDK's realtime examples would: one
`client.realtime.connect(...)`, sounddevice `InputStream` / `OutputStream` at the wire rate
(24 kHz, int16, mono) with 20 ms blocks and default latency; the input callback hands each
block to the asyncio loop through a queue, a task appends it to the input buffer; reply audio
goes into a bytearray under a lock that the output callback drains. Push-to-talk: press clears
the input buffer (and interrupts a reply), release commits and asks for a response. Hands-free
(server or semantic VAD): the service's `input_audio_buffer.speech_started` interrupts the reply
(drop queued audio, truncate to the bytes the output callback handed over).

Nothing here is tuned. The only additions are bench instrumentation, kept off the audio path:
each callback is timed, its underflow flags are counted as TalkApp counts its own, and stamps
(time.monotonic) are kept where the bench compares clients (delta received, commit/truncate sent,
barge-in decided).
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time

import numpy as np
from openai import AsyncOpenAI

# Bench instrumentation only: underflows in a stream's start-up fill are told apart by TalkApp's
# rule.
from talkapp.audio.streams import start_fill_done

RATE = 24_000
BLOCK = 480  # 20 ms


class CallbackLog:
    """Per-callback trace in preallocated arrays: start time, duration, frames of reply
    audio delivered (output), the block's peak, how long the callback waited to start (wall
    clock at entry minus PortAudio's `currentTime`, taken in C just before the call: mostly the
    wait for the GIL) and whether PortAudio flagged an xrun. One writer (the callback thread)."""

    def __init__(self, size: int = 200_000) -> None:
        self.start = np.zeros(size)
        self.duration = np.zeros(size)
        self.delivered = np.zeros(size, np.int32)
        self.frames = np.zeros(size, np.int32)
        self.peak = np.zeros(size, np.float32)
        self.wait = np.zeros(size, np.float32)
        self.xrun = np.zeros(size, np.bool_)
        self.n = 0

    def add(
        self,
        start: float,
        duration: float,
        frames: int,
        delivered: int,
        peak: float,
        wait: float = 0.0,
        xrun: bool = False,
    ) -> None:
        i = self.n
        if i < len(self.start):
            self.start[i], self.duration[i], self.frames[i] = start, duration, frames
            self.delivered[i], self.peak[i] = delivered, peak
            self.wait[i], self.xrun[i] = wait, xrun
            self.n = i + 1

    def export(self) -> dict:
        n = self.n
        keys = ("start", "duration", "frames", "delivered", "peak", "wait", "xrun")
        return {k: getattr(self, k)[:n].copy() for k in keys}


class BaselineClient:
    """Runs on its own asyncio loop thread; `press`/`release`/`set_mode` are coroutines for it."""

    name = "baseline"
    block_ms = 20.0

    def __init__(self, ws_url: str, http_url: str, stamps: list) -> None:
        import sounddevice as sd  # after the bench has set up the sound server's environment

        self._sd = sd
        self.client = AsyncOpenAI(api_key="sk-bench", base_url=http_url, websocket_base_url=ws_url)
        self.stamps = stamps  # (t, kind, detail): shared with the bench driver
        self.in_log, self.out_log = CallbackLog(), CallbackLog()
        self.mode = "ptt"
        self.sending = False
        self.out_lock = threading.Lock()
        self.out_buf = bytearray()
        self.item_id: str | None = None
        self.item_played = 0  # bytes of the current item handed to the output callback
        self.response_id: str | None = None
        self.cancelled: set[str] = set()
        self.deltas = 0
        self.underflows = 0
        self.start_underflows = 0
        self.starting = True
        self.overflows = 0
        self.connected = asyncio.Event()

    # ---- audio callbacks (PortAudio threads) ----

    def _mic_callback(self, indata, frames, time_info, status) -> None:
        wait = time.time() - time_info.currentTime
        t0 = time.monotonic()
        if status.input_overflow:
            self.overflows += 1
        self.loop.call_soon_threadsafe(self.mic_queue.put_nowait, bytes(indata))
        t1 = time.monotonic()
        self.in_log.add(
            t0,
            t1 - t0,
            frames,
            0,
            float(np.abs(indata).max()) / 32768.0,
            wait,
            bool(status.input_overflow),
        )

    def _speaker_callback(self, outdata, frames, time_info, status) -> None:
        wait = time.time() - time_info.currentTime
        t0 = time.monotonic()
        if status.output_underflow:  # counted as TalkApp's are: start-up fill apart
            if self.starting:
                self.start_underflows += 1
            else:
                self.underflows += 1
        if self.starting and start_fill_done(
            time_info.outputBufferDacTime - time_info.currentTime, frames, RATE
        ):
            self.starting = False
        wanted = frames * 2
        with self.out_lock:
            chunk = bytes(self.out_buf[:wanted])
            del self.out_buf[:wanted]
            self.item_played += len(chunk)
        n = len(chunk) // 2
        outdata[:n, 0] = np.frombuffer(chunk, np.int16)
        outdata[n:] = 0
        t1 = time.monotonic()
        self.out_log.add(
            t0,
            t1 - t0,
            frames,
            n,
            float(np.abs(outdata).max()) / 32768.0,
            wait,
            bool(status.output_underflow),
        )

    # ---- session ----

    async def run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.mic_queue: asyncio.Queue[bytes] = asyncio.Queue()
        async with self.client.realtime.connect(model="gpt-realtime") as conn:
            self.conn = conn
            await conn.session.update(session=self._session(None))
            mic = self._sd.InputStream(
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=BLOCK,
                callback=self._mic_callback,
            )
            speaker = self._sd.OutputStream(
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=BLOCK,
                callback=self._speaker_callback,
            )
            with mic, speaker:
                self.connected.set()
                await asyncio.gather(self._send_mic(), self._receive())

    def _session(self, turn_detection: dict | None) -> dict:
        return {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": RATE},
                    "turn_detection": turn_detection,
                    "transcription": {"model": "gpt-4o-mini-transcribe"},
                },
                "output": {"format": {"type": "audio/pcm", "rate": RATE}},
            },
        }

    async def _send_mic(self) -> None:
        while True:
            data = await self.mic_queue.get()
            if self.sending:
                await self.conn.input_audio_buffer.append(audio=base64.b64encode(data).decode())

    async def _receive(self) -> None:
        async for event in self.conn:
            match event.type:
                case "response.created":
                    self.response_id = event.response.id
                case "response.output_audio.delta":
                    self.deltas += 1
                    self.stamps.append((time.monotonic(), "delta", event.response_id))
                    if event.response_id in self.cancelled:
                        continue
                    pcm = base64.b64decode(event.delta)
                    with self.out_lock:
                        if event.item_id != self.item_id:
                            self.item_id, self.item_played = event.item_id, 0
                        self.out_buf.extend(pcm)
                case "response.done":
                    if event.response.id == self.response_id:
                        self.response_id = None
                case "input_audio_buffer.speech_started":
                    self.stamps.append((time.monotonic(), "decided", "server"))
                    await self._interrupt(cancel=False)  # the service cancels its own response

    async def _interrupt(self, cancel: bool) -> None:
        with self.out_lock:
            playing = bool(self.out_buf)
            self.out_buf.clear()
            heard_ms = self.item_played * 1000 // (2 * RATE)
        if cancel and self.response_id is not None:
            self.cancelled.add(self.response_id)
            await self.conn.response.cancel(response_id=self.response_id)
        if playing and self.item_id is not None:
            self.stamps.append((time.monotonic(), "truncate", heard_ms))
            await self.conn.conversation.item.truncate(
                item_id=self.item_id, content_index=0, audio_end_ms=heard_ms
            )

    # ---- commands (on the loop) ----

    async def set_mode(self, mode: str) -> None:
        turn = (
            None
            if mode in ("ptt", "local_vad")
            else (
                {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                }
                if mode == "server_vad"
                else {"type": "semantic_vad", "eagerness": "auto"}
            )
        )
        self.mode = mode
        await self.conn.session.update(session=self._session(turn))
        self.sending = turn is not None

    async def press(self) -> None:
        self.stamps.append((time.monotonic(), "decided", "ptt"))
        await self._interrupt(cancel=True)
        await self.conn.input_audio_buffer.clear()
        self.sending = True

    async def release(self) -> None:
        self.stamps.append((time.monotonic(), "release_on_loop", None))
        self.sending = False
        await self.conn.input_audio_buffer.commit()
        self.stamps.append((time.monotonic(), "commit", None))
        await self.conn.response.create()

    # ---- for the bench driver ----

    def idle(self) -> bool:
        with self.out_lock:
            return not self.out_buf and self.response_id is None

    def statistics(self) -> dict:
        return {
            "output_underflows": self.underflows,
            "output_start_underflows": self.start_underflows,
            "input_overflows": self.overflows,
            "ring_underruns": None,
            "ring_overruns": None,
            "output_rate": RATE,
            "input_rate": RATE,
            "realtime": False,
        }
