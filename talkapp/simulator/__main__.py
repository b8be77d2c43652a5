"""`python -m talkapp.simulator --port 8765`: run the simulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from talkapp.simulator import SimulatorConfig, serve_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m talkapp.simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--beta-mode", choices=("accept", "retired"), default="accept")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    config = SimulatorConfig(beta_mode=args.beta_mode, latency_ms=args.latency_ms)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_forever(config, args.host, args.port, ready=lambda url: print(url, flush=True))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
