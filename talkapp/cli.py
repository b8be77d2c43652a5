"""`talkapp` on the command line: the composition root for headless use. With no command,
`talkapp` opens the desktop app (talkapp/app.py).

    talkapp [--open-settings]
    talkapp --self-test
    talkapp say INPUT.wav [--model M] [--api auto|beta|ga|xai|gemini] [--provider P]
                          [--base-url URL] [--voice V] [--out OUT.wav] [--json] [--simulator]
    talkapp talk [--mode ptt|server_vad|semantic_vad|local_vad] [--duration S] [same flags]
    talkapp devices
    talkapp simulator [--host H] [--port N] [--beta accept|retired]
    talkapp history [--json] [--limit N] [--search TEXT] | show | export | delete | rename | keep
    talkapp spend [--json] [--budget USD|none]

Every failure exits non-zero with one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from talkapp import __version__
from talkapp.audio.wav import WavError, read_wav_for_wire, write_wav
from talkapp.cli_args import add_provider_arguments
from talkapp.compare import command as compare_command
from talkapp.history import command as history_command
from talkapp.history.store import HistoryError
from talkapp.platform.timers import TimerResolution
from talkapp.protocol.commands import SessionConfig
from talkapp.protocol.selection import API_SETTINGS
from talkapp.redaction import redact
from talkapp.session.client import Credential
from talkapp.session.recording import SessionRecording, recording_about
from talkapp.session.turns import Mode
from talkapp.settings.model import AUDIO_BLOCKS_MS, AudioSettings
from talkapp.settings.profile import DEFAULT_MODEL, ProviderProfile, command_line_profile
from talkapp.settings.providers import GEMINI_MODELS, XAI_MODELS
from talkapp.settings.secrets import MissingKey, find_api_key
from talkapp.simulator.config import SIMULATOR_KEY

if TYPE_CHECKING:
    from talkapp.audio.devices import Kind


class CliError(Exception):
    """A failure to report in one line and exit 1."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from talkapp.selftest import main as self_test

        return self_test()
    if not getattr(args, "run", None):
        from talkapp.app import run

        return run(open_settings=args.open_settings)
    try:
        return args.run(args)
    except (CliError, compare_command.CompareError, HistoryError) as exc:
        print(f"talkapp: {redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("talkapp: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talkapp",
        description="Talk to realtime voice models (OpenAI Realtime, beta and GA dialects).",
    )
    parser.add_argument("--version", action="version", version=f"talkapp {__version__}")
    parser.add_argument(
        "--open-settings", action="store_true", help="with no command: open the app on its settings"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (Qt, audio, VAD, echo canceller, TLS, keyring, data, "
        "simulator), one line per check; exit 1 if any fails",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    say = commands.add_parser(
        "say", help="send one spoken turn from a WAV file and print the reply"
    )
    say.add_argument(
        "input", metavar="INPUT.wav", help="any mono or stereo WAV; resampled to 24 kHz"
    )
    _add_profile_arguments(say)
    say.add_argument(
        "--out", metavar="OUT.wav", default=None, help="write the reply audio here (24 kHz mono)"
    )
    say.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on the last line instead of a table",
    )
    say.add_argument(
        "--fast",
        action="store_true",
        help="send the audio as fast as possible instead of in real time",
    )
    say.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the reply (default 60)"
    )
    history_command.add_session_arguments(say)
    say.set_defaults(run=_run_say)

    talk = commands.add_parser(
        "talk", help="a live conversation through the microphone and speaker"
    )
    _add_profile_arguments(talk)
    talk.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default="ptt",
        help="ptt: Enter starts/stops talking; server_vad / semantic_vad: the service hears turns; "
        "local_vad: TalkApp hears turns",
    )
    talk.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    talk.add_argument(
        "--input",
        default=None,
        help="microphone: a device name (or part of it) from `talkapp devices`",
    )
    talk.add_argument("--output", default=None, help="speaker: a device name (or part of it)")
    talk.add_argument(
        "--echo",
        choices=("aec", "gate", "headset"),
        default="aec",
        help="aec: cancel the speaker's echo (default); gate: duck the mic while the reply plays; "
        "headset: neither",
    )
    talk.add_argument(
        "--silence-ms",
        type=int,
        default=500,
        help="local_vad: silence that ends your turn (default 500)",
    )
    talk.add_argument(
        "--block-ms",
        type=int,
        choices=AUDIO_BLOCKS_MS,
        default=AudioSettings.block_ms,
        help="audio block: 5 hears replies soonest (default); 10 or 20 for a busy or virtual "
        "machine that crackles",
    )
    talk.add_argument(
        "--keep-speaker-open",
        action="store_true",
        help="play silence between replies (Bluetooth headphones that cut off a reply's first "
        "word); by default the speaker opens only while a reply plays",
    )
    history_command.add_session_arguments(talk)
    talk.set_defaults(run=_run_talk)

    compare_command.add_parser(commands)
    history_command.add_parsers(commands)

    replay_cmd = commands.add_parser(
        "replay", help="read a --capture file offline: what the app would have done"
    )
    replay_cmd.add_argument("capture", metavar="FILE", help="a file written by --capture")
    replay_cmd.add_argument(
        "--json", action="store_true", help="print one JSON object instead of lines"
    )
    replay_cmd.set_defaults(run=_run_replay)

    devices_cmd = commands.add_parser("devices", help="list audio input and output devices")
    devices_cmd.set_defaults(run=_run_devices)

    sim = commands.add_parser("simulator", help="run the local Realtime simulator (both dialects)")
    sim.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default loopback)"
    )
    sim.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)"
    )
    sim.add_argument(
        "--beta",
        choices=("accept", "retired"),
        default="accept",
        help=(
            "accept: serve the beta dialect as before 2026-05-12; retired: refuse it like OpenAI "
            "today"
        ),
    )
    sim.add_argument("--latency-ms", type=int, default=0, help="added think time before each reply")
    sim.set_defaults(run=_run_simulator)
    return parser


