"""pipecat as a client of bench/latency_worker.py's person: bench/pipecat_client.py in its process.

pipecat runs in a virtualenv of its own (its dependencies are not TalkApp's), so this side only
starts bench/pipecat_client.py with that venv's python, reads the stamps it prints (delta
received, barge-in decided, truncate sent, ...) and gives the driver the same face as the other
clients. pipecat has no push-to-talk: the person only talks hands-free to it, with server VAD,
the mode it is set up in (`hands_free_only`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


class Trace(dict):
    """pipecat's trace of one side (bench/pipecat_client.py's `Trace`), as the worker exports it."""

    def export(self) -> dict:
        return dict(self)


class PipecatClient:
    name = "pipecat"
    block_ms = 40.0  # what pipecat writes at a time (4 x 10 ms), for the per-block rows
    hands_free_only = True
    modes = ("server_vad",)

    def __init__(self, ws_url: str, stamps: list, python: str, workdir: Path) -> None:
        self.ws_url, self.stamps, self.python = ws_url, stamps, python
        self.out_path = workdir / f"pipecat-{os.getpid()}.json"
        self.log_path = workdir / f"pipecat-{os.getpid()}.log"
        self.connected = threading.Event()
        self.deltas = 0
        self.responses = 0  # begun minus done
        self.speaking = False
        self.in_log, self.out_log = Trace(), Trace()
        self._statistics: dict | None = None
        self.proc: subprocess.Popen | None = None

    def _read(self, stdout) -> None:
        for line in stdout:
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            t, kind, detail = entry["t"], entry["kind"], entry["detail"]
            if kind == "ready":
                self.connected.set()
            elif kind == "delta":
                self.deltas += 1
                self.stamps.append((t, "delta", None))
            elif kind in ("decided", "truncate"):
                self.stamps.append((t, kind, detail))
            elif kind == "response":
                self.responses += 1
            elif kind == "done":
                self.responses = max(0, self.responses - 1)
            elif kind in ("speaking", "silent"):
                self.speaking = kind == "speaking"

    def _start(self) -> subprocess.Popen:
        with self.log_path.open("w") as log:  # pipecat logs much: kept for when it fails
            proc = subprocess.Popen(
                [self.python, str(HERE / "pipecat_client.py"), self.ws_url, str(self.out_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()
        return proc

    async def run(self) -> None:
        self.proc = self._start()
        while self.proc.poll() is None:
            await asyncio.sleep(0.1)
        if self._statistics is None:  # it ended before the bench asked it to
            raise RuntimeError(f"pipecat exited with {self.proc.returncode}: {self.log_tail()}")

    def log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return " | ".join(text.strip().splitlines()[-5:])

    async def set_mode(self, mode: str) -> None:
        if mode not in self.modes:
            raise ValueError(f"pipecat is set up for {self.modes} only, not {mode}")

    def idle(self) -> bool:
        return not self.speaking and self.responses == 0

    def statistics(self) -> dict:
        """Stops pipecat (stdin closes) and collects its traces; called once, at the end."""
        self._statistics = {}
        proc = self.proc
        if proc is None:
            raise RuntimeError("pipecat was not started")
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if not self.out_path.exists():
            raise RuntimeError(
                f"pipecat left no results (exit {proc.returncode}): {self.log_tail()}"
            )
        result = json.loads(self.out_path.read_text())
        for side, trace in (("out_log", self.out_log), ("in_log", self.in_log)):
            trace.update(
                {k: np.array(v, bool if k == "xrun" else None) for k, v in result[side].items()}
            )
        self._statistics = {
            **result["statistics"],
            "output_underflows": None,  # unread (bench/pipecat_client.py says why)
            "output_start_underflows": None,
            "ring_underruns": None,
            "ring_overruns": None,
            "output_rate": 24_000,
            "input_rate": 16_000,  # pipecat's default input rate
            "realtime": False,
        }
        return self._statistics
