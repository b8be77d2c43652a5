"""The plain SDK client (bench/baseline_client.py) sitting connected, for bench/idle_cpu.py.

    python bench/idle_worker.py WS_URL MODE

Connects, switches to MODE (`server_vad`: listening, the microphone streamed to the service),
prints `ready`, and waits until its stdin closes. Nothing talks: the CPU it spends is what
waiting costs this client.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline_client import BaselineClient

from talkapp.threads.loop import LoopThread


def main() -> None:
    ws_url, mode = sys.argv[1], sys.argv[2]
    loop = LoopThread("bench-sdk").start()
    client = BaselineClient(ws_url, ws_url.replace("ws://", "http://"), [])
    running = loop.submit(client.run())
    deadline = time.monotonic() + 15
    while not client.connected.is_set():
        if running.done():
            running.result()  # raises why
        if time.monotonic() > deadline:
            raise RuntimeError("the SDK client did not connect in 15 s")
        time.sleep(0.01)
    loop.submit(client.set_mode(mode)).result(10)
    print("ready", flush=True)
    sys.stdin.read()  # until the bench closes it
    running.cancel()
    loop.stop()


if __name__ == "__main__":
    main()
