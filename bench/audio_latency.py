"""Audio latency as a person hears it: TalkApp's engine against two peers, a baseline SDK client
and pipecat (a script).

    .venv/bin/python bench/audio_latency.py [--quick] [--load | --idle-only]
        [--pipecat-python PATH | --no-pipecat]

Default: both conditions (idle, then both cores busy with two busy-loop processes); `--load`
runs only the loaded one, `--idle-only` only the idle one; `--quick` makes each conversation
about 20 s instead of about 2 minutes. Needs pulseaudio, pulseaudio-utils, espeak-ng, sox and
libportaudio2 (as the tests do); pipecat's PyAudio builds against portaudio19-dev. Prints one
table, rows = metrics, columns = TalkApp / baseline / pipecat / ratio (TalkApp over baseline) per
condition, and whether TalkApp meets each target of issue 3 and beats every peer; then the
three clients side by side on the figures of issue 24.

pipecat (bench/pipecat_client.py, `pipecat-ai[openai,local]` 1.14 set up as its examples do) runs
in a virtualenv of its own: the python given with --pipecat-python, else bench/.venvs/pipecat,
made and installed on first use. It has no push-to-talk, so it holds only the hands-free
(server VAD) part of the conversation. When it cannot be installed or fails, its column says
"unavailable: why" and the rest of the run goes on.

What runs (see bench/latency_worker.py for the person and bench/baseline_client.py for the
baseline): a private PulseAudio (tests/audio_server.py's daemon: 24 kHz mono null sinks
`speaker` and `micfeed`, `virtmic` remapping micfeed's monitor); per client and condition, a
fresh simulator (in this process) and a fresh client process that holds a conversation of
push-to-talk turns (the next press interrupts the reply twice in three) and hands-free turns
(server VAD, semantic VAD and, TalkApp only, local VAD), each talked over twice mid-reply.
This process records the virtual speaker (`speaker.monitor`) and what was played into the
virtual mic (`micfeed.monitor`) with parecord, and stamps every frame the simulator sends and
receives (its `Recorder`, wrapped here).

Clock alignment: everything is on CLOCK_MONOTONIC (Python's time.monotonic in every process).
A recording is put on that clock by its start: while parecord writes, a thread samples the
file size every 2 ms; each sample (t, n frames) says frame n had reached the file by t, and the
smallest t - n/rate over the run (the lower envelope; thousands of samples) is when frame 0
left the sink, up to the delivery delay. A null sink renders one configured-latency block
*ahead* of its clock (module-null-sink renders until `timestamp >= now + block_usec`), so
frame n plays (is heard) at  envelope + block + n/rate,  with `block` the sink's configured
latency read from `pactl list sinks` during the run. A start-up calibration checks this
against PortAudio: impulses written by an output callback land where PortAudio's own DAC-time
estimate (`outputBufferDacTime`) says they will, and the bench prints the difference. Audio is
then placed in a recording by content (cross-correlation: exact for the bit-exact mic feed,
to a sample for reply audio), never by when a process thought it started. The error bound
printed with the table adds: the envelope's resolution, the calibration residual, any change
of the sinks' configured latency during the run, and the simulator's stamp (taken after
`ws.send` returns / after a frame is parsed; this process runs at nice -10 so that busy loops
do not delay it -- it stands in for a server on another machine).

A truncate's error is how far its audio_end_ms lies outside the interval of the reply that the
recording shows was heard (1 ms windows: from the last voiced millisecond that played to the
first that did not; a cut inside a pause of the reply spans the pause).

Where the audio does not show an event (a reply cut during one of its pauses: silence either
way), the output callback trace places it, shifted by that run's measured callback-to-heard
delay and clipped to the interval the recording allows; the table counts how often.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import ctypes
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # the sound-server fixture and espeak speech

import audio_server
from audio_server import PulseServer

from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.simulator.recorder import Recorder

RATE = 24_000
POLL_S = 0.002
OUTPUT_RUNNING: list[bool] = []  # --talkapp-output-running
PYTHON = sys.executable
PIPECAT_VENV = HERE / ".venvs" / "pipecat"
PIPECAT_REQUIREMENT = "pipecat-ai[openai,local]~=1.14.0"  # the driver is written against 1.14


# ---- the simulator's record, with arrival and departure times ----


@dataclass
class TimedRecorder(Recorder):
    """The simulator's own recorder, plus time.monotonic() for each timeline entry: taken
    right after a received frame is parsed, and right after `ws.send` of a sent one returned."""

    stamps: list = field(default_factory=list)

    def received(self, record, event) -> None:
        self.stamps.append(time.monotonic())
        super().received(record, event)

    def sent(self, record, event) -> None:
        self.stamps.append(time.monotonic())
        super().sent(record, event)


# ---- recordings on the monotonic clock ----


class Poller:
    """Calls `read()` every `period` seconds on a thread of its own, keeping (t, value) pairs."""

    def __init__(self, read, period: float) -> None:
        self.samples: list[tuple[float, float]] = []
        self._read, self._period = read, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self._read()))
            time.sleep(self._period)

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join()
        return self.samples


class AnchoredRecording:
    """parecord of a monitor (tests/audio_server.Recording) and file-size samples for its anchor."""

    def __init__(self, pulse: PulseServer, source: str) -> None:
        self.source = source
        self.recording = pulse.record(source)
        path = self.recording.path
        self._sizes = Poller(lambda: os.stat(path).st_size // 2, POLL_S)  # (t, frames in the file)

    def stop(self) -> tuple[np.ndarray, np.ndarray]:
        observations = self._sizes.stop()
        samples = self.recording.stop()
        return samples, np.array(observations, dtype=np.float64)


def envelope(observations: np.ndarray, window_s: float = 2.0) -> tuple[float, float]:
    """When frame 0 reached the file, and how well that is pinned: the lower envelope of
    t - n/rate taken per 2 s window (each window holds ~1000 samples and ~200 deliveries, so
    its minimum sits within a fraction of a ms of the delivery line), then the median over
    windows (a window where the sink briefly rendered further ahead -- seen at a client's
    connect -- would otherwise drag a plain minimum early). Returns (median, half the p10-p90
    spread of the window envelopes)."""
    t, n = observations[:, 0], observations[:, 1]
    ok = n > 0
    t, d = t[ok], t[ok] - n[ok] / RATE
    edges = np.arange(t[0], t[-1] - window_s / 2, window_s)
    mins = (
        np.array(
            [
                d[(t >= a) & (t < a + window_s)].min()
                for a in edges
                if np.any((t >= a) & (t < a + window_s))
            ]
        )
        if len(edges)
        else np.array([d.min()])
    )
    return float(np.median(mins)), float((np.percentile(mins, 90) - np.percentile(mins, 10)) / 2)


class SinkLatency:
    """Samples each null sink's configured latency (its render-ahead block) via pactl."""

    def __init__(self, pulse: PulseServer) -> None:
        self.pulse = pulse
        self.samples: dict[str, list[tuple[float, float]]] = {
            "speaker": [],
            "micfeed": [],
        }  # (t, s)

    def sample(self) -> None:
        t = time.monotonic()
        text = self.pulse.pactl("list", "sinks")
        for block in text.split("Sink #")[1:]:
            name = re.search(r"Name: (\S+)", block)
            latency = re.search(r"Latency: \d+ usec, configured (\d+) usec", block)
            if name and latency and name.group(1) in self.samples:
                self.samples[name.group(1)].append((t, int(latency.group(1)) / 1e6))

    async def run(self, period: float = 1.0) -> None:
        while True:
            await asyncio.sleep(period)
            await asyncio.to_thread(self.sample)

    def block(self, sink: str, start: float, end: float) -> tuple[float, float]:
        """(median, spread) of the configured latency between `start` and `end` (the client's
        conversation: before and after it the client's stream, which sets the sink's latency
        when it asks for less than the recorders, is not there), seconds."""
        values = [v for t, v in self.samples[sink] if start <= t <= end] or [0.0]
        return float(np.median(values)), float(max(values) - min(values))


