"""Output underruns at stream start: the engine started and stopped N times (a script).

    .venv/bin/python bench/stream_start.py [--starts 40]

Each start opens the streams on a private PulseAudio (tests/audio_server.py's daemon, with both
monitors recorded as in bench/audio_latency.py) and connects to a simulator in another process;
0.4 s later it reads PortAudio's underflow counts and stops. Prints how many starts flagged an
underflow while the output stream filled its buffer at start (only silence has played), and how
many after that.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import audio_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=40)
    args = parser.parse_args()
    pulse = audio_server._start_daemon(Path(tempfile.mkdtemp(prefix="bench-start-")))
    pulse.adopt_environment()
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "talkapp", "simulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    recordings = [pulse.record("speaker.monitor"), pulse.record("micfeed.monitor")]
    try:
        time.sleep(1.5)  # the simulator's import and bind
        from talkapp.session.engine import Engine
        from talkapp.session.turns import Mode
        from talkapp.settings.profile import ProviderProfile
        from talkapp.threads.loop import ENGINE_LOOP_PRIORITY, LoopThread
        from talkapp.threads.tuning import LiveAudioTuning

        loop = LoopThread("bench-start", realtime_priority=ENGINE_LOOP_PRIORITY).start()
        profile = ProviderProfile(
            base_url=f"ws://127.0.0.1:{port}/v1/realtime", model="gpt-realtime"
        )
        counts = []
        tuning = LiveAudioTuning()  # as the app and `talkapp talk` run their engines
        for _ in range(args.starts):
            engine = Engine(
                profile, "sk-bench", lambda event: None, Mode.PUSH_TO_TALK, tuning=tuning
            )
            if not loop.submit(engine.start()).result(15):
                raise RuntimeError("the engine did not start")
            time.sleep(0.4)
            stats = engine.statistics()
            counts.append((stats.output_start_underflows, stats.output_underflows))
            loop.submit(engine.stop()).result(15)
        loop.stop()
    finally:
        for recording in recordings:
            recording.stop()
        simulator.terminate()
        audio_server._stop_daemon(pulse)
    n = len(counts)
    for i, name in enumerate(
        ("in the start-up fill (AudioIO's output_start_underflows)", "after it (output_underflows)")
    ):
        flagged = sum(1 for c in counts if c[i])
        print(f"starts {n}, with an output underflow {name}: {flagged} ({100 * flagged / n:.0f} %)")


if __name__ == "__main__":
    main()
