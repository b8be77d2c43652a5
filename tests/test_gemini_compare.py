"""Comparing across vendors: a Gemini Live row beside OpenAI's and xAI's, on the simulator, with
Gemini's own price (and its source and date) where one is known and `unknown` elsewhere."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import voice_like

from talkapp.audio.pcm import float_to_pcm16
from talkapp.audio.wav import write_wav
from talkapp.compare import report
from talkapp.compare.configs import parse_config
from talkapp.compare.prices import load_prices
from talkapp.compare.runner import run_comparison
from talkapp.protocol.commands import SessionConfig
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

GEMINI = "gemini-2.5-flash-native-audio-preview-12-2025"
BASE = ProviderProfile(name="cli", session=SessionConfig(turn_detection=None))


@pytest.fixture
def utterance():
    silence = np.zeros(4800, np.float32)
    return float_to_pcm16(np.concatenate([silence, voice_like(1.0), silence]))


async def test_three_vendors_side_by_side(utterance):
    prices, _ = load_prices()
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        configs = [
            dataclasses.replace(c, profile=dataclasses.replace(c.profile, base_url=sim.url))
            for c in (
                parse_config(spec, (), BASE)
                for spec in ("gpt-realtime-2", GEMINI, "grok-voice-latest")
            )
        ]
        results = await run_comparison(configs, utterance, lambda c: "k", prices, pace=0)
    rows = {r.config: r for r in report.summarize(results)}
    gemini = rows[GEMINI]
    assert [rows[c].dialect for c in rows] == ["ga", "gemini", "xai"]
    assert gemini.ok_runs == 1 and gemini.timings["first_audio"] is not None
    assert "over Gemini Live" in gemini.transcript
    assert gemini.cost is not None and gemini.cost.median > 0
    assert rows["grok-voice-latest"].cost is None  # no price shipped: unknown, never zero
    table = report.as_table(list(rows.values()), prices)
    assert f"{GEMINI}: prices taken 2026-12-07 (Google's Gemini API pricing" in table
    priced = json.loads(report.as_json(list(rows.values()), prices))["prices"]
    assert GEMINI in priced["models"]


def test_gemini_prices_are_per_modality():
    prices, problems = load_prices()
    price = prices.price_for(GEMINI)
    assert not problems and price is not None
    assert (price.text_in, price.audio_in, price.text_out, price.audio_out) == (
        0.50,
        3.00,
        2.00,
        12.00,
    )
    assert prices.price_for("gemini-2.0-flash-live-001") is None


@pytest.mark.slow
def test_compare_command_prints_the_gemini_row(tmp_path):
    wav = tmp_path / "in.wav"
    write_wav(wav, float_to_pcm16(voice_like(0.6)))
    run = subprocess.run(
        [sys.executable, "-m", "talkapp", "compare", str(wav), "--simulator", "--fast", "--json"]
        + ["--config", "gpt-realtime-2", "--config", GEMINI],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout.strip().splitlines()[-1])["results"]
    assert [(r["config"], r["dialect"]) for r in results] == [
        ("gpt-realtime-2", "ga"),
        (GEMINI, "gemini"),
    ]
    assert results[1]["timings_ms"]["first_audio"] is not None