def steal_ticks() -> int:
    """CPU time the hypervisor took from this virtual machine ("steal" in /proc/stat, 10 ms
    ticks summed over CPUs). Sampled over each run: a stall of every process at once (the
    baseline's callbacks too) is the machine's, not a client's."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8])  # cpu user nice system idle iowait irq softirq steal
    except (OSError, IndexError, ValueError):
        return 0


# ---- signal helpers ----


def find(template: np.ndarray, signal_: np.ndarray, start: int, stop: int) -> tuple[int, float]:
    """Best position of `template` in signal_[start:stop] (absolute index; -1: none) and the
    normalised correlation there (`audio_server.locate`)."""
    start = max(0, start)
    where = audio_server.locate(template, signal_[start:stop])
    return (start + where.lag if where.lag >= 0 else -1), where.similarity


def first_above(samples: np.ndarray, dbfs: float = -45.0, win: int = 24) -> int:
    """First sample of the first 1 ms window whose RMS reaches `dbfs`."""
    n = len(samples) // win * win
    rms = np.sqrt(np.mean(samples[:n].reshape(-1, win).astype(np.float64) ** 2, axis=1))
    above = np.nonzero(rms >= 10 ** (dbfs / 20))[0]
    return int(above[0] * win) if len(above) else 0


def gaps(
    reply: np.ndarray, heard: np.ndarray, played: int, chunk: int = 2400, reach: int = 960
) -> tuple[list, list]:
    """Dropouts inside the played part of a reply, walking it in 100 ms chunks that are mostly
    voiced: where (reply sample) the chunks are that show a jump -- the chunk no longer lines up
    where the previous one did but does a few ms later or earlier, i.e. audio was inserted or
    lost -- and where runs of chunks start that line up nowhere or lost a few ms to silence."""
    jumps, damaged, lag, bad_run = [], [], 0, False
    win = 24
    for start in range(0, max(0, played - chunk), chunk):
        part = reply[start : start + chunk]
        rms = np.sqrt(np.mean(part.reshape(-1, win).astype(np.float64) ** 2, axis=1))
        if np.mean(rms > 10 ** (-40 / 20)) < 0.6:
            continue  # mostly a pause: says little about alignment
        if audio_server.similarity(part, heard, start + lag) >= 0.8:
            got = heard[start + lag : start + lag + chunk]
            if len(got) == chunk and _hole(
                rms, np.sqrt(np.mean(got.reshape(-1, win).astype(np.float64) ** 2, axis=1))
            ):
                damaged.append(start)  # lined up, but a few ms of it went silent
            bad_run = False
            continue
        where, sim = find(part, heard, start + lag - reach, start + lag + chunk + reach)
        if where >= 0 and sim >= 0.9 and where - start != lag:
            jumps.append(start)
            lag, bad_run = where - start, False
        elif not bad_run:
            damaged.append(start)
            bad_run = True
    return jumps, damaged


def _hole(want: np.ndarray, got: np.ndarray, run: int = 3) -> bool:
    """`run` or more voiced 1 ms windows in a row that came out (nearly) silent."""
    silent = (want > 10 ** (-40 / 20)) & (got < 0.1 * want)
    count = 0
    for x in silent:
        count = count + 1 if x else 0
        if count >= run:
            return True
    return False


# ---- one run ----


@dataclass
class Run:
    client: str
    loaded: bool
    worker: dict
    timeline: list
    stamps: list
    speaker: np.ndarray
    speaker_t0: float  # heard time of speaker recording frame 0
    mic: np.ndarray
    mic_t0: float
    blocks: dict  # sink -> (median, spread) configured latency
    envelope_resolution: float
    wall_s: float
    speaker_obs: np.ndarray | None = None
    mic_obs: np.ndarray | None = None
    steal: list | None = None  # (t, steal_ticks()) over the run


async def run_client(
    pulse: PulseServer,
    client: str,
    loaded: bool,
    duration: float,
    workdir: Path,
    block_ms: float | None = None,
    pipecat_python: str = "",
) -> Run:
    sim = Simulator(SimulatorConfig(knobs=Knobs(audio_pace=4.0)))
    sim.recorder = TimedRecorder()
    out = workdir / f"{client}-{'loaded' if loaded else 'idle'}.pkl"
    latency = SinkLatency(pulse)
    steal = Poller(steal_ticks, 0.02)
    started = time.monotonic()
    async with sim:
        speaker = AnchoredRecording(pulse, "speaker.monitor")
        mic = AnchoredRecording(pulse, "micfeed.monitor")
        sampler = asyncio.create_task(latency.run())
        env = {
            **pulse.env,
            "BENCH_PULSE_DIR": str(pulse.dir),
            "PYTHONUNBUFFERED": "1",
            "BENCH_BLOCK_MS": str(block_ms or "") if client == "talkapp" else "",
            "BENCH_OUTPUT_RUNNING": "1" if client == "talkapp" and OUTPUT_RUNNING else "",
            "BENCH_PIPECAT_PYTHON": pipecat_python,
        }
        proc = await asyncio.create_subprocess_exec(
            PYTHON,
            str(HERE / "latency_worker.py"),
            client,
            sim.url,
            str(out),
            str(duration),
            env=env,
            preexec_fn=_normal_priority_child,
        )
        await proc.wait()
        sampler.cancel()
        steal_samples = steal.stop()
        speaker_samples, speaker_obs = speaker.stop()
        mic_samples, mic_obs = mic.stop()
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"the {client} worker failed (exit {proc.returncode})")
    worker = pickle.loads(out.read_bytes())
    marks = {kind: t for t, kind, _ in worker["driver"]}
    blocks = {
        sink: latency.block(sink, marks["connected"], marks["end"])
        for sink in ("speaker", "micfeed")
    }
    (speaker_env, speaker_err), (mic_env, mic_err) = envelope(speaker_obs), envelope(mic_obs)
    return Run(
        client,
        loaded,
        worker,
        list(sim.recorder.timeline),
        list(sim.recorder.stamps),
        speaker_samples,
        speaker_env + blocks["speaker"][0],
        mic_samples,
        mic_env + blocks["micfeed"][0],
        blocks,
        max(speaker_err, mic_err),
        time.monotonic() - started,
        speaker_obs,
        mic_obs,
        steal_samples,
    )


def reanchored(run: Run) -> Run:
    """The recordings' anchors recomputed from the kept file-size samples (for --reanalyse)."""
    if run.speaker_obs is not None and run.mic_obs is not None:
        (speaker_env, speaker_err), (mic_env, mic_err) = (
            envelope(run.speaker_obs),
            envelope(run.mic_obs),
        )
        run.speaker_t0 = speaker_env + run.blocks["speaker"][0]
        run.mic_t0 = mic_env + run.blocks["micfeed"][0]
        run.envelope_resolution = max(speaker_err, mic_err)
    return run


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _normal_priority_child() -> None:
    """Clients and load run at the normal priority; only this process (the simulator and the
    recorders) runs at nice -10."""
    _die_with_parent()
    os.setpriority(os.PRIO_PROCESS, 0, 0)


