"""Mutation testing by hand-picked mutants: small realistic bugs, one at a time, each against the
tests that should catch it. A mutant the tests let through ("survived") is a behaviour no test
pins down.

    .venv/bin/python bench/mutants.py                    # every mutant (a few minutes)
    .venv/bin/python bench/mutants.py --package turns    # one package: turns, protocol, ring,
                                                         # resampler, compare, session, cli
    .venv/bin/python bench/mutants.py --list             # what each mutant does

Each mutant replaces one exact piece of source (found exactly once, or the mutant is reported
as stale), runs its tests with `pytest -x -q`, and puts the file back (also on Ctrl-C). It
refuses to touch a file with uncommitted changes, so it never mixes with your work. Prints a
table and the score: killed / (killed + survived).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TESTS = {
    "turns": [
        "tests/test_turns.py",
        "tests/test_turns_model.py",
        *(
            f"tests/test_tool_flow.py::{t}"
            for t in (  # the policy's part of tool rounds
                "test_the_policy_waits_through_a_tool_round_and_asks_once_no_reply_being_active",
                "test_an_abandoned_round_gives_the_turn_back",
                "test_tools_answered_while_the_user_talks_leave_the_reply_to_their_turn",
                "test_a_reply_owed_to_tools_is_asked_for_when_the_users_turn_comes_to_nothing",
            )
        ),
    ],
    "protocol": [
        "tests/test_protocol_rules.py",
        "tests/test_sdk_validation.py",
        "tests/test_text_output.py",
        "--deselect",
        "tests/test_text_output.py::test_a_text_only_conversation",  # needs a sound server
    ],
    "ring": ["tests/test_ring.py"],
    "resampler": ["tests/test_resampler.py"],
    "compare": ["tests/test_compare.py", "-k", "spread or cached or price or unknown"],
    "session": ["tests/test_keeper.py", "-k", "renewal"],
    "cli": ["tests/test_cli_say.py", "-k", "retires"],
}

# The reference's example events, decoded and broken by these two (tests/fixtures/protocol).
TESTS["protocol"][:0] = ["tests/test_protocol_fixtures.py", "tests/test_protocol_robustness.py"]


@dataclass(frozen=True)
class Mutant:
    name: str
    package: str  # which tests run (TESTS)
    path: str
    old: str
    new: str


MUTANTS = [
    # ---- turn-taking (the eight the 2026-12 audit saw survive come first, with the pure ones) ----
    Mutant(
        "barge-in ignores its confirmation time",
        "turns",
        "talkapp/session/turns.py",
        "and 1000 * (now - self._speech_since) >= self.settings.confirm_ms)",
        "and True)",
    ),
    Mutant(
        "the second reply's item is never queued",
        "turns",
        "talkapp/session/turns.py",
        "        if item_id not in self._queued:\n",
        "        if not self._queued:\n",
    ),
    Mutant(
        "a drained reply's items stay queued",
        "turns",
        "talkapp/session/turns.py",
        "        self._playing = False\n        self._queued.clear()\n",
        "        self._playing = False\n",
    ),
    Mutant(
        "no WAITING guard on a reply's end",
        "turns",
        "talkapp/session/turns.py",
        "if self._playing or self.phase not in (Phase.WAITING, Phase.ASSISTANT_SPEAKING):",
        "if self._playing:",
    ),
    Mutant(
        "a second create while the first is unanswered",
        "turns",
        "talkapp/session/turns.py",
        "if self._response is not None or self._requested:",
        "if self._response is not None:",
    ),
    Mutant(
        "the mic is gated in every mode",
        "turns",
        "talkapp/session/turns.py",
        "if not self.mode.service_detects_turns or self._mic_gated:",
        "if self._mic_gated:",
    ),
    Mutant(
        "short presses are sent",
        "turns",
        "talkapp/session/turns.py",
        "if held_ms < self.settings.min_press_ms:",
        "if held_ms < 0:",
    ),
    Mutant(
        "late audio of a cancelled reply plays",
        "turns",
        "talkapp/session/turns.py",
        "        if response_id in self._cancelled:\n            return []  # late",
        "        if False:\n            return []  # late",
    ),
    Mutant(
        "the service is told before the speaker is silenced",
        "turns",
        "talkapp/session/turns.py",
        "out = [FlushPlayback(), *out, *(Interrupt",
        "out = [*out, FlushPlayback(), *(Interrupt",
    ),
    Mutant(
        "echo confirms a barge-in (no echo tail)",
        "turns",
        "talkapp/session/turns.py",
        ">= self.settings.echo_tail_ms)",
        ">= 0)",
    ),
    # ---- protocol ----
    Mutant(
        "GA output_text.done read as a transcript",
        "protocol",
        "talkapp/protocol/ga.py",
        '"response.output_text.done": d.assistant_text_done,',
        '"response.output_text.done": d.assistant_transcript_done,',
    ),
    Mutant(
        "beta response.text.done ignored",
        "protocol",
        "talkapp/protocol/beta.py",
        '"response.text.done": d.assistant_text_done,',
        '"response.text.done": d.ignore,',
    ),
    Mutant(
        "cached tokens read from the text count",
        "protocol",
        "talkapp/protocol/decoding.py",
        'input_cached=_count(inputs, "cached_tokens"),',
        'input_cached=_count(inputs, "text_tokens"),',
    ),
    Mutant(
        "cancel names no response",
        "protocol",
        "talkapp/protocol/encoding.py",
        '{"type": "response.cancel"} | ({"response_id": response_id} if response_id else {})',
        '{"type": "response.cancel"}',
    ),
    Mutant(
        "a negative truncate is sent as is",
        "protocol",
        "talkapp/protocol/encoding.py",
        '"audio_end_ms": max(0, int(end_ms)),',
        '"audio_end_ms": int(end_ms),',
    ),
    # ---- ring ----
    Mutant(
        "a flush counts as applied before it is",
        "ring",
        "talkapp/audio/ring.py",
        "return position if applied >= generation else None",
        "return position",
    ),
    Mutant(
        "a reply's natural end counts as an underrun",
        "ring",
        "talkapp/audio/ring.py",
        "if (n > 0 or self._flowing) and self._st.read_pos != self._st.end_mark:",
        "if n > 0 or self._flowing:",
    ),
    Mutant(
        "overruns are not counted",
        "ring",
        "talkapp/audio/ring.py",
        "            st.overruns += 1\n",
        "            pass\n",
    ),
    # ---- resampler ----
    Mutant(
        "outputs emitted before their last tap arrived",
        "resampler",
        "talkapp/audio/resampler.py",
        "return self._emit(self._outputs_before(self._received - self._half))",
        "return self._emit(self._outputs_before(self._received))",
    ),
    Mutant(
        "the stream's end loses its tail",
        "resampler",
        "talkapp/audio/resampler.py",
        "silence = np.zeros((self._half, self.channels), dtype=np.float32)",
        "silence = np.zeros((0, self.channels), dtype=np.float32)",
    ),
    # ---- compare: statistics and prices ----
    Mutant(
        "median and min swapped",
        "compare",
        "talkapp/compare/stats.py",
        "Spread(round(statistics.median(known), 3), min(known),",
        "Spread(min(known), round(statistics.median(known), 3),",
    ),
    Mutant(
        "cached-only split swapped",
        "compare",
        "talkapp/compare/prices.py",
        "return text, usage.input_cached - text",
        "return usage.input_cached - text, text",
    ),
    Mutant(
        "cached text billed at the full rate",
        "compare",
        "talkapp/compare/prices.py",
        "+ cached_text * price.text_cached",
        "+ cached_text * price.text_in",
    ),
    # ---- added after the tests above were written (nobody aimed tests at these) ----
    Mutant(
        "an unconfirmed pause resumes one period late",
        "turns",
        "talkapp/session/turns.py",
        ">= self.settings.resume_after_ms:",
        "> self.settings.resume_after_ms:",
    ),
    Mutant(
        "the mic reopens with the echo tail as preroll",
        "turns",
        "talkapp/session/turns.py",
        "self._ungate_mic(preroll_ms=0)",
        "self._ungate_mic()",
    ),
    Mutant(
        "local-VAD blips become turns",
        "turns",
        "talkapp/session/turns.py",
        "if spoke_ms < self.settings.min_segment_ms:",
        "if spoke_ms < 0:",
    ),
    Mutant(
        "a paused reply stays paused after a lost connection",
        "turns",
        "talkapp/session/turns.py",
        "out: list[Action] = [StreamMic(False), ResumePlayback()]",
        "out: list[Action] = [StreamMic(False)]",
    ),
    Mutant(
        "a reply owed to tools is asked for twice",
        "turns",
        "talkapp/session/turns.py",
        "                self._reply_owed = False  # this reply sees",
        "                pass  # this reply sees",
    ),
    Mutant(
        "bad base64 audio decodes anyway",
        "protocol",
        "talkapp/protocol/decoding.py",
        'pcm = base64.b64decode(_text(raw, "delta"), validate=True)',
        'pcm = base64.b64decode(_text(raw, "delta"))',
    ),
    Mutant(
        "speech start read from the wrong field",
        "protocol",
        "talkapp/protocol/decoding.py",
        '_get(raw, "audio_start_ms", int)),)',
        '_get(raw, "audio_end_ms", int) if "audio_end_ms" in raw else 0),)',
    ),
    Mutant(
        "no anti-alias filter when downsampling",
        "resampler",
        "talkapp/audio/resampler.py",
        "scale = min(1.0, up / down)",
        "scale = 1.0",
    ),
    Mutant(
        "a dated snapshot has no price",
        "compare",
        "talkapp/compare/prices.py",
        'return self.prices.get(model) or self.prices.get(_DATED.sub("", model))',
        "return self.prices.get(model)",
    ),
    # ---- off the pure packages, named by the audit ----
    Mutant(
        "no context replay on a planned renewal",
        "session",
        "talkapp/session/keeper.py",
        "fresh = await self._open(with_history=True)",
        "fresh = await self._open(with_history=False)",
    ),
    Mutant(
        "talkapp simulator --beta retired ignored",
        "cli",
        "talkapp/cli.py",
        "config = SimulatorConfig(beta_mode=args.beta, latency_ms=",
        "config = SimulatorConfig(latency_ms=",
    ),
]


def run_tests(package: str, timeout_s: float) -> tuple[bool, float]:
    """True if the tests passed (the mutant survived)."""
    started = time.monotonic()
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        *TESTS[package],
    ]
    try:
        done = subprocess.run(
            command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return False, time.monotonic() - started  # a hang is caught too: killed
    return done.returncode == 0, time.monotonic() - started


def uncommitted(path: str) -> bool:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--", path],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return bool(status.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--package", choices=sorted(TESTS), action="append", help="only these (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per mutant's tests")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.package or m.package in args.package]
    if args.list:
        for m in chosen:
            print(f"{m.package:9}  {m.name}  ({m.path})")
        return 0
    dirty = sorted({m.path for m in chosen if uncommitted(m.path)})
    if dirty:
        print(
            f"mutants.py: commit or stash your changes first: {', '.join(dirty)}", file=sys.stderr
        )
        return 2
    for package in sorted({m.package for m in chosen}):  # the unmutated code must pass
        passed, _ = run_tests(package, args.timeout)
        if not passed:
            print(
                f"mutants.py: the {package} tests fail without any mutant; fix that first",
                file=sys.stderr,
            )
            return 2
    rows = []
    for m in chosen:
        source = ROOT / m.path
        original = source.read_text()
        if original.count(m.old) != 1:
            rows.append((m, "stale", 0.0))
            continue
        try:
            source.write_text(original.replace(m.old, m.new))
            survived, took = run_tests(m.package, args.timeout)
        finally:
            source.write_text(original)
        rows.append((m, "SURVIVED" if survived else "killed", took))
        print(f"  {rows[-1][1]:8}  {m.package:9}  {m.name}", flush=True)
    print()
    width = max(len(m.name) for m, _, _ in rows)
    print(f"{'package':9}  {'mutant':{width}}  {'result':8}  tests s")
    for m, result, took in rows:
        print(f"{m.package:9}  {m.name:{width}}  {result:8}  {took:7.1f}")
    killed = sum(result == "killed" for _, result, _ in rows)
    survived = sum(result == "SURVIVED" for _, result, _ in rows)
    stale = len(rows) - killed - survived
    print(
        f"\nmutation score: {killed}/{killed + survived} killed "
        f"({100 * killed / max(1, killed + survived):.0f} %)"
        + (f"; {stale} stale (the source changed: update them)" if stale else "")
    )
    return 0 if not survived and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
