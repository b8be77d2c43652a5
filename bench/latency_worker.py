"""One client through one scripted conversation, for bench/audio_latency.py (its child process).

    python bench/latency_worker.py CLIENT WS_URL OUT.pkl DURATION_S

CLIENT is `talkapp` (the Engine, exactly as the app builds it: default AudioOptions, system
default devices), `baseline` (bench/baseline_client.py) or `pipecat` (bench/pipecat_client.py in
the python that BENCH_PIPECAT_PYTHON names, through bench/pipecat_peer.py; hands-free only).
The sound server's environment (PULSE_SERVER, HOME with its ~/.asoundrc, ...) comes from the
parent; the parent also records the virtual speaker and the mic feed and runs the simulator.
This process only drives the client the way a person would -- press, speak into the virtual
mic (espeak-ng speech, played from outside this process by bench/mic_feeder.py), release, talk
over the reply -- and keeps its own timing points, then pickles them.

Instrumentation of TalkApp lives here and only here (bench-local monkeypatches, no app edits):
  - `_Capture.callback` / `_Playback.callback` are wrapped with a timer (duration of the app's
    own callback), plus the frames of reply audio the output callback took from the ring and
    each block's peak -- measured outside the timed span;
  - the session's transport `recv`/`send` stamp audio deltas received and commits/truncates sent;
  - the turn policy's entry points stamp when a barge-in was decided (pause or flush) and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import os
import pickle
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the sound-server fixture and espeak speech
sys.path.insert(0, str(HERE))

from baseline_client import BaselineClient, CallbackLog
from pipecat_peer import PipecatClient
from speech import silence, speak

from talkapp.audio.pcm import float_to_pcm16
from talkapp.threads.loop import ENGINE_LOOP_PRIORITY, LoopThread

QUESTIONS = [
    "Hello, can you tell me the weather in Paris today?",
    "What time is it in Tokyo right now?",
    "Please read me the news headlines for this morning.",
    "How long does it take to fly from Rome to Berlin?",
]
INTERRUPTIONS = ["Wait, stop, I meant London.", "No, hold on, say that again."]
HEAR_BEFORE_BARGE_S = (1.1, 1.6)  # how long the user listens before talking over a reply (random)


# ---- TalkApp, instrumented from the outside ----


class TalkAppClient:
    name = "talkapp"

    def __init__(self, ws_url: str, stamps: list) -> None:
        from talkapp.audio import streams
        from talkapp.session.engine import AudioOptions, Engine
        from talkapp.session.turns import Mode
        from talkapp.settings.profile import ProviderProfile

        self.stamps = stamps
        self.in_log, self.out_log = CallbackLog(), CallbackLog()
        self._patch_callbacks(streams)
        block_ms = os.environ.get("BENCH_BLOCK_MS")
        self.options = AudioOptions(block_ms=float(block_ms)) if block_ms else AudioOptions()
        if os.environ.get("BENCH_OUTPUT_RUNNING"):  # the output stream running all session
            self.options = dataclasses.replace(self.options, output_on_demand=False)
        self.block_ms = self.options.block_ms
        self.events: list = []
        profile = ProviderProfile(base_url=ws_url, model="gpt-realtime")
        # tuned as the app and `talkapp talk` are (this worker is its own composition root)
        from talkapp.threads.tuning import LiveAudioTuning

        self.engine = Engine(
            profile,
            "sk-bench",
            self._emit,
            Mode.PUSH_TO_TALK,
            self.options,
            tuning=LiveAudioTuning(),
        )
        self.deltas = 0
        self.connected = asyncio.Event()
        self._Mode = Mode

    def _patch_callbacks(self, streams) -> None:
        in_log, out_log = self.in_log, self.out_log
        capture, playback = streams._Capture.callback, streams._Playback.callback

        def timed_capture(side, indata, frames, time_info, status):
            wait = time.time() - time_info.currentTime
            t0 = time.monotonic()
            capture(side, indata, frames, time_info, status)
            t1 = time.monotonic()
            in_log.add(
                t0,
                t1 - t0,
                frames,
                0,
                max(float(indata.max()), -float(indata.min())),
                wait,
                bool(status.input_overflow),
            )

        def timed_playback(side, outdata, frames, time_info, status):
            wait = time.time() - time_info.currentTime
            before = side.ring.frames_read_total
            t0 = time.monotonic()
            playback(side, outdata, frames, time_info, status)
            t1 = time.monotonic()
            delivered = side.ring.frames_read_total - before
            out_log.add(
                t0,
                t1 - t0,
                frames,
                delivered,
                max(float(outdata.max()), -float(outdata.min())),
                wait,
                bool(status.output_underflow),
            )

        streams._Capture.callback = timed_capture
        streams._Playback.callback = timed_playback

    def _emit(self, event) -> None:
        self.events.append((time.monotonic(), event))

    async def run(self) -> None:
        if not await self.engine.start():
            raise RuntimeError(f"engine did not start: {self.events}")
        self._instrument()
        self.connected.set()
        try:
            await asyncio.Event().wait()
        finally:
            await self.engine.stop()

    def _instrument(self) -> None:
        from talkapp.session import turns

        keeper = getattr(
            self.engine, "_keeper", None
        )  # the engine's session holder (it has changed shape)
        session = keeper.session if keeper is not None else self.engine._session
        transport = session._transport
        recv, send, stamps = transport.recv, transport.send, self.stamps

        async def stamped_recv():
            frame = await recv()
            if isinstance(frame, str) and 'output_audio.delta"' in frame:
                self.deltas += 1
                stamps.append((time.monotonic(), "delta", None))
            return frame

        async def stamped_send(text):
            await send(text)
            if '"input_audio_buffer.commit"' in text:
                stamps.append((time.monotonic(), "commit", None))
            elif '"input_audio_buffer.append"' in text:
                stamps.append((time.monotonic(), "append", None))
            elif '"conversation.item.truncate"' in text:
                stamps.append((time.monotonic(), "truncate", None))

        transport.recv, transport.send = stamped_recv, stamped_send
        policy = self.engine.policy
        for name in ("barge_in_heard", "local_speech_started", "on_event", "press", "tick"):
            original = getattr(policy, name)

            def decided(*args, _original=original, _name=name):
                actions = _original(*args)
                for action in actions:
                    if isinstance(action, (turns.PausePlayback, turns.FlushPlayback)):
                        what = "pause" if isinstance(action, turns.PausePlayback) else "flush"
                        stamps.append((time.monotonic(), "decided", f"{_name}:{what}"))
                        break
                return actions

            setattr(policy, name, decided)

    async def set_mode(self, mode: str) -> None:
        await self.engine.set_mode(self._Mode(mode))

    async def press(self) -> None:
        await self.engine.press()

    async def release(self) -> None:
        self.stamps.append((time.monotonic(), "release_on_loop", None))
        await self.engine.release()

    def idle(self) -> bool:
        policy = self.engine.policy
        return (
            not policy._playing and policy._response is None and policy.phase.value == "listening"
        )

    def statistics(self) -> dict:
        s = self.engine.statistics()
        return {
            "output_underflows": s.output_underflows,
            "output_start_underflows": s.output_start_underflows,
            "input_overflows": s.input_overflows,
            "ring_underruns": s.playback.underruns,
            "ring_overruns": s.capture.overruns,
            "ring_frames_dropped": s.capture.frames_dropped,
            "output_rate": s.output_rate,
            "input_rate": s.input_rate,
            "realtime": s.realtime,
            "libpulse_threads_realtime": (
                f"{s.sound_server_threads_realtime}/{s.sound_server_threads}"
            ),
            "output_latency": s.output_latency,
            "input_latency": s.input_latency,
        }


# ---- the person ----


class MicFeeder:
    """Plays speech into the virtual mic through bench/mic_feeder.py, a process started before
    the client opens its streams (see why in that file)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "mic_feeder.py")],
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.played = 0

    def play(self, samples: np.ndarray) -> None:
        """Returns once the sound server has played all of `samples` (24 kHz mono float)."""
        path = self.directory / f"mic-feed-{os.getpid()}-{self.played}.raw"
        self.played += 1
        path.write_bytes(float_to_pcm16(samples))
        self.process.stdin.write(f"{path} micfeed\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        path.unlink()
        if answer != "done":
            raise RuntimeError(f"the mic feeder stopped (exit {self.process.poll()})")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(5)


class Driver:
    def __init__(self, client, loop: LoopThread, feeder: MicFeeder, seed: int = 7) -> None:
        self.client, self.loop, self.feeder = client, loop, feeder
        self.log: list = []  # (t, kind, detail)
        self.rng = random.Random(seed)
        self.problems: list[str] = []

    def call(self, coro, timeout: float = 10.0) -> None:
        self.loop.submit(coro).result(timeout)

    def mark(self, kind: str, detail=None) -> float:
        t = time.monotonic()
        self.log.append((t, kind, detail))
        return t

    def say(self, text: str, kind: str, tail_s: float = 0.0) -> None:
        samples = np.concatenate([speak(text), silence(tail_s)]) if tail_s else speak(text)
        self.mark("feed", (kind, text, len(samples)))
        self.feeder.play(samples)
        self.mark("fed", (kind, text))

    def wait(self, predicate, timeout: float, what: str) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.problems.append(f"timed out waiting for {what}")
                return False
            time.sleep(0.005)
        return True

    def reply_after(self, deltas_before: int, what: str) -> bool:
        return self.wait(lambda: self.client.deltas > deltas_before, 15, what)

    def ptt_block(self) -> None:
        self.mark("block", "ptt")
        self.call(self.client.set_mode("ptt"))
        time.sleep(0.3)
        for k in range(3):
            self.mark("press", "barge-in" if k else None)  # k > 0: a reply is playing
            self.call(self.client.press())
            time.sleep(0.1)
            self.say(QUESTIONS[k % len(QUESTIONS)], "question", tail_s=0.3)
            before = self.client.deltas
            self.mark("release")
            self.call(self.client.release())
            if not self.reply_after(before, "a push-to-talk reply"):
                return
            if k < 2:
                time.sleep(self.rng.uniform(*HEAR_BEFORE_BARGE_S))  # the next press interrupts it
        self.wait(self.client.idle, 30, "the last push-to-talk reply to finish")
        time.sleep(0.5)

    def hands_free_block(self, mode: str) -> None:
        self.mark("block", mode)
        self.call(self.client.set_mode(mode))
        time.sleep(0.5)
        self.say(QUESTIONS[3], "question")
        before = self.client.deltas
        for text in INTERRUPTIONS:
            if not self.reply_after(before, f"a {mode} reply"):
                return
            time.sleep(self.rng.uniform(*HEAR_BEFORE_BARGE_S))
            self.say(text, "interruption")
            before = self.client.deltas  # the VAD ends the turn >= 200 ms after the speech
        if self.reply_after(before, f"the reply to the last {mode} interruption"):
            self.wait(self.client.idle, 30, f"the last {mode} reply to finish")
        time.sleep(0.5)

    def conversation(self, duration_s: float, modes: list[str]) -> None:
        start = time.monotonic()
        blocks = ([] if getattr(self.client, "hands_free_only", False) else ["ptt"]) + modes
        i = 0
        while time.monotonic() - start < duration_s or i < 2:  # at least one hands-free block
            block = blocks[i % len(blocks)]
            self.ptt_block() if block == "ptt" else self.hands_free_block(block)
            i += 1
        self.mark("end")


def main() -> None:
    which, ws_url, out_path, duration = (
        sys.argv[1],
        sys.argv[2],
        Path(sys.argv[3]),
        float(sys.argv[4]),
    )

    feeder = MicFeeder(Path(os.environ["BENCH_PULSE_DIR"]))  # before the client opens its streams
    for text in QUESTIONS + INTERRUPTIONS:
        speak(text)  # synthesize up front, not during the conversation
    stamps: list = []
    # (t, "start"/"stop", generation): a collection pauses every thread, callbacks too
    gc_log: list = []
    gc.callbacks.append(
        lambda phase, info: gc_log.append((time.monotonic(), phase, info["generation"]))
    )
    # TalkApp runs its engine's loop as the app does (ENGINE_LOOP_PRIORITY); the baseline as plain
    # code would.
    loop = LoopThread(
        "bench-client", realtime_priority=ENGINE_LOOP_PRIORITY if which == "talkapp" else None
    ).start()
    if which == "talkapp":
        client = TalkAppClient(ws_url, stamps)
        modes = ["server_vad", "semantic_vad", "local_vad"]
    elif which == "pipecat":
        python = os.environ["BENCH_PIPECAT_PYTHON"]
        client = PipecatClient(ws_url, stamps, python, Path(os.environ["BENCH_PULSE_DIR"]))
        modes = list(client.modes)
    else:
        http_url = ws_url.replace("ws://", "http://")
        client = BaselineClient(ws_url, http_url, stamps)
        modes = ["server_vad", "semantic_vad"]  # no local VAD in a straightforward client
    running = loop.submit(client.run())
    driver = Driver(client, loop, feeder)
    connect_s = 60 if which == "pipecat" else 15  # pipecat imports for seconds before it connects
    deadline = time.monotonic() + connect_s
    while not client.connected.is_set():
        if running.done():
            running.result()  # raises why
        if time.monotonic() > deadline:
            raise RuntimeError(f"the client did not connect in {connect_s} s")
        time.sleep(0.01)
    driver.mark("connected")
    cpu_at_connect = time.process_time()  # every thread of this process, user + system
    time.sleep(1.0)
    try:
        driver.conversation(duration, modes)
    finally:
        cpu_s = time.process_time() - cpu_at_connect
        statistics = client.statistics()
        cpu_s += statistics.pop("child_cpu_s", 0.0)  # pipecat runs in a process of its own
        running.cancel()
        with contextlib.suppress(BaseException):  # cancelled, as asked
            running.result(10)
        loop.stop()
        feeder.close()
    result = {
        "client": which,
        "block_ms": client.block_ms,
        "driver": driver.log,
        "stamps": list(stamps),
        "in_log": client.in_log.export(),
        "out_log": client.out_log.export(),
        "statistics": statistics,
        "problems": driver.problems,
        "gc": gc_log,
        "cpu_s": cpu_s,
        "events": [(t, type(e).__name__, repr(e)[:300]) for t, e in getattr(client, "events", [])],
    }
    out_path.write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    main()