def start_load() -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [PYTHON, "-c", "while True: pass"],
            preexec_fn=_normal_priority_child,  # noqa: PLW1509 - load must die with this process
        )
        for _ in range(2)
    ]


def stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        p.wait()


# ---- calibration: the anchor against PortAudio's own DAC-time estimate ----


def calibrate(pulse: PulseServer) -> dict:
    """Impulses from a PortAudio output callback on the default device (the speaker sink):
    where the anchored recording hears them minus where PortAudio's outputBufferDacTime says
    they play. A check of the anchor, not a correction."""
    from talkapp.audio import devices

    sd = devices.sounddevice()
    latency = SinkLatency(pulse)
    rec = AnchoredRecording(pulse, "speaker.monitor")
    marks: list[float] = []
    count = [0]

    def callback(outdata, frames, time_info, status):
        now = time.monotonic()
        outdata.fill(0)
        count[0] += 1
        if count[0] % 25 == 0:
            outdata[0, 0] = 0.9
            marks.append(now + (time_info.outputBufferDacTime - time_info.currentTime))

    stream = sd.OutputStream(
        samplerate=RATE,
        channels=1,
        dtype="float32",
        blocksize=480,
        latency="low",
        callback=callback,
    )
    with stream:
        time.sleep(1.0)
        latency.sample()
        time.sleep(2.5)
        latency.sample()
    time.sleep(0.2)
    samples, obs = rec.stop()
    block = latency.block("speaker", 0.0, float("inf"))[
        0
    ]  # both samples were taken with the stream open
    t0 = envelope(obs)[0] + block
    heard = t0 + np.nonzero(np.abs(samples) > 0.5)[0] / RATE
    diffs = [1000 * (h - m) for h, m in zip(heard[-len(marks) :], marks)] if len(heard) else []
    return {"diff_ms": diffs, "block_s": block, "resolution_ms": 1000 * envelope(obs)[1]}


# ---- analysis ----


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


@dataclass
class Reply:
    response_id: str
    item_id: str
    first_sent: float
    audio: np.ndarray
    first_received: float | None = None
    heard_at: float | None = None  # heard time of its first sample
    lag: int | None = None  # speaker recording index of its first sample
    first_callback: float | None = None


