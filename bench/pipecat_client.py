"""pipecat as a peer in bench/audio_latency.py: its realtime voice bot, run by pipecat's own venv.

    PIPECAT_VENV/bin/python bench/pipecat_client.py WS_URL OUT.json

Set up as pipecat's realtime and local-audio examples do, untuned: OpenAIRealtimeLLMService
(`base_url` = the simulator's URL + `/realtime`, server VAD with its default parameters, input
transcription), LocalAudioTransport on the default devices (the sound server's environment comes
from the parent), an LLMContextAggregatorPair around the service, one PipelineWorker under a
WorkerRunner. Written against pipecat 1.14 (its names, not those of later examples). The bot
does not greet: the person speaks first, as with the other clients.

Only instrumentation is added, observing without changing what pipecat does (class-level
wrappers installed before the pipeline is built):
  - each blocking write of reply audio to the PyAudio output stream is timed (PortAudio's
    underflow flag stays unread: asking PyAudio for it makes its error path close the stream, so
    for pipecat the recording alone says whether audio dropped out);
  - the input callback is timed, with its block's peak and overflow flag;
  - audio deltas received, server VAD's speech_started, truncates sent, responses begun and done,
    the bot starting and stopping to speak, and the output's queue flushed by an interruption are
    stamped (time.monotonic, the same clock as the bench).

Stamps go to stdout as JSON lines ({"t", "kind", "detail"}) as they happen; when stdin closes, the
bot stops and OUT.json gets the traces and counts (bench/pipecat_peer.py reads both).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time

import numpy as np
import pyaudio
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.services.openai.realtime import events
from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.local.audio import (
    LocalAudioInputTransport,
    LocalAudioTransport,
    LocalAudioTransportParams,
)
from pipecat.workers.runner import WorkerRunner

OUT_RATE = 24_000  # pipecat's default output rate, the wire's
CHUNK_S = 0.04  # pipecat writes 4 x 10 ms chunks (TransportParams.audio_out_10ms_chunks)

_lock = threading.Lock()


def stamp(kind: str, detail=None, t: float | None = None) -> None:
    line = json.dumps({"t": time.monotonic() if t is None else t, "kind": kind, "detail": detail})
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Trace:
    """Per-call trace in the shape of the bench's CallbackLog: start, duration, frames, frames of
    reply audio, peak, wait (unknown here: 0), xrun flag."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, float, int, int, float, float, bool]] = []

    def add(self, start, duration, frames, delivered, peak, xrun) -> None:
        self.rows.append((start, duration, frames, delivered, peak, 0.0, xrun))

    def export(self) -> dict:
        keys = ("start", "duration", "frames", "delivered", "peak", "wait", "xrun")
        return {k: [row[i] for row in self.rows] for i, k in enumerate(keys)}


OUT, IN = Trace(), Trace()
COUNTS: dict[str, float] = {"input_overflows": 0}
CPU_AT_READY: list[float] = []  # this process's CPU time when the session was first ready


def peak16(data: bytes) -> float:
    pcm = np.frombuffer(data, np.int16)
    return float(np.abs(pcm.astype(np.int32)).max()) / 32768.0 if len(pcm) else 0.0


