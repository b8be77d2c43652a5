"""The person's voice, from outside the client's process (bench/latency_worker.py's helper).

    python bench/mic_feeder.py

Reads lines `PATH SINK` on stdin; plays each raw 24 kHz mono s16le file into SINK with paplay
(the sound server from the environment) and answers `done` on stdout when the server has played
it all. Why a process of its own: a person talking does not fork the app. Spawning paplay from
the client (tests/audio_server.PulseServer.feed_mic) forks a process of a few hundred MB, which
held the client's PortAudio callbacks up to 16 ms and caused underruns the app did not cause.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from audio_server import paplay_command

for line in sys.stdin:
    path, sink = line.split()
    subprocess.run(paplay_command(path, sink), check=False)
    print("done", flush=True)