def analyse(run: Run) -> dict:
    w = run.worker
    stamps = w["stamps"]
    out_log, in_log = w["out_log"], w["in_log"]
    block_ms = w["block_ms"]
    m: dict = {"problems": list(w["problems"]), "block_ms": block_ms, "statistics": w["statistics"]}

    # simulator side: connection 0 is the client's
    replies: dict[str, Reply] = {}
    commits_in, truncates_in = [], []
    for (conn, direction, event), t in zip(run.timeline, run.stamps):
        if conn != 0 or not isinstance(event, dict):
            continue
        kind = event.get("type")
        if direction == "out" and kind == "response.output_audio.delta":
            pcm = np.frombuffer(base64.b64decode(event["delta"]), "<i2").astype(np.float32) / 32768
            reply = replies.setdefault(
                event["response_id"], Reply(event["response_id"], event["item_id"], t, [])
            )
            reply.audio.append(pcm)
        elif direction == "in" and kind == "input_audio_buffer.commit":
            commits_in.append(t)
        elif direction == "in" and kind == "conversation.item.truncate":
            truncates_in.append((t, event["item_id"], event["audio_end_ms"]))
    for reply in replies.values():
        reply.audio = np.concatenate(reply.audio)

    # client side: the k-th delta it received is the k-th the simulator sent
    received = [t for t, kind, _ in stamps if kind == "delta"]
    owners = []  # the reply of each delta, in send order
    for (conn, direction, event), t in zip(run.timeline, run.stamps):
        if (
            conn == 0
            and direction == "out"
            and isinstance(event, dict)
            and event.get("type") == "response.output_audio.delta"
        ):
            owners.append(replies[event["response_id"]])
    for reply, t in zip(owners, received):
        if reply.first_received is None:
            reply.first_received = t
    if len(received) != len(owners):
        m["problems"].append(
            f"client received {len(received)} audio deltas, simulator sent {len(owners)}"
        )

    # where each reply is heard
    cb_start, cb_delivered, cb_frames = out_log["start"], out_log["delivered"], out_log["frames"]
    spk, t0 = run.speaker, run.speaker_t0
    heard_replies = []
    for reply in sorted(replies.values(), key=lambda r: r.first_sent):
        template = reply.audio[: min(len(reply.audio), int(0.25 * RATE))]
        expected = int((reply.first_sent - t0) * RATE)
        where, sim = find(template, spk, expected - int(0.05 * RATE), expected + int(2.0 * RATE))
        if (
            where < 0 or sim < 0.6
        ):  # (a dropout in its first 250 ms lowers the match, not the position)
            m["problems"].append(
                f"reply {reply.response_id} not found in the speaker recording (match {sim:.2f})"
            )
            continue
        reply.lag, reply.heard_at = where, t0 + where / RATE
        if reply.first_received is not None:
            after = np.nonzero((cb_start >= reply.first_received) & (cb_delivered > 0))[0]
            if len(after):
                reply.first_callback = float(cb_start[after[0]])
        heard_replies.append(reply)
    m["first_heard_ms"] = [1000 * (r.heard_at - r.first_sent) for r in heard_replies]
    m["first_callback_ms"] = [
        1000 * (r.first_callback - r.first_received)
        for r in heard_replies
        if r.first_callback is not None
    ]
    output_path = [
        r.heard_at - r.first_callback for r in heard_replies if r.first_callback is not None
    ]
    m["callback_to_heard_ms"] = [1000 * x for x in output_path]
    out_delay = float(np.median(output_path)) if output_path else 0.05
    m["replies"] = len(heard_replies)

    # release -> commit
    driver = w["driver"]
    client_commits = [t for t, kind, _ in stamps if kind == "commit"]
    on_loop = [t for t, kind, _ in stamps if kind == "release_on_loop"]
    appends = np.array([t for t, kind, _ in stamps if kind == "append"])
    m["commit_sent_ms"], m["commit_at_server_ms"] = [], []
    m["release_handoff_ms"], m["release_work_ms"], m["release_appends"] = [], [], []
    for t, kind, _ in driver:
        if kind != "release":
            continue
        sent = [c for c in client_commits if c >= t]
        arrived = [c for c in commits_in if c >= t]
        reached = [c for c in on_loop if c >= t]
        if sent:
            m["commit_sent_ms"].append(1000 * (sent[0] - t))
            if (
                reached and reached[0] <= sent[0]
            ):  # split: the thread hop, then the client's own work
                m["release_handoff_ms"].append(1000 * (reached[0] - t))
                m["release_work_ms"].append(1000 * (sent[0] - reached[0]))
                m["release_appends"].append(
                    int(np.count_nonzero((appends >= reached[0]) & (appends <= sent[0])))
                )
        if arrived:
            m["commit_at_server_ms"].append(1000 * (arrived[0] - t))

    # barge-ins: onsets in the mic feed (hands-free) and presses over a reply (push-to-talk)
    onsets = []
    block = None
    feeds = {}
    for t, kind, detail in driver:
        if kind == "block":
            block = detail
        elif kind == "feed" and detail[0] == "interruption":
            onsets.append(("mic", block, t, detail[1]))
        elif kind == "press" and detail == "barge-in":
            onsets.append(("press", "ptt", t, None))
    from speech import speak  # the same (cached) synthesis the worker fed

    decided = [(t, d) for t, kind, d in stamps if kind == "decided"]
    in_start, in_peak = in_log["start"], in_log["peak"]
    barge: list[dict] = []
    cuts: list[dict] = []  # every cut reply, those left out of `barge` too (for the dropouts)
    for source, mode, t_mark, text in onsets:
        if source == "mic":
            wav = feeds.get(text)
            if wav is None:
                wav = feeds[text] = (speak(text), first_above(speak(text)))
            samples, onset_idx = wav
            expected = int((t_mark - run.mic_t0) * RATE)
            where, sim = find(
                samples, run.mic, expected - int(0.2 * RATE), expected + int(3 * RATE)
            )
            if where < 0 or sim < 0.99:
                m["problems"].append(f"interruption '{text}' not found in the mic feed")
                continue
            t_on = run.mic_t0 + (where + onset_idx) / RATE
        else:
            t_on = t_mark
        sent_before = [r for r in replies.values() if r.first_sent < t_on]
        if not sent_before:
            continue
        reply = max(sent_before, key=lambda r: r.first_sent)  # the reply being played
        if reply.heard_at is None or reply.heard_at > t_on:
            m["problems"].append(f"a {mode} barge-in: its reply was not located in the recording")
            continue
        heard = spk[reply.lag : reply.lag + len(reply.audio)]
        lo, hi = audio_server.cut_interval(reply.audio, heard)
        if lo >= len(reply.audio):
            m["problems"].append(f"a {mode} barge-in did not cut the reply")
            continue
        t_lo, t_hi = reply.heard_at + lo / RATE, reply.heard_at + hi / RATE
        entry = {"mode": mode, "onset": t_on, "lo": t_lo, "hi": t_hi, "reply": reply}
        # the app's own view: decision, first silent output callback
        if source == "press":
            t_dec = t_on
        else:
            later = [t for t, _ in decided if t >= t_on - 0.02]
            t_dec = later[0] if later else None
            entry["decided_by"] = next((d for t, d in decided if t >= t_on - 0.02), None)
        entry["decided"] = t_dec
        silent = None
        if t_dec is not None:
            after = np.nonzero((cb_start >= t_dec) & (cb_delivered == 0))[0]
            silent = float(cb_start[after[0]]) if len(after) else None
        entry["silent_cb"] = silent
        caught = (
            np.nonzero((in_start >= t_on - 0.01) & (in_peak > 1e-3))[0] if source == "mic" else []
        )
        entry["captured"] = float(in_start[caught[0]]) if len(caught) else None
        if t_hi - t_lo <= 0.010 or silent is None:
            entry["cut"], entry["precise"] = t_hi, True
        else:
            entry["cut"], entry["precise"] = min(max(silent + out_delay, t_lo), t_hi), False
        cuts.append(entry)
        if t_hi < t_on:
            # the recording stopped matching the reply before anyone spoke: audio lost or garbled
            # there (see the dropouts), not a barge-in's cut
            m["problems"].append(
                f"a {mode} barge-in: its reply stopped matching the recording "
                f"{1000 * (t_on - t_hi):.0f} ms before the onset (damaged audio); left out"
            )
            continue
        # the truncate sent for this reply (hands-free and press alike)
        truncs = [
            (t, end) for t, item, end in truncates_in if item == reply.item_id and t >= t_on - 0.05
        ]
        if truncs:
            # What the recording says was heard is an interval: from the end of the last voiced
            # millisecond that played to the first that did not (wide when the cut fell in a
            # pause of the reply: anywhere in a silence sounds the same). The error is how far
            # audio_end_ms lies outside it.
            heard_lo, heard_hi, sent = 1000 * lo / RATE, 1000 * hi / RATE, truncs[0][1]
            entry["truncate_error_ms"] = (
                sent - heard_hi if sent > heard_hi else min(0.0, sent - heard_lo)
            )
            entry["truncate_interval"] = (heard_lo, heard_hi, sent, mode)
        barge.append(entry)
    m["barge"] = barge

    # dropouts: in the recording (gaps inside played reply audio) and starved callbacks
    jumps, damaged, starved = [], [], 0  # jumps and damage as heard times (chunk starts)
    barge_by_reply = {id(b["reply"]): b for b in cuts}
    for reply in heard_replies:
        heard = spk[reply.lag : reply.lag + len(reply.audio) + RATE]
        b = barge_by_reply.get(id(reply))
        played = int((b["lo"] - reply.heard_at) * RATE) if b else len(reply.audio)
        j, d = gaps(reply.audio, heard, played)
        jumps += [reply.heard_at + start / RATE for start in j]
        damaged += [reply.heard_at + start / RATE for start in d]
        if reply.first_callback is None:
            continue
        stop_at = b["decided"] if (b and b["decided"]) else float("inf")
        # a reply ends where the next begins (a writer that never writes silence runs on into it)
        nexts = [r.first_received for r in heard_replies if r.first_sent > reply.first_sent]
        stop_at = min([stop_at, *(t for t in nexts if t is not None)])
        idx = np.nonzero(cb_start >= reply.first_callback)[0]
        flowing = False
        for i in idx:
            if cb_start[i] >= stop_at:
                break
            full = cb_delivered[i] == cb_frames[i]
            if flowing and not full:
                # starved only if more of this reply followed (not its natural end)
                rest = cb_delivered[i + 1 : i + 60]
                if rest.sum() > 0:
                    starved += 1
                else:
                    break
            flowing = full or (flowing and cb_delivered[i] > 0)
    m["dropouts"], m["damaged"], m["starved"] = len(jumps), len(damaged), starved
    dropouts_at = sorted(jumps + damaged)
    m["max_out_gap_ms"] = (
        float(1000 * np.diff(cb_start).max()) if len(cb_start) > 1 else float("nan")
    )
    m["max_in_gap_ms"] = (
        float(1000 * np.diff(in_start).max()) if len(in_start) > 1 else float("nan")
    )
    began, pauses, spans = {}, [], []
    for t, phase, generation in w.get("gc", []):
        if phase == "start":
            began[generation] = t
        elif generation in began:
            spans.append((began[generation], t))
            if 1000 * (t - began[generation]) >= 10:
                pauses.append(1000 * (t - began[generation]))
    m["gc_pauses"] = pauses
    # output callbacks that came late (> 1.5 blocks after the previous one) and whether a GC ran
    # then
    late = np.nonzero(np.diff(cb_start) > 1.5 * block_ms / 1000)[0] if len(cb_start) > 1 else []
    during_gc = sum(any(a <= cb_start[i + 1] and b >= cb_start[i] for a, b in spans) for i in late)
    m["late_callbacks"] = (
        len(late),
        during_gc,
        sorted((1000 * np.diff(cb_start)[late]).round(1).tolist())[-5:],
    )
    m["cb_out_us"] = 1e6 * out_log["duration"]
    m["cb_in_us"] = 1e6 * in_log["duration"]
    # how long each callback waited to start (mostly for the GIL) and when PortAudio flagged an
    # xrun, on the conversation's clock (seconds after the client connected)
    m["cb_wait_out_ms"] = 1000 * out_log.get("wait", np.zeros(0))
    m["cb_wait_in_ms"] = 1000 * in_log.get("wait", np.zeros(0))
    marks = {kind: t for t, kind, _ in w["driver"]}  # "connected" and "end" happen once
    connected = marks.get("connected", cb_start[0] if len(cb_start) else 0.0)
    end = marks.get("end", connected)
    m["xruns_at_s"] = {
        side: (log["start"][log["xrun"]] - connected).round(2).tolist()
        for side, log in (("output", out_log), ("input", in_log))
        if "xrun" in log
    }
    m["cpu_percent"] = (
        100 * w["cpu_s"] / (end - connected) if ("cpu_s" in w and end > connected) else None
    )
    m["steal"] = steal_summary(run.steal or [], cb_start, block_ms, connected, end, dropouts_at)
    return m


