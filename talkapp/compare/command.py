"""`talkapp compare INPUT --config C ...`: the comparison from the command line."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from talkapp.audio.wav import WavError, read_wav_for_wire
from talkapp.cli_args import add_provider_arguments
from talkapp.compare import report
from talkapp.compare.configs import CompareConfig, ConfigError, parse_config
from talkapp.compare.job import Plan, run_plan
from talkapp.compare.prices import load_prices
from talkapp.protocol.commands import SessionConfig
from talkapp.settings.profile import command_line_profile
from talkapp.settings.store import SettingsStore
from talkapp.simulator.config import SimulatorConfig


class CompareError(Exception):
    """One line for the user; the command exits 1."""


def add_parser(commands) -> None:
    p = commands.add_parser(
        "compare", help="run one utterance through several models/dialects and compare them"
    )
    p.add_argument(
        "input", metavar="INPUT", help="a WAV file, or a recording folder (its input.wav)"
    )
    p.add_argument(
        "--config",
        action="append",
        required=True,
        metavar="CONFIG",
        help="a saved profile's name or MODEL[:auto|beta|ga|xai]"
        "[,voice=V,reasoning=R,turn=server_vad|semantic_vad|none] (repeat for each configuration)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per configuration (median and spread are reported)",
    )
    p.add_argument(
        "--concurrent", action="store_true", help="run the configurations at the same time"
    )
    add_provider_arguments(p, " for inline configs")
    p.add_argument("--simulator", action="store_true", help="run against the built-in simulator")
    p.add_argument(
        "--sim-latency",
        action="append",
        default=[],
        metavar="MODEL=MS",
        help="simulator only: think time for a model, e.g. gpt-realtime-mini=50",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="send the audio as fast as possible instead of in real time",
    )
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
    base = command_line_profile(
        args.base_url,
        args.provider,
        session=manual,
        system_proxy=not args.no_proxy,
        share_openai_key=args.share_openai_key,
    )
    try:
        configs = [parse_config(spec, saved, base) for spec in args.config]
    except ConfigError as exc:
        raise CompareError(str(exc)) from None
    prices, problems = load_prices(SettingsStore().folder / "prices.json")
    results = asyncio.run(
        run_plan(_plan(configs, pcm, args), prices, progress=lambda _result: None)
    )
    rows = report.summarize(results)
    print(
        report.as_json(rows, prices)
        if args.json
        else report.as_csv(rows, lineterminator="\n")  # stdout is text mode: its own line ends
        if args.csv
        else report.as_table(rows, prices)
    )
    for problem in problems:
        print(f"note: {problem}")
    # the table is printed either way; a script learns from the status that nothing ran
    return 0 if any(row.ok_runs for row in rows) else 1


def _input(path: Path) -> bytes:
    wav = path / "input.wav" if path.is_dir() else path
    try:
        return read_wav_for_wire(wav)
    except WavError as exc:
        raise CompareError(str(exc)) from None


def _plan(configs: list[CompareConfig], pcm: bytes, args: argparse.Namespace) -> Plan:
    """The same plan the Compare view runs (`job.run_plan`): keys looked up once, the built-in
    simulator for `--simulator` or configurations on the simulator profile."""
    per_model = {}
    for pair in args.sim_latency:
        model, sep, ms = pair.partition("=")
        if not sep or not ms.isdigit():
            raise CompareError(f"--sim-latency {pair}: use MODEL=MILLISECONDS")
        per_model[model] = int(ms)
    return Plan(
        tuple(configs),
        pcm,
        repeat=args.repeat,
        concurrent=args.concurrent,
        pace=0 if args.fast else 1.0,
        offline=args.simulator,
        simulator=SimulatorConfig(model_latency_ms=per_model, record_events=False),
    )
