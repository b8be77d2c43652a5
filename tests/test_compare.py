"""Model comparison against the simulator over real sockets: both dialects on one WAV, timings
that follow the injected latencies, usage and cost from the service's own usage, failures kept
to their row, recordings replayed, and no key in any event log."""

import asyncio
import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import voice_like
from fake_keys import fake_key

from talkapp.audio.pcm import float_to_pcm16, speech_end
from talkapp.audio.wav import write_wav
from talkapp.compare import report
from talkapp.compare.configs import ConfigError, parse_config
from talkapp.compare.prices import Price, cost_of, load_prices
from talkapp.compare.runner import run_comparison
from talkapp.compare.stats import spread
from talkapp.protocol.commands import SessionConfig
from talkapp.protocol.events import Usage
from talkapp.session.one_turn import MIN_COMMIT_BYTES, TurnFailed, run_one_turn
from talkapp.session.recording import SessionRecording, recording_about
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

BASE = ProviderProfile(name="cli", session=SessionConfig(turn_detection=None))


@pytest.fixture
def utterance():
    silence = np.zeros(4800, np.float32)
    return float_to_pcm16(np.concatenate([silence, voice_like(1.0), silence]))


def _configs(sim, *specs):
    configs = [parse_config(spec, (), BASE) for spec in specs]
    import dataclasses

    return [
        dataclasses.replace(c, profile=dataclasses.replace(c.profile, base_url=sim.url))
        for c in configs
    ]


async def test_beta_and_ga_side_by_side_follow_the_injected_latencies(utterance):
    prices, _ = load_prices()
    latency = {"gpt-4o-realtime-preview": 600, "gpt-realtime-2": 50}
    async with Simulator(
        SimulatorConfig(model_latency_ms=latency, knobs=Knobs(audio_pace=0))
    ) as sim:
        configs = _configs(sim, "gpt-4o-realtime-preview:beta", "gpt-realtime-2")
        results = await run_comparison(
            configs, utterance, lambda c: "sk-test", prices, repeat=2, pace=0
        )
    rows = {r.config: r for r in report.summarize(results)}
    slow, fast = rows["gpt-4o-realtime-preview:beta"], rows["gpt-realtime-2"]
    assert (slow.dialect, fast.dialect) == ("beta", "ga") and slow.ok_runs == fast.ok_runs == 2
    assert (
        fast.timings["first_audio"].high < slow.timings["first_audio"].low
    )  # ordering, not numbers
    assert fast.timings["done"].median < slow.timings["done"].median
    assert slow.transcript.startswith("This is the TalkApp simulator") and "beta" in slow.transcript


async def test_usage_and_cost_come_from_the_services_response_done(utterance):
    prices, _ = load_prices()
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        (result,) = await run_comparison(
            _configs(sim, "gpt-realtime"), utterance, lambda c: "sk-test", prices, pace=0
        )
        done = next(
            e
            for e in sim.connections[0].sent
            if isinstance(e, dict) and e["type"] == "response.done"
        )
    usage = done["response"]["usage"]
    assert (
        result.usage.input_total == usage["input_tokens"]
        and result.usage.output_total == usage["output_tokens"]
    )
    assert result.usage.output_audio == usage["output_token_details"]["audio_tokens"]
    p = prices.price_for("gpt-realtime")
    details, cached = (
        usage["input_token_details"],
        usage["input_token_details"]["cached_tokens_details"],
    )
    expected = (
        (details["text_tokens"] - cached["text_tokens"]) * p.text_in
        + cached["text_tokens"] * p.text_cached
        + (details["audio_tokens"] - cached["audio_tokens"]) * p.audio_in
        + cached["audio_tokens"] * p.audio_cached
        + usage["output_token_details"]["text_tokens"] * p.text_out
        + usage["output_token_details"]["audio_tokens"] * p.audio_out
    ) / 1e6
    assert result.cost == pytest.approx(expected) and result.cost > 0


async def test_a_failing_configuration_shows_its_error_and_the_others_complete(utterance):
    prices, _ = load_prices()
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        configs = _configs(sim, "gpt-nope", "gpt-realtime-mini")
        results = await run_comparison(
            configs, utterance, lambda c: "sk-test", prices, concurrent=True, pace=0
        )
    rows = {r.config: r for r in report.summarize(results)}
    assert rows["gpt-nope"].ok_runs == 0 and "gpt-nope" in rows["gpt-nope"].errors[0]
    assert rows["gpt-realtime-mini"].ok_runs == 1 and rows["gpt-realtime-mini"].transcript
    table = report.as_table(list(rows.values()), prices)
    assert "gpt-nope: error: The service does not offer model 'gpt-nope'" in table