# Steal is read from /proc/stat in ticks of 10 ms, every 20 ms (`Poller`): a callback gap and the
# tick that counts the steal behind it land up to a poll apart. A dropout is placed by the 100 ms
# chunk it was found in and is heard ~11 ms after its callback, hence the wider window.
STEAL_NEAR_GAP_S = (0.05, 0.05)  # (before, after) a callback gap's end
STEAL_NEAR_DROPOUT_S = (0.15, 0.1)  # (before, after) the start of a damaged chunk, as heard


def steal_summary(
    samples: list,
    cb_start: np.ndarray,
    block_ms: float,
    start: float,
    end: float,
    dropouts_at: list[float],
) -> dict | None:
    """Hypervisor steal over the conversation: its total, its bursts (>= 20 ms of CPU within
    100 ms), and how many output callback gaps longer than two blocks and which audible dropouts
    had any steal (one tick, 10 ms) next to them -- with the share of the conversation such a
    window covers, which is how often that would happen by chance."""
    inside = [(t, v) for t, v in samples if start <= t <= end]
    if len(inside) < 2:
        return None
    t, v = (
        np.array([x[0] for x in inside]),
        np.array([x[1] for x in inside], np.float64) * 10.0,
    )  # ms
    later = np.searchsorted(t, t + 0.1)
    later = np.minimum(later, len(t) - 1)
    burst_at = t[(v[later] - v) >= 20.0]
    bursts = []
    for b in burst_at:  # one entry per burst, not per overlapping window
        if not bursts or b - bursts[-1] > 0.1:
            bursts.append(float(b))
    ticks = t[1:][np.diff(v) > 0]  # when steal was counted

    def with_steal(moments, window) -> int:
        return sum(
            bool(np.any((ticks >= m - window[0]) & (ticks <= m + window[1]))) for m in moments
        )

    def by_chance(window) -> float:
        """Share of the conversation in which a moment would have a tick in its window."""
        covered, reach = 0.0, -np.inf
        for tick in ticks:  # moments in [tick - after, tick + before] see this tick
            low, high = max(tick - window[1], reach), tick + window[0]
            covered, reach = covered + max(0.0, high - low), max(reach, high)
        return 100 * covered / max(end - start, 1e-9)

    long_gaps = cb_start[1:][np.diff(cb_start) > 2 * block_ms / 1000]
    return {
        "total_ms": float(v[-1] - v[0]),
        "bursts_s": [round(b - start, 2) for b in bursts],
        "long_gaps": len(long_gaps),
        "long_gaps_with_steal": with_steal(long_gaps, STEAL_NEAR_GAP_S),
        "gap_chance_pct": by_chance(STEAL_NEAR_GAP_S),
        "dropouts_at_s": [round(d - start, 2) for d in dropouts_at],
        "dropouts_with_steal": with_steal(dropouts_at, STEAL_NEAR_DROPOUT_S),
        "dropout_chance_pct": by_chance(STEAL_NEAR_DROPOUT_S),
    }


# ---- the table ----


def fmt_pair(values, digits=1) -> str:
    if not len(values):
        return "—"
    return f"{pct(values, 50):.{digits}f} / {pct(values, 99):.{digits}f}"


def rows_for(m: dict) -> dict:
    """metric name -> (cell text, p50, p99) for one run."""
    r: dict = {}

    def put(name, values, digits=1):
        r[name] = (fmt_pair(values, digits), pct(values, 50), pct(values, 99), len(values))

    out_us, in_us = m["cb_out_us"], m["cb_in_us"]
    r["output callback µs p50/p99/max"] = (
        f"{pct(out_us, 50):.0f} / {pct(out_us, 99):.0f} / {np.max(out_us):.0f}",
        pct(out_us, 50),
        pct(out_us, 99),
        len(out_us),
    )
    r["input callback µs p50/p99/max"] = (
        f"{pct(in_us, 50):.0f} / {pct(in_us, 99):.0f} / {np.max(in_us):.0f}",
        pct(in_us, 50),
        pct(in_us, 99),
        len(in_us),
    )
    s = m["statistics"]
    flags = s["output_underflows"]  # None: not known (pipecat)
    under = (flags or 0) + m["starved"]
    over = s["input_overflows"] + (s["ring_overruns"] or 0)
    at_start = (
        s.get("output_start_underflows") or 0
    )  # during a stream's start-up fill: silence only
    r["underruns (PortAudio flags + starved callbacks)"] = (
        f"{'—' if flags is None else flags} + {m['starved']}"
        + (f" (+{at_start} at stream start)" if at_start else ""),
        under,
        under,
        1,
    )
    r["overruns (PortAudio flags + ring)"] = (
        f"{s['input_overflows']} + {s['ring_overruns'] if s['ring_overruns'] is not None else '—'}",
        over,
        over,
        1,
    )
    r["audible dropouts in reply audio (gaps / damaged)"] = (
        f"{m['dropouts']} / {m['damaged']}",
        m["dropouts"] + m["damaged"],
        m["dropouts"] + m["damaged"],
        1,
    )
    put("release → commit sent, ms", m["commit_sent_ms"], 2)
    put("release → commit at server, ms", m["commit_at_server_ms"], 2)
    put("first delta received → in output callback, ms", m["first_callback_ms"], 1)
    put("first delta sent → reply heard, ms", m["first_heard_ms"], 1)
    for mode in ("server_vad", "semantic_vad", "local_vad", "ptt"):
        entries = [b for b in m["barge"] if b["mode"] == mode]
        label = "press" if mode == "ptt" else "onset"
        values = [1000 * (b["cut"] - b["onset"]) for b in entries]
        text, p50, p99, n = fmt_pair(values), pct(values, 50), pct(values, 99), len(values)
        if entries:
            text += f"  (n={n}, {sum(not b['precise'] for b in entries)} in pauses)"
        r[f"barge-in {mode}: {label} → reply silent (heard), ms"] = (text, p50, p99, n)
    decided = [
        1000 * (b["silent_cb"] - b["decided"])
        for b in m["barge"]
        if b["silent_cb"] and b["decided"]
    ]
    put("barge-in decided → output callback silent, ms", decided, 1)
    detect = [
        1000 * (b["decided"] - b["onset"])
        for b in m["barge"]
        if b["mode"] != "ptt" and b["decided"]
    ]
    put("barge-in onset → decided (hands-free), ms", detect, 1)
    errors = [abs(b["truncate_error_ms"]) for b in m["barge"] if "truncate_error_ms" in b]
    put("truncate |audio_end_ms − heard|, ms", errors, 1)
    return r