def _add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=None,
        help=f"realtime model id (default {DEFAULT_MODEL}; with --provider xai, {XAI_MODELS[0]}; "
        f"with --provider gemini, {GEMINI_MODELS[0]})",
    )
    parser.add_argument(
        "--api",
        choices=API_SETTINGS,
        default="auto",
        help="dialect: auto (the provider's, else from the model id), beta, ga, xai or gemini",
    )
    add_provider_arguments(parser)
    parser.add_argument(
        "--voice",
        default=None,
        help="assistant voice, any id the service takes, e.g. marin, Eve, Puck",
    )
    parser.add_argument(
        "--language",
        default=None,
        help="Gemini: the language the model speaks, e.g. en-US, de-DE (default: its choice)",
    )
    parser.add_argument(
        "--compress-after",
        type=_positive_int,
        default=None,
        metavar="TOKENS",
        help="Gemini: past this many tokens of context, keep a sliding window of half of them "
        "(for long conversations; default: no compression)",
    )
    parser.add_argument(
        "--transcription",
        default=None,
        metavar="MODEL",
        help=f"input transcription model, any id (default {SessionConfig.transcription_model}; "
        "Azure: a transcription deployment's name; none: off)",
    )
    parser.add_argument("--instructions", default=None, help="system instructions for the session")
    parser.add_argument(
        "--sign-in",
        choices=("key", "entra"),
        default="key",
        help="Azure: key (the api-key header, default) or entra (a Microsoft Entra ID token "
        "from azure-identity: pip install 'talkapp[azure]')",
    )
    parser.add_argument(
        "--simulator",
        action="store_true",
        help="run against the built-in simulator (no key, no network)",
    )
    parser.add_argument(
        "--simulator-beta", choices=("accept", "retired"), default="accept", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--record",
        metavar="FOLDER",
        default=None,
        help=(
            "record the session (input.wav, reply.wav, events.jsonl) into a new folder inside "
            "FOLDER"
        ),
    )
    parser.add_argument(
        "--capture",
        metavar="FILE",
        default=None,
        help="write every WebSocket frame, both ways, to FILE as JSON lines (audio as its length "
        "and hash, keys redacted) to attach to a bug report; `talkapp replay FILE` reads it",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of tokens")
    return value


def _profile(args: argparse.Namespace) -> ProviderProfile:
    config = SessionConfig(
        instructions=args.instructions,
        voice=args.voice,
        speech_language=args.language,
        context_compression_tokens=args.compress_after,
    )
    if args.transcription is not None:
        model = args.transcription.strip()
        off = model in ("", "none")
        config = dataclasses.replace(config, transcription_model=None if off else model)
    profile = command_line_profile(
        args.base_url,
        args.provider,
        api=args.api,
        model=args.model,
        session=config,
        system_proxy=not args.no_proxy,
        share_openai_key=args.share_openai_key,
        sign_in=args.sign_in,
    )
    if args.sign_in == "entra" and not profile.uses_entra:
        raise CliError(
            "--sign-in entra is for Azure OpenAI: add --provider azure (or azure_preview)."
        )
    return profile


def _run_say(args: argparse.Namespace) -> int:
    try:
        pcm = read_wav_for_wire(args.input)
    except WavError as exc:
        raise CliError(str(exc)) from None
    profile = _profile(args)
    manual = dataclasses.replace(
        profile.session, turn_detection=None
    )  # a file's turn ends where it ends
    history = history_command.before_session(args, profile, simulator=args.simulator)
    started_at = time.time()
    try:
        # Windows' 1 ms timer while the 20 ms chunks are paced and the timings taken.
        with TimerResolution():
            result = asyncio.run(
                _say(dataclasses.replace(profile, session=manual), pcm, args, history)
            )
        cost = history.record_turn(
            result.user_transcript,
            result.assistant_transcript,
            result.usage,
            result.timings.first_audio,
            started_at,
        )
    finally:
        history.close()
    if args.out:
        try:
            write_wav(args.out, result.reply_pcm)
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    from talkapp.report import turn_as_json, turn_as_table

    for note in result.notes:
        print(f"talkapp: note: {redact(note)}", file=sys.stderr)
    if args.json:
        kept = history.conversation_id if history.saved else None
        saved = {"conversation_id": kept, "cost_usd": cost}
        print(turn_as_json(result, args.out, saved))
    else:
        print(turn_as_table(result, args.out))
        if history.conversation_id is not None and history.saved:
            print(
                f"Saved as conversation {history.conversation_id} (talkapp history show "
                f"{history.conversation_id}; continue with --continue {history.conversation_id})"
            )
    return 0


async def _say(profile: ProviderProfile, pcm: bytes, args: argparse.Namespace, history):
    from talkapp.session.one_turn import TurnFailed, run_one_turn

    async with contextlib.AsyncExitStack() as stack:
        key: Credential
        if args.simulator:
            from talkapp.simulator import Simulator, SimulatorConfig

            sim = await stack.enter_async_context(
                Simulator(SimulatorConfig(beta_mode=args.simulator_beta))
            )
            profile = dataclasses.replace(profile, base_url=sim.url)
            key = SIMULATOR_KEY
        else:
            key = _api_key(profile)
        tap = None
        if args.record:
            tap = SessionRecording.in_folder(
                Path(args.record), profile.model, recording_about(profile)
            )
            history.audio_path = str(tap.folder)
        capture = _capture(args)
        if capture is not None:
            stack.callback(capture.close)
        try:
            pace = 0 if args.fast else 1.0
            return await run_one_turn(
                profile.endpoint(),
                key,
                profile.session,
                pcm,
                pace=pace,
                timeout=args.timeout,
                tap=tap,
                capture=capture,
                context=history.context.items,
            )
        except TurnFailed as exc:
            raise CliError(str(exc)) from None
        finally:
            if tap is not None:
                tap.close()


def _api_key(profile: ProviderProfile) -> Credential:
    if profile.uses_entra:
        from talkapp.settings.entra import EntraToken, EntraUnavailable, default_token_provider

        try:
            return EntraToken(default_token_provider())
        except EntraUnavailable as exc:
            raise CliError(str(exc)) from None
    if profile.key_problem:
        raise CliError(
            profile.key_problem.replace(
                "allow this profile to share the OpenAI key", "add --share-openai-key"
            )
        )
    try:
        return find_api_key(profile.key_name, profile.env_vars).value
    except MissingKey as exc:
        raise CliError(f"{exc} Or add --simulator to try the built-in simulator.") from None


def _run_talk(args: argparse.Namespace) -> int:
    from talkapp.audio.echo import EchoMode
    from talkapp.logs import start_logging
    from talkapp.session.engine import AudioOptions, Engine
    from talkapp.terminal import TerminalPrinter, run_talk
    from talkapp.threads.tuning import tuned_for_live_audio

    start_logging()
    audio = AudioOptions(
        input_device=_device(args.input, "input"),
        output_device=_device(args.output, "output"),
        echo=EchoMode(args.echo),
        vad_hangover_ms=args.silence_ms,
        block_ms=args.block_ms,
        output_on_demand=not args.keep_speaker_open,
    )
    profile = _profile(args)
    history = history_command.before_session(args, profile, simulator=args.simulator)
    with (
        _simulator_if(args) as sim_url,
        tuned_for_live_audio() as tuning,
        contextlib.closing(history),
    ):
        key = SIMULATOR_KEY if sim_url else _api_key(profile)
        profile = dataclasses.replace(profile, base_url=sim_url) if sim_url else profile
        printer = TerminalPrinter()
        emit = history_command.recording_emit(history, printer)
        record_to = Path(args.record) if args.record else None
        capture = _capture(args)
        try:
            tools = _terminal_toolbox()
            mode = Mode(args.mode)
            engine = Engine(
                profile,
                key,
                emit,
                mode,
                audio,
                record_to,
                tools=tools,
                capture=capture,
                tuning=tuning,
                context=history.context.items,
            )
            return run_talk(engine, printer, args.duration)
        finally:
            if capture is not None:
                capture.close()


def _capture(args: argparse.Namespace):
    if not args.capture:
        return None
    from talkapp.session.capture import WireCapture

    try:
        return WireCapture.to_file(args.capture)
    except OSError as exc:
        raise CliError(f"cannot write the capture {args.capture}: {exc.strerror or exc}") from None


def _run_replay(args: argparse.Namespace) -> int:
    from talkapp.session.replay import CaptureError, read_capture, replay

    try:
        with open(args.capture, encoding="utf-8") as file:
            entries = read_capture(file)
    except OSError as exc:
        raise CliError(f"cannot read {args.capture}: {exc.strerror or exc}") from None
    except (CaptureError, UnicodeDecodeError) as exc:
        raise CliError(f"{args.capture}: {exc}") from None
    replayed = replay(entries)
    if args.json:
        print(json.dumps(replayed.as_json(), ensure_ascii=False))
    else:
        print("\n".join(replayed.lines))
        print("\n--- transcript ---\n" + replayed.transcript.as_markdown(), end="")
    if replayed.undecodable:
        first = replayed.undecodable[0]
        raise CliError(
            f"{len(replayed.undecodable)} frame(s) could not be decoded; the first, at "
            f"{first['t']:.3f} s: {first['type'] or 'frame'}: {first['problem']}"
        )
    return 0


def _terminal_toolbox():
    """The tools the desktop app's settings turn on (Settings → Tools & MCP), less the
    clipboard: its permission is given in the app, whose clipboard the terminal does not have."""
    from talkapp.settings.store import SettingsStore
    from talkapp.tools.toolbox import open_toolbox

    loaded = SettingsStore().load()
    for notice in loaded.notices:
        print(f"[warning] {notice}", file=sys.stderr)
    return asyncio.run(open_toolbox(dataclasses.replace(loaded.settings.tools, clipboard=False)))


@contextlib.contextmanager
def _simulator_if(args: argparse.Namespace):
    """The built-in simulator on its own thread, for commands whose own loop lives elsewhere."""
    if not args.simulator:
        yield None
        return
    from talkapp.simulator import SimulatorConfig
    from talkapp.simulator.on_thread import SimulatorThread

    config = SimulatorConfig(beta_mode=args.simulator_beta, record_events=False)
    with SimulatorThread(config) as url:
        yield url


def _device(text: str | None, kind: Kind):
    """A device named on the command line: an exact name, or a part of exactly one name."""
    if text is None:
        return None
    from talkapp.audio import devices

    try:
        return devices.resolve(text, kind).key
    except devices.AudioUnavailable as exc:
        raise CliError(str(exc)) from None
    except devices.NoSuchDevice as exc:
        raise CliError(f"--{kind} {exc}") from None


def _run_devices(args: argparse.Namespace) -> int:
    from talkapp.audio import devices

    try:
        print("\n".join(devices.device_table()))
    except devices.AudioUnavailable as exc:
        raise CliError(str(exc)) from None
    return 0


def _run_simulator(args: argparse.Namespace) -> int:
    from talkapp.simulator import SimulatorConfig, serve_forever

    config = SimulatorConfig(beta_mode=args.beta, latency_ms=args.latency_ms, record_events=False)

    def ready(url: str) -> None:
        print(
            f"TalkApp Realtime simulator listening on {url}  (beta dialect: {args.beta}; Ctrl-C "
            "stops)\n"
            f"It takes any key, e.g.: TALKAPP_CUSTOM_API_KEY=any talkapp say INPUT.wav "
            f"--base-url {url}\n"
            f"Gemini Live too: GEMINI_API_KEY=any talkapp say INPUT.wav --provider gemini "
            f"--base-url {url.removesuffix('/v1')}",
            flush=True,
        )

    from talkapp.transport.websocket import is_loopback_host

    if not is_loopback_host(args.host):
        print(
            f"talkapp: warning: --host {args.host} lets other machines reach the simulator, "
            "and it takes any key; use --host 127.0.0.1 unless you mean that.",
            file=sys.stderr,
            flush=True,
        )

    try:
        asyncio.run(serve_forever(config, host=args.host, port=args.port, ready=ready))
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        return 0
    return 0