def test_a_model_without_a_price_costs_unknown_never_zero():
    prices, _ = load_prices()
    assert prices.cost("sim-fast", Usage(input_audio=10)) is None
    assert (
        prices.cost("gpt-realtime-2025-08-28", Usage(input_audio=1_000_000)) == 32.0
    )  # a dated snapshot
    rows = [
        report.Row(
            "x",
            "sim-fast",
            "ga",
            1,
            1,
            (),
            {t: None for t in report.TIMINGS},
            None,
            {t: None for t in report.TOKENS},
            None,
            "",
        )
    ]
    assert json.loads(report.as_json(rows, prices))["results"][0]["cost_usd"] == "unknown"


def test_cached_tokens_are_billed_at_the_cached_rate():
    price = Price(
        text_in=4, text_cached=0.4, text_out=16, audio_in=32, audio_cached=0.4, audio_out=64
    )
    usage = Usage(
        input_text=1000,
        input_audio=1000,
        input_cached=1000,
        input_cached_text=500,
        input_cached_audio=500,
        output_text=100,
        output_audio=100,
    )
    assert cost_of(usage, price) == pytest.approx(
        (500 * 4 + 500 * 0.4 + 500 * 32 + 500 * 0.4 + 100 * 16 + 100 * 64) / 1e6
    )


def test_the_users_price_file_overrides_the_shipped_table(tmp_path):
    (tmp_path / "prices.json").write_text(
        json.dumps(
            {
                "taken": "2027-01-01",
                "models": {
                    "gpt-realtime": {
                        "text_in": 1,
                        "text_cached": 0,
                        "text_out": 1,
                        "audio_in": 1,
                        "audio_cached": 0,
                        "audio_out": 1,
                    },
                    "broken": {"text_in": "cheap"},
                },
            }
        )
    )
    prices, problems = load_prices(tmp_path / "prices.json")
    assert prices.price_for("gpt-realtime").audio_in == 1 and prices.taken == "2027-01-01"
    assert prices.price_for("gpt-realtime-2").audio_in == 32  # the rest of the shipped table stays
    assert len(problems) == 1 and "broken" in problems[0]


@pytest.mark.parametrize(
    "spec, model, api, voice, effort",
    [
        ("gpt-realtime-2", "gpt-realtime-2", "auto", None, None),
        ("gpt-4o-realtime-preview:beta", "gpt-4o-realtime-preview", "beta", None, None),
        ("gpt-realtime-2,voice=marin,reasoning=low", "gpt-realtime-2", "auto", "marin", "low"),
    ],
)
def test_inline_configs(spec, model, api, voice, effort):
    config = parse_config(spec, (), BASE)
    p = config.profile
    assert (config.label, p.model, p.api, p.session.voice, p.session.reasoning_effort) == (
        spec,
        model,
        api,
        voice,
        effort,
    )


def test_a_saved_profile_by_name_with_overrides_and_bad_specs_explained():
    saved = (ProviderProfile(name="Work", model="gpt-realtime-mini"),)
    assert (
        parse_config("Work,turn=semantic_vad", saved, BASE).profile.session.turn_detection.kind
        == "semantic_vad"
    )
    with pytest.raises(ConfigError, match="KEY one of voice"):
        parse_config("gpt-realtime,colour=blue", saved, BASE)
    with pytest.raises(ConfigError, match="auto, beta, ga"):
        parse_config("gpt-realtime:v3", saved, BASE)