def instrument() -> None:
    stream = pyaudio.PyAudio.Stream  # what PyAudio.open makes (not `pyaudio.Stream`)
    write = stream.write

    def timed_write(self, frames, *args, **kwargs):
        t0 = time.monotonic()
        write(self, frames, *args, **kwargs)
        t1 = time.monotonic()
        n = len(frames) // 2
        OUT.add(t0, t1 - t0, n, n, peak16(frames), False)

    stream.write = timed_write

    callback = LocalAudioInputTransport._audio_in_callback

    def timed_callback(self, in_data, frame_count, time_info, status):
        t0 = time.monotonic()
        result = callback(self, in_data, frame_count, time_info, status)
        t1 = time.monotonic()
        overflow = bool(status & pyaudio.paInputOverflow)
        COUNTS["input_overflows"] += overflow
        IN.add(t0, t1 - t0, frame_count, 0, peak16(in_data), overflow)
        return result

    LocalAudioInputTransport._audio_in_callback = timed_callback

    speaking = [False]

    def before(cls, name: str, kind: str, detail=None) -> None:
        original = getattr(cls, name)

        async def wrapped(self, *args, **kwargs):
            stamp(kind, detail)
            if kind in ("speaking", "silent"):
                speaking[0] = kind == "speaking"
            return await original(self, *args, **kwargs)

        setattr(cls, name, wrapped)

    service = OpenAIRealtimeLLMService
    before(service, "_handle_evt_audio_delta", "delta")
    before(service, "_handle_evt_speech_started", "decided", "server")
    before(service, "_handle_evt_response_created", "response")
    before(service, "_handle_evt_response_done", "done")
    sender = BaseOutputTransport.MediaSender
    before(sender, "_bot_started_speaking", "speaking")
    before(sender, "_bot_stopped_speaking", "silent")

    flush = sender.handle_interruptions

    async def flushed(self, frame):
        playing = speaking[0]
        await flush(self, frame)
        if playing:
            # nothing more will be written: a silent entry in the output trace, where the bench
            # looks for the output going silent after a barge-in was decided
            OUT.add(time.monotonic(), 0.0, int(CHUNK_S * OUT_RATE), 0, 0.0, False)

    sender.handle_interruptions = flushed

    send = service.send_client_event

    async def sent(self, event):
        await send(self, event)
        if event.type == "conversation.item.truncate":
            stamp("truncate", event.audio_end_ms)

    service.send_client_event = sent

    updated = service._handle_evt_session_updated

    async def ready(self, evt):
        await updated(self, evt)
        if not CPU_AT_READY:
            CPU_AT_READY.append(time.process_time())
        stamp("ready")

    service._handle_evt_session_updated = ready


async def run(ws_url: str) -> None:
    transport = LocalAudioTransport(
        LocalAudioTransportParams(audio_in_enabled=True, audio_out_enabled=True)
    )
    llm = OpenAIRealtimeLLMService(
        api_key="sk-bench",
        base_url=ws_url.rstrip("/") + "/realtime",
        settings=OpenAIRealtimeLLMService.Settings(
            model="gpt-realtime",  # the model the other clients ask the simulator for
            system_instruction="You are a helpful and friendly AI. Keep your responses short.",
            session_properties=events.SessionProperties(
                audio=events.AudioConfiguration(
                    input=events.AudioInput(
                        transcription=events.InputAudioTranscription(),
                        turn_detection=events.TurnDetection(),  # server VAD
                    )
                )
            ),
        ),
    )
    context = LLMContext()
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(context)
    pipeline = Pipeline(
        [transport.input(), user_aggregator, llm, transport.output(), assistant_aggregator]
    )
    worker = PipelineWorker(
        pipeline, params=PipelineParams(enable_metrics=True, enable_usage_metrics=True)
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    loop = asyncio.get_running_loop()
    # stdin closing is the bench's "stop"
    stop = loop.run_in_executor(None, sys.stdin.read)
    running = asyncio.ensure_future(runner.run())
    await asyncio.wait([stop, running], return_when=asyncio.FIRST_COMPLETED)
    # the bench counts the client's CPU over the conversation: pipecat's is in this process
    COUNTS["child_cpu_s"] = time.process_time() - (CPU_AT_READY or [0.0])[0]
    if not running.done():
        await worker.cancel()
        await asyncio.wait_for(running, 10)
    elif running.exception():
        raise running.exception()


def main() -> None:
    ws_url, out_path = sys.argv[1], sys.argv[2]
    instrument()
    asyncio.run(run(ws_url))
    result = {"out_log": OUT.export(), "in_log": IN.export(), "statistics": COUNTS}
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
