"""`talkapp say` end to end, as a user runs it: a real process, a WAV made here, real sockets."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import voice_like
from fake_keys import fake_key

from talkapp.audio.pcm import float_to_pcm16
from talkapp.audio.wav import read_wav, write_wav
from talkapp.simulator import Knobs, SimulatorConfig


def talkapp(*args, env_extra=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # a machine with no keyring
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "talkapp", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    "model, dialect", [("gpt-4o-realtime-preview", "beta"), ("gpt-realtime-2", "ga")]
)
def test_say_runs_a_turn_and_prints_json_on_the_last_line(stereo_wav, tmp_path, model, dialect):
    out = tmp_path / "reply.wav"
    run = talkapp(
        "say",
        str(stereo_wav),
        "--model",
        model,
        "--simulator",
        "--json",
        "--out",
        str(out),
        "--fast",
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert (
        report["dialect"] == dialect
        and report["dialect_setting"] == "auto"
        and report["model"] == model
    )
    assert report["status"] == "completed"
    assert report["user_transcript"] and report["assistant_transcript"]
    assert set(report["timings_ms"]) == {
        "connect",
        "first_input_transcript",
        "first_transcript",
        "first_audio",
        "done",
    }
    assert report["timings_ms"]["first_audio"] <= report["timings_ms"]["done"]
    assert report["usage"]["output_audio"] > 0
    reply = read_wav(out)
    assert reply.rate == 24000
    assert abs(reply.seconds * 1000 - report["reply_audio_ms"]) < 1
    assert np.sqrt(np.mean(reply.samples**2)) > 0.01  # it is audible, not silence


def test_say_prints_a_readable_table(stereo_wav):
    run = talkapp(
        "say", str(stereo_wav), "--simulator", "--fast", "--api", "ga", "--model", "gpt-realtime"
    )
    assert run.returncode == 0, run.stderr
    for label in ("Model", "You", "Assistant", "Connect", "After commit", "Tokens"):
        assert label in run.stdout
    assert "gpt-realtime · GA" in run.stdout


def test_missing_key_names_the_keyring_and_the_environment(stereo_wav):
    run = talkapp("say", str(stereo_wav))
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert (
        "keyring" in run.stderr and "OPENAI_API_KEY" in run.stderr and "--simulator" in run.stderr
    )


def test_a_rejected_key_fails_in_one_line_without_showing_the_key(stereo_wav, simulator_thread):
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({fake_key("good-key-000000000000")})))
    secret = fake_key("bad-key-1234567890abcdef")
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        sim.url,
        "--fast",
        env_extra={"TALKAPP_CUSTOM_API_KEY": secret},
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "rejected the API key" in run.stderr
    assert secret not in run.stderr + run.stdout and "1234567890" not in run.stderr


def test_the_key_from_the_environment_is_used(stereo_wav, simulator_thread):
    # OPENAI_API_KEY for a server that is not OpenAI's: only with the opt-in.
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({fake_key("good-key-000000000000")})))
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        sim.url,
        "--fast",
        "--json",
        "--share-openai-key",
        env_extra={"OPENAI_API_KEY": fake_key("good-key-000000000000")},
    )
    assert run.returncode == 0, run.stderr
    assert "sk-good" not in run.stdout


def test_a_custom_endpoint_takes_its_own_key_first_and_xai_never_gets_the_openai_key(
    stereo_wav, simulator_thread
):
    """`--base-url` to an OpenAI-compatible server: its own variable wins, OPENAI_API_KEY is the
    fallback the contract promises. xAI is another company: an OpenAI key never goes there."""
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({fake_key("custom-key-0000000000")})))
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        sim.url,
        "--fast",
        "--json",
        env_extra={
            "OPENAI_API_KEY": fake_key("openai-key-0000000000"),
            "TALKAPP_CUSTOM_API_KEY": fake_key("custom-key-0000000000"),
        },
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["status"] == "completed"
    run = talkapp(
        "say",
        str(stereo_wav),
        "--provider",
        "xai",
        "--base-url",
        sim.url,
        "--fast",
        env_extra={"OPENAI_API_KEY": fake_key("openai-key-0000000000")},
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "XAI_API_KEY" in run.stderr and "OPENAI_API_KEY" not in run.stderr
    assert len(sim.connections) == 1  # the xAI run was refused before dialing: the key went nowhere


def test_a_refused_dialect_fails_in_one_line_naming_the_fix(stereo_wav):
    run = talkapp(
        "say",
        str(stereo_wav),
        "--model",
        "gpt-4o-realtime-preview",
        "--simulator",
        "--simulator-beta",
        "retired",
        "--fast",
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "beta" in run.stderr and "--api ga" in run.stderr


@pytest.mark.parametrize("content", [b"", b"not a wav at all"])
def test_an_unreadable_wav_fails_in_one_line(tmp_path, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    run = talkapp("say", str(bad), "--simulator")
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "not a WAV file" in run.stderr


def test_a_dead_endpoint_fails_in_one_line(stereo_wav):
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        "ws://127.0.0.1:9/v1",
        "--fast",
        env_extra={"TALKAPP_CUSTOM_API_KEY": fake_key("whatever")},
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "cannot reach" in run.stderr


def test_the_simulator_command_serves_until_interrupted(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "talkapp", "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stdout.readline()
        assert "ws://127.0.0.1:" in banner
        url = banner.split()[banner.split().index("on") + 1]
        wav = tmp_path / "in.wav"
        write_wav(wav, float_to_pcm16(voice_like(0.5)))
        run = talkapp(
            "say",
            str(wav),
            "--base-url",
            url,
            "--fast",
            "--json",
            env_extra={"TALKAPP_CUSTOM_API_KEY": "any"},
        )
        assert run.returncode == 0, run.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


def test_a_frame_nested_200000_deep_mid_reply_is_ignored_with_a_note(stereo_wav, simulator_thread):
    knobs = Knobs(send_malformed=True, malformed_kind="deep_nesting")
    sim = simulator_thread(SimulatorConfig(knobs=knobs))
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        sim.url,
        "--fast",
        "--json",
        env_extra={"TALKAPP_CUSTOM_API_KEY": fake_key("any-key-000000000000")},
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["status"] == "completed"
    assert "Traceback" not in run.stderr and "RecursionError" not in run.stderr
    note = "Ignored a malformed event from the service (frame: JSON nested too deeply)."
    assert run.stderr.strip().splitlines() == [f"talkapp: note: {note}"]
    assert sim.connections[-1].sent and sim.knobs.send_malformed is False  # it was sent


@pytest.mark.parametrize("beta, refused", [("retired", True), ("accept", False)])
def test_the_simulator_command_retires_the_beta_dialect_when_told(stereo_wav, beta, refused):
    """`talkapp simulator --beta retired` on its own, then a beta client against it: refused in one
    line, as OpenAI refuses it today; with `--beta accept` the same client is served."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    server = subprocess.Popen(
        [sys.executable, "-m", "talkapp", "simulator", "--port", "0", "--beta", beta],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        ready = server.stdout.readline()  # printed once the socket listens
        assert f"(beta dialect: {beta};" in ready, (
            ready + server.stderr.read() if server.poll() is not None else ready
        )
        url = ready.split(" listening on ")[1].split()[0]
        run = talkapp(
            "say",
            str(stereo_wav),
            "--base-url",
            url,
            "--api",
            "beta",
            "--model",
            "gpt-4o-realtime-preview",
            "--fast",
            env_extra={"TALKAPP_CUSTOM_API_KEY": fake_key("any-key-000000000000")},
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(10)
    if refused:
        assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
        assert (
            "no longer accepts the beta Realtime dialect" in run.stderr and "--api ga" in run.stderr
        )
    else:
        assert run.returncode == 0, run.stderr