async def test_a_recording_replays_into_a_comparison_and_its_log_holds_no_key(tmp_path, utterance):
    secret = fake_key("proj-secret0123456789abcdefXYZ")
    prices, _ = load_prices()
    async with Simulator(
        SimulatorConfig(api_keys=frozenset({secret}), knobs=Knobs(audio_pace=0))
    ) as sim:
        profile = ProviderProfile(base_url=sim.url, session=SessionConfig(turn_detection=None))
        recording = SessionRecording.in_folder(tmp_path, "gpt-realtime", recording_about(profile))
        await run_one_turn(
            profile.endpoint(), secret, profile.session, utterance, pace=0, tap=recording
        )
        recording.close()
        bad = SessionRecording.in_folder(tmp_path / "bad", "x", recording_about(profile))
        with pytest.raises(
            TurnFailed, match="rejected the API key"
        ):  # the service quotes part of it
            await run_one_turn(
                profile.endpoint(), secret[:-3] + "QQQ", profile.session, utterance, pace=0, tap=bad
            )
        bad.close()
        replayed = await run_comparison(
            _configs(sim, "gpt-realtime"), utterance, lambda c: secret, prices, pace=0
        )
    folder = recording.folder
    sent = utterance[: max(speech_end(utterance), MIN_COMMIT_BYTES)]  # its silent tail is not sent
    assert (folder / "input.wav").read_bytes()[44:] == sent  # exactly what was sent
    reply = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert any(e["type"] == "AudioDelta" and "pcm_bytes" in e for e in reply)
    for path in list(tmp_path.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data and b"secret0123" not in data, path
    run = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "talkapp",
            "compare",
            str(folder),
            "--config",
            "gpt-realtime",
            "--config",
            "gpt-realtime-mini",
            "--simulator",
            "--fast",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout.strip().splitlines()[-1])["results"]
    assert [r["config"] for r in results] == ["gpt-realtime", "gpt-realtime-mini"]
    assert all(r["ok_runs"] == 1 and r["cost_usd"]["median"] > 0 for r in results)
    assert replayed[0].ok


def test_compare_csv_has_one_row_per_configuration(tmp_path):
    wav = tmp_path / "in.wav"
    write_wav(wav, float_to_pcm16(voice_like(0.6)))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "talkapp",
            "compare",
            str(wav),
            "--config",
            "gpt-realtime",
            "--config",
            "gpt-4o-realtime-preview",
            "--simulator",
            "--fast",
            "--csv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("config,model,dialect") and len(lines) == 3
    assert lines[2].startswith("gpt-4o-realtime-preview,gpt-4o-realtime-preview,beta")


def test_compare_exits_1_when_no_configuration_ran_and_still_prints_why(tmp_path):
    wav = tmp_path / "in.wav"
    write_wav(wav, float_to_pcm16(voice_like(0.6)))
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "TALKAPP_CONFIG_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "talkapp",
            "compare",
            str(wav),
            "--config",
            "gpt-realtime",
            "--fast",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )  # no key anywhere: nothing can run
    assert run.returncode == 1
    assert "gpt-realtime: error: No API key found" in run.stdout and "OPENAI_API_KEY" in run.stdout


def test_a_cached_total_without_its_split_is_divided_in_proportion_to_the_input():
    """400 input tokens (100 text, 300 audio), 200 cached, the split not given: 50 text and 150
    audio are billed at the cached rates (each price distinct, so a swap shows)."""
    price = Price(
        text_in=4, text_cached=0.5, text_out=16, audio_in=32, audio_cached=2, audio_out=64
    )
    usage = Usage(input_text=100, input_audio=300, input_cached=200)
    assert cost_of(usage, price) == pytest.approx((50 * 4 + 50 * 0.5 + 150 * 32 + 150 * 2) / 1e6)


def test_the_spread_of_runs_reaches_the_table_csv_and_json_as_its_values():
    s = spread([1, 5, 9])
    assert (s.median, s.low, s.high, s.n) == (5, 1, 9, 3)
    timings = {t: spread([1, 5, 9]) if t == "first_audio" else None for t in report.TIMINGS}
    row = report.Row(
        "cfg",
        "gpt-realtime",
        "ga",
        3,
        3,
        (),
        timings,
        spread([2000, 3000, 4000]),
        {t: None for t in report.TOKENS},
        spread([0.5, 0.25, 1.0]),
        "hi",
    )
    prices, _ = load_prices()
    table = report.as_table([row], prices)
    assert "5 ms (1–9)" in table and "3.0 s" in table and "$0.5000" in table
    (line,) = list(csv.DictReader(io.StringIO(report.as_csv([row]))))
    assert (
        line["first_audio_ms_median"],
        line["reply_audio_ms_median"],
        line["cost_usd_median"],
    ) == ("5", "3000", "0.500000")
    result = json.loads(report.as_json([row], prices))["results"][0]
    assert result["timings_ms"]["first_audio"] == {"median": 5, "min": 1, "max": 9, "n": 3}
    assert result["cost_usd"] == {"median": 0.5, "min": 0.25, "max": 1.0, "n": 3}
