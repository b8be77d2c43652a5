"""`talkapp compare INPUT --config C ...`: the comparison from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
from pathlib import Path

from talkapp.audio.wav import WavError, read_wav_for_wire
from talkapp.compare import report
from talkapp.compare.configs import CompareConfig, ConfigError, parse_config
from talkapp.compare.prices import load_prices
from talkapp.compare.runner import run_comparison
from talkapp.protocol.commands import SessionConfig
from talkapp.cli_args import add_provider_arguments
from talkapp.settings.profile import command_line_profile
from talkapp.settings.secrets import MissingKey, find_api_key
from talkapp.settings.store import SettingsStore
from talkapp.simulator.config import SIMULATOR_KEY


class CompareError(Exception):
    """One line for the user; the command exits 1."""


def add_parser(commands) -> None:
    p = commands.add_parser("compare", help="run one utterance through several models/dialects and compare them")
    p.add_argument("input", metavar="INPUT", help="a WAV file, or a recording folder (its input.wav)")
    p.add_argument("--config", action="append", required=True, metavar="CONFIG",
                   help="a saved profile's name or MODEL[:auto|beta|ga][,voice=V,reasoning=R,turn=server_vad|semantic_vad|none]"
                        " (repeat for each configuration)")
    p.add_argument("--repeat", type=int, default=1, help="runs per configuration (median and spread are reported)")
    p.add_argument("--concurrent", action="store_true", help="run the configurations at the same time")
    add_provider_arguments(p, " for inline configs")
    p.add_argument("--simulator", action="store_true", help="run against the built-in simulator")
    p.add_argument("--sim-latency", action="append", default=[], metavar="MODEL=MS",
                   help="simulator only: think time for a model, e.g. gpt-realtime-mini=50")
    p.add_argument("--fast", action="store_true", help="send the audio as fast as possible instead of in real time")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object with a `results` list")
    form.add_argument("--csv", action="store_true", help="CSV, one row per configuration")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise CompareError("--repeat must be 1 or more")
    pcm = _input(Path(args.input))
    saved = SettingsStore().load().settings.profiles
    # Inline configs commit the turn themselves unless they say `turn=...`: the cleanest
    # comparison of the models; a service VAD adds its own silence wait (real, but not the model's).
    manual = SessionConfig(turn_detection=None)
    base = command_line_profile(args.base_url, args.provider, session=manual)
    try:
        configs = [parse_config(spec, saved, base) for spec in args.config]
    except ConfigError as exc:
        raise CompareError(str(exc)) from None
    prices, problems = load_prices(SettingsStore().folder / "prices.json")
    results = asyncio.run(_compare(configs, pcm, prices, args))
    rows = report.summarize(results)
    print(report.as_json(rows, prices) if args.json else report.as_csv(rows) if args.csv else report.as_table(rows, prices))
    for problem in problems:
        print(f"note: {problem}")
    return 0


def _input(path: Path) -> bytes:
    wav = path / "input.wav" if path.is_dir() else path
    try:
        return read_wav_for_wire(wav)
    except WavError as exc:
        raise CompareError(str(exc)) from None


async def _compare(configs: list[CompareConfig], pcm: bytes, prices, args: argparse.Namespace):
    async with contextlib.AsyncExitStack() as stack:
        if args.simulator or any(c.profile.provider == "simulator" for c in configs):
            url = await stack.enter_async_context(_simulator(args.sim_latency))
            configs = [_on_simulator(c, url, args.simulator) for c in configs]
        return await run_comparison(configs, pcm, _key_for, prices, repeat=args.repeat,
                                    concurrent=args.concurrent, pace=0 if args.fast else 1.0)


def _on_simulator(config: CompareConfig, url: str, everything: bool) -> CompareConfig:
    if everything or config.profile.provider == "simulator":
        profile = dataclasses.replace(config.profile, base_url=url, provider="simulator")
        return dataclasses.replace(config, profile=profile)
    return config


@contextlib.asynccontextmanager
async def _simulator(latencies: list[str]):
    from talkapp.simulator import Simulator, SimulatorConfig

    per_model = {}
    for pair in latencies:
        model, sep, ms = pair.partition("=")
        if not sep or not ms.isdigit():
            raise CompareError(f"--sim-latency {pair}: use MODEL=MILLISECONDS")
        per_model[model] = int(ms)
    async with Simulator(SimulatorConfig(model_latency_ms=per_model)) as sim:
        yield sim.url


def _key_for(config: CompareConfig) -> str:
    if config.profile.provider == "simulator":
        return SIMULATOR_KEY
    try:
        return find_api_key(config.profile.key_name or "openai", config.profile.env_var).value
    except MissingKey as exc:
        raise RuntimeError(str(exc)) from None