TARGETS = {  # metric -> (text, check(p50, p99, block_ms) -> bool)
    "underruns (PortAudio flags + starved callbacks)": ("0", lambda a, b, k: b == 0),
    "overruns (PortAudio flags + ring)": ("0", lambda a, b, k: b == 0),
    "audible dropouts in reply audio (gaps / damaged)": ("0", lambda a, b, k: b == 0),
    "release → commit sent, ms": ("p99 < 5 + block", lambda a, b, k: b < 5 + k),
    "first delta received → in output callback, ms": ("p99 < 5 + block", lambda a, b, k: b < 5 + k),
    "first delta sent → reply heard, ms": ("≤ 20 (p99)", lambda a, b, k: b <= 20),
    "barge-in server_vad: onset → reply silent (heard), ms": (
        "≤ 80 (p99)",
        lambda a, b, k: b <= 80,
    ),
    "barge-in semantic_vad: onset → reply silent (heard), ms": (
        "≤ 80 (p99)",
        lambda a, b, k: b <= 80,
    ),
    "barge-in local_vad: onset → reply silent (heard), ms": ("≤ 80 (p99)", lambda a, b, k: b <= 80),
    "barge-in decided → output callback silent, ms": ("p99 < 5 + block", lambda a, b, k: b < 5 + k),
    "truncate |audio_end_ms − heard|, ms": ("≤ 5 (p99)", lambda a, b, k: b <= 5),
}


def ratio(a, b) -> str:
    (_, a50, a99, an), (_, b50, b99, bn) = a, b
    if not an or not bn:
        return "—"

    def one(x, y):
        if not np.isfinite(x) or not np.isfinite(y):
            return "—"
        if abs(y) < 0.5:  # a count of 0, or an error below the measure's resolution
            return "=" if abs(x) < 0.5 else "∞"
        return f"{x / y:.2f}"

    return one(a50, b50) if a50 == a99 and b50 == b99 else f"{one(a50, b50)} / {one(a99, b99)}"


# Rows pipecat has no figure for, and why (footnotes under the table).
PIPECAT_NA = {
    "release → commit sent, ms": 1,
    "release → commit at server, ms": 1,
    "barge-in ptt: press → reply silent (heard), ms": 1,
    "barge-in semantic_vad: onset → reply silent (heard), ms": 2,
    "barge-in local_vad: onset → reply silent (heard), ms": 2,
    "output callback µs p50/p99/max": 3,
}
PIPECAT_NOTES = {
    1: "pipecat has no push-to-talk: it holds only the hands-free (server VAD) part of the "
    "conversation",
    2: "pipecat is set up with server VAD, as its realtime example's alternative to semantic VAD",
    3: "pipecat writes 40 ms chunks to a blocking PyAudio stream: no output callback (its rows "
    "'…output callback…' time those writes, and the output's flush after a barge-in)",
}


def aligned(lines: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(lines[0]))]
    out = []
    for k, r in enumerate(lines):
        out.append("  ".join(str(x).ljust(wd) for x, wd in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * wd for wd in widths))
    return "\n".join(out)


def table(results: dict, unavailable: dict | None = None) -> str:
    """The metrics table; `unavailable`: condition -> why pipecat has no run there."""
    unavailable = unavailable or {}
    conditions = [c for c in ("idle", "loaded") if ("talkapp", c) in results]
    cells = {key: rows_for(m) for key, m in results.items()}
    names = list(next(iter(cells.values())).keys())
    with_pipecat = any(("pipecat", c) in results or c in unavailable for c in conditions)
    header = ["metric", "target"]
    for c in conditions:
        header += [f"TalkApp {c}", f"baseline {c}"]
        header += [f"pipecat {c}"] if with_pipecat else []
        header += ["ratio"]
    header += ["TalkApp meets target", "TalkApp better"]
    lines = [header]
    for name in names:
        row = [name, TARGETS.get(name, ("—",))[0]]
        verdicts, better = [], []
        for c in conditions:
            t, b = cells[("talkapp", c)][name], cells.get(("baseline", c), {}).get(name)
            p = cells.get(("pipecat", c), {}).get(name) if name not in PIPECAT_NA else None
            row += [t[0], b[0] if b else "—"]
            if with_pipecat:
                if c in unavailable:
                    row.append(f"unavailable: {unavailable[c][:48]}")
                elif name in PIPECAT_NA:
                    row.append(f"—{'¹²³'[PIPECAT_NA[name] - 1]}")
                else:
                    row.append(p[0] if p else "—")
            row.append(ratio(t, b) if b else "—")
            if name in TARGETS and t[3]:
                ok = TARGETS[name][1](t[1], t[2], results[("talkapp", c)]["block_ms"])
                verdicts.append(f"{c}: {'met' if ok else 'MISSED'}")
            tol = 1.0 if ("heard" in name or "truncate" in name) else 0.0  # the resolution
            peers = [
                (who, x)
                for who, x in (("baseline", b), ("pipecat", p))
                if x and t[3] and x[3] and np.isfinite(t[2]) and np.isfinite(x[2])
            ]
            if peers:
                ahead = [who for who, x in peers if t[2] > x[2] + tol or t[1] > x[1] + tol]
                better.append(f"{c}: {'NO (' + ', '.join(ahead) + ')' if ahead else 'yes'}")
        row += [", ".join(verdicts) or "—", ", ".join(better) or "—"]
        lines.append(row)
    out = aligned(lines)
    if with_pipecat:
        out += "\n" + "\n".join(f"{'¹²³'[k - 1]} {text}" for k, text in PIPECAT_NOTES.items())
        out += "".join(f"\npipecat {c} unavailable: {why}" for c, why in unavailable.items())
    return out


def peers_table(results: dict, unavailable: dict | None = None) -> str:
    """The three clients side by side on issue 24's figures (medians, server VAD barge-ins)."""
    unavailable = unavailable or {}
    conditions = [c for c in ("idle", "loaded") if ("talkapp", c) in results]
    clients = [("baseline", "SDK client"), ("pipecat", "pipecat"), ("talkapp", "TalkApp")]

    def figures(m: dict) -> list[str]:
        barge = [b for b in m["barge"] if b["mode"] == "server_vad"]
        onset = [1000 * (b["cut"] - b["onset"]) for b in barge]
        trunc = [b["truncate_error_ms"] for b in barge if "truncate_error_ms" in b]
        heard = m["first_heard_ms"]
        return [
            f"{pct(heard, 50):.1f}" if heard else "—",
            f"{pct(onset, 50):.1f}" if onset else "—",
            f"{pct(trunc, 50):+.1f}" if trunc else "—",
            f"{(m['dropouts'] + m['damaged']) / m['replies']:.2f}" if m["replies"] else "—",
        ]

    rows = [
        "server's first audio → heard at the speaker",
        "barge-in (server VAD) speech onset → reply silent",
        "truncate: audio_end_ms − what was heard",
        "dropouts per answer",
    ]
    header = ["figure (ms, medians)"]
    columns = []
    for c in conditions:
        for key, label in clients:
            if (key, c) in results:
                header.append(f"{label} {c}")
                columns.append(figures(results[(key, c)]))
            elif key == "pipecat" and c in unavailable:
                header.append(f"{label} {c}")
                columns.append(["unavailable"] * len(rows))
    lines = [header] + [[name] + [col[i] for col in columns] for i, name in enumerate(rows)]
    return aligned(lines)


def details(key, m: dict, run: Run) -> str:
    """Where the time goes, per run: the barge-in stages and the output path."""
    lines = [
        (
            f"{key[0]} {key[1]}: {run.wall_s:.0f} s, {m['replies']} replies heard, "
            f"sink blocks speaker {1000 * run.blocks['speaker'][0]:.1f} ms "
            f"(±{1000 * run.blocks['speaker'][1]:.1f}), "
            f"micfeed {1000 * run.blocks['micfeed'][0]:.1f} ms; statistics {m['statistics']}"
        )
    ]
    lines.append(
        "  output callback → heard (PortAudio + Pulse buffering), ms p50/p99: "
        f"{fmt_pair(m['callback_to_heard_ms'])}"
    )
    stages = {
        "onset → mic block in input callback": [],
        "mic block → decided": [],
        "decided → output callback silent": [],
        "output silent → heard silent": [],
    }
    by = {}
    for b in m["barge"]:
        if b["mode"] == "ptt":
            continue
        by.setdefault(b.get("decided_by"), []).append(1000 * (b["cut"] - b["onset"]))
        if b["captured"] and b["decided"]:
            stages["onset → mic block in input callback"].append(
                1000 * (b["captured"] - b["onset"])
            )
            stages["mic block → decided"].append(1000 * (b["decided"] - b["captured"]))
        if b["silent_cb"] and b["decided"]:
            stages["decided → output callback silent"].append(
                1000 * (b["silent_cb"] - b["decided"])
            )
            stages["output silent → heard silent"].append(1000 * (b["cut"] - b["silent_cb"]))
    for name, values in stages.items():
        lines.append(f"  barge-in {name}, ms p50/p99: {fmt_pair(values)}")
    if m.get("release_work_ms"):
        lines.append(
            "  release → on the client's loop, ms p50/p99: "
            f"{fmt_pair(m['release_handoff_ms'], 2)}; "
            f"on the loop → commit sent: {fmt_pair(m['release_work_ms'], 2)} "
            f"(appends sent before the commit: {sorted(set(m['release_appends']))})"
        )
    for who, values in by.items():
        lines.append(
            f"  barge-ins decided by {who}: n={len(values)}, onset → heard silent p50 / max "
            f"{pct(values, 50):.0f} / {max(values):.0f} ms"
        )
    trunc = [b["truncate_interval"] for b in m["barge"] if "truncate_interval" in b]
    if trunc:
        lines.append(
            "  truncates (heard from–to ms per recording, audio_end_ms sent): "
            + ", ".join(f"{mode} {lo:.0f}–{hi:.0f}:{end}" for lo, hi, end, mode in trunc)
        )
    n_late, n_gc, worst = m["late_callbacks"]
    lines.append(
        f"  output callbacks later than 1.5 blocks: {n_late} ({n_gc} overlapping a GC run), "
        f"worst gaps ms {worst}"
    )
    lines.append(
        f"  longest silence between output callbacks {m['max_out_gap_ms']:.1f} ms, "
        f"input {m['max_in_gap_ms']:.1f} ms; "
        f"GC pauses >= 10 ms: {len(m['gc_pauses'])}"
        + (
            f" (longest {max(m['gc_pauses']):.0f} ms; every thread, the PortAudio callbacks too, "
            "waits for the GIL)"
            if m["gc_pauses"]
            else ""
        )
    )

    def waits(values) -> str:
        return (
            f"{pct(values, 50):.2f} / {pct(values, 99):.2f} / {np.max(values):.1f}"
            if len(values)
            else "—"
        )

    lines.append(
        f"  callback start wait (PortAudio's call → our code runs: the GIL), ms p50/p99/max: "
        f"output {waits(m['cb_wait_out_ms'])}, input {waits(m['cb_wait_in_ms'])}"
    )
    if m["xruns_at_s"]:
        lines.append(
            "  xruns flagged by PortAudio, s after connecting: "
            + "; ".join(f"{side} {times}" for side, times in m["xruns_at_s"].items())
        )
    if m.get("cpu_percent") is not None:
        lines.append(
            f"  client process CPU over the conversation (the driver's polling included): "
            f"{m['cpu_percent']:.1f} % of one core"
        )
    st = m.get("steal")
    if st is not None:
        lines.append(
            f"  hypervisor steal during the conversation: {st['total_ms']:.0f} ms of CPU; "
            f"bursts (>= 20 ms within 100 ms) at s {st['bursts_s'][:12]}; "
            f"output callback gaps > 2 blocks: {st['long_gaps']}, "
            f"{st['long_gaps_with_steal']} of them next to any steal "
            f"(by chance: {st['gap_chance_pct']:.1f} %)"
        )
        if st["dropouts_at_s"]:
            lines.append(
                f"  audible dropouts heard at s {st['dropouts_at_s'][:12]}: "
                f"{st['dropouts_with_steal']} of them "
                f"next to hypervisor steal (by chance: {st['dropout_chance_pct']:.1f} %)"
            )
    for p in m["problems"]:
        lines.append(f"  problem: {p}")
    return "\n".join(lines)


# ---- main ----


def need_tools() -> None:
    missing = [
        t
        for t in ("pulseaudio", "pactl", "paplay", "parecord", "espeak-ng", "sox")
        if not shutil.which(t)
    ]
    if missing:
        sys.exit(
            f"missing: {', '.join(missing)} "
            "(apt install pulseaudio pulseaudio-utils espeak-ng sox libportaudio2)"
        )


async def main_async(args) -> None:
    need_tools()
    with contextlib.suppress(PermissionError):
        os.nice(-10)  # the simulator and recorders stand in for a server and a sound card elsewhere
    base = Path(tempfile.mkdtemp(prefix="bench-lat-"))
    pulse = audio_server._start_daemon(base)
    pulse.adopt_environment()
    duration = 20.0 if args.quick else 120.0
    conditions = [
        c
        for c in ("idle", "loaded")
        if not (c == "idle" and args.load) and not (c == "loaded" and args.idle_only)
    ]
    runs: dict = {}
    unavailable: dict = {}  # condition -> why pipecat has no run
    clients = ["talkapp"] if args.talkapp_only else ["talkapp", "baseline"]
    pipecat, why = "", ""
    if not (args.talkapp_only or args.no_pipecat):
        clients.append("pipecat")
        pipecat, why = await asyncio.to_thread(pipecat_python, args.pipecat_python)
    try:
        cal = await asyncio.to_thread(calibrate, pulse)
        print(
            f"calibration: anchored recording minus PortAudio DAC time, ms: "
            f"{', '.join(f'{d:+.2f}' for d in cal['diff_ms'])} "
            f"(sink block {1000 * cal['block_s']:.1f} ms)",
            flush=True,
        )
        for condition in conditions:
            load = start_load() if condition == "loaded" else []
            try:
                for client in clients:
                    if client == "pipecat" and not pipecat:
                        unavailable[condition] = why
                        continue
                    print(
                        f"running {client}, {condition}, ~{duration:.0f} s conversation ...",
                        flush=True,
                    )
                    try:
                        runs[(client, condition)] = await run_client(
                            pulse,
                            client,
                            condition == "loaded",
                            duration,
                            base,
                            args.talkapp_block_ms,
                            pipecat if client == "pipecat" else "",
                        )
                    except RuntimeError as e:
                        if client != "pipecat":
                            raise
                        print(f"pipecat, {condition}: {e}", flush=True)
                        unavailable[condition] = str(e)
            finally:
                stop(load)
    finally:
        audio_server._stop_daemon(pulse)
        shutil.rmtree(base, ignore_errors=True)
    if args.keep:
        plain = {key: vars(run) for key, run in runs.items()}
        kept = {"runs": plain, "calibration": cal, "unavailable": unavailable}
        Path(args.keep).write_bytes(pickle.dumps(kept))
    report(runs, cal, unavailable)


def pipecat_python(given: str | None) -> tuple[str, str]:
    """(the python of a virtualenv with pipecat, "") or ("", why there is none). Without `given`,
    bench/.venvs/pipecat, made and installed here when it lacks pipecat."""
    python = Path(given) if given else PIPECAT_VENV / "bin" / "python"
    probe = [str(python), "-c", "import pipecat.services.openai.realtime.llm, pyaudio"]

    def run(command: list[str]) -> str:
        """Nothing when `command` succeeded, else its last error line."""
        try:
            done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
        if done.returncode == 0:
            return ""
        lines = [x.strip() for x in (done.stderr or done.stdout).splitlines() if x.strip()]
        errors = [x for x in lines if x.lower().startswith("error")]
        return (errors or lines or [f"exit {done.returncode}"])[-1]

    if not run(probe):
        return str(python), ""
    if given:
        return "", f"{given}: {run(probe)}"
    print(f"installing {PIPECAT_REQUIREMENT} into {PIPECAT_VENV} ...", flush=True)
    why = "" if python.exists() else run([PYTHON, "-m", "venv", str(PIPECAT_VENV)])
    why = why or run([str(python), "-m", "pip", "install", "-q", PIPECAT_REQUIREMENT])
    why = why or run(probe)
    return ("", why) if why else (str(python), "")


def report(runs: dict, cal: dict, unavailable: dict | None = None) -> None:
    results = {key: analyse(run) for key, run in runs.items()}
    print()
    print(table(results, unavailable))
    print()
    print(peers_table(results, unavailable))
    print()
    for key, m in results.items():
        print(details(key, m, runs[key]))
    stamp_ms = 0.2
    cal_residual = max((abs(d) for d in cal["diff_ms"]), default=float("nan"))
    spread = max(1000 * r.blocks[s][1] for r in runs.values() for s in ("speaker", "micfeed"))
    resolution = max(1000 * r.envelope_resolution for r in runs.values())
    bound = resolution + cal_residual + spread + stamp_ms
    print()
    print(
        f"calibration (anchored recording − PortAudio DAC-time estimate), ms: "
        f"{', '.join(f'{d:+.2f}' for d in cal['diff_ms'])}"
    )
    print(
        "Measurement error bound (times at the sound server vs simulator stamps): "
        f"±{bound:.1f} ms = anchor envelope spread {resolution:.2f} + "
        f"PortAudio cross-check residual {cal_residual:.2f} + "
        f"sink-latency change {spread:.2f} + simulator stamp {stamp_ms:.1f}; "
        "content alignment adds ±1 sample (0.04 ms). Barge-in cuts inside a reply pause are "
        "placed by the output callback trace plus the run's callback→heard delay, clipped to the "
        "pause (see details)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="~20 s conversations instead of ~2 min"
    )
    parser.add_argument(
        "--load", action="store_true", help="only the loaded condition (both cores busy)"
    )
    parser.add_argument("--idle-only", action="store_true", help="only the idle condition")
    parser.add_argument(
        "--talkapp-block-ms",
        type=float,
        default=None,
        help=(
            "run TalkApp with this AudioOptions.block_ms instead of the app default (to try a fix)"
        ),
    )
    parser.add_argument(
        "--talkapp-only", action="store_true", help="skip the baseline (when trying fixes)"
    )
    parser.add_argument(
        "--talkapp-output-running",
        action="store_true",
        help="run TalkApp with its output stream running all session (output_on_demand off)",
    )
    parser.add_argument(
        "--pipecat-python",
        metavar="PATH",
        help="the python of a virtualenv that has pipecat-ai[openai,local] 1.14 "
        "(default: bench/.venvs/pipecat, made on first use)",
    )
    parser.add_argument("--no-pipecat", action="store_true", help="skip pipecat")
    parser.add_argument("--keep", metavar="FILE", help="pickle the raw runs here (for --reanalyse)")
    parser.add_argument(
        "--reanalyse", metavar="FILE", help="print the report of runs kept with --keep"
    )
    args = parser.parse_args()
    if args.talkapp_output_running:
        OUTPUT_RUNNING.append(True)
    if args.reanalyse:
        kept = pickle.loads(Path(args.reanalyse).read_bytes())
        report(
            {key: reanchored(Run(**run)) for key, run in kept["runs"].items()},
            kept["calibration"],
            kept.get("unavailable"),
        )
        return
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
