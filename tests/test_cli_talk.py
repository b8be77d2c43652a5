"""`talkapp talk` and `talkapp devices` as a person (or a script) runs them: a real process, the
private PulseAudio's virtual mic and speaker, the built-in simulator."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from speech import silence, speak

from talkapp.session import engine_events as out
from talkapp.session.transcript import ToolCard
from talkapp.terminal import TerminalPrinter

QUESTION = "Hello, what is the weather like in Paris?"


def start_talk(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "talkapp", "talk", "--simulator", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 20.0) -> list[str]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if text in line:
            return seen
    raise AssertionError(f"never printed {text!r}; got {seen}")


def test_devices_lists_the_sound_servers_devices(pulse):
    run = subprocess.run(
        [sys.executable, "-m", "talkapp", "devices"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "talkapp_mic" in run.stdout and "talkapp_speaker" in run.stdout and "ALSA" in run.stdout


def test_a_hands_free_conversation_for_a_fixed_duration_then_the_transcript(
    pulse,
):  # in 20 ms blocks
    proc = start_talk(
        "--mode", "server_vad", "--duration", "12", "--echo", "headset", "--block-ms", "20"
    )
    wait_for_line(proc, "[listening]")
    pulse.feed_mic(np.concatenate([speak(QUESTION), silence(0.3)])).wait()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "You: (" in out and "Assistant: This is the TalkApp simulator" in out
    assert "[timing] first audio received" in out
    transcript = out.split("--- transcript ---")[1]
    assert "**You**" in transcript and "**Assistant**" in transcript


def talk_turn(proc, pulse) -> None:
    """One push-to-talk turn through `talk`'s stdin: press, say QUESTION, release."""
    proc.stdin.write("\n")  # press
    proc.stdin.flush()
    wait_for_line(proc, "[you are speaking]")
    pulse.feed_mic(np.concatenate([speak(QUESTION), silence(0.2)])).wait()
    proc.stdin.write("\n")  # release: the turn is sent
    proc.stdin.flush()


def test_push_to_talk_from_a_pipe_and_a_clean_stop_on_sigterm(pulse):
    proc = start_talk("--mode", "ptt", "--echo", "headset")
    wait_for_line(proc, "press Enter")
    talk_turn(proc, pulse)
    wait_for_line(proc, "Assistant: ")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "[stopped]" in out and "--- transcript ---" in out
    assert "Traceback" not in err


def test_talk_without_a_key_says_where_to_put_one():
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    run = subprocess.run(
        [sys.executable, "-m", "talkapp", "talk", "--duration", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert run.returncode == 1 and "OPENAI_API_KEY" in run.stderr and "Traceback" not in run.stderr


def test_talk_declares_the_tools_the_settings_turn_on_but_not_the_clipboard(pulse, tmp_path):
    """The desktop app's Tools settings apply to `talk` too; the clipboard, whose permission
    lives in the app, is left out. Seen in the recording of what was sent."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text('{"tools": {"calculator": false}}')
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talkapp",
            "talk",
            "--simulator",
            "--mode",
            "server_vad",
            "--duration",
            "3",
            "--echo",
            "headset",
            "--record",
            str(tmp_path / "rec"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TALKAPP_CONFIG_DIR": str(config)},
    )
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (events,) = (tmp_path / "rec").glob("*/events.jsonl")
    configure = next(
        json.loads(line) for line in events.read_text().splitlines() if '"Configure' in line
    )
    declared = {tool["name"] for tool in configure["config"]["tools"]}
    assert declared == {"get_current_time"}


def test_the_terminal_prints_settled_tool_cards_and_denies_approvals_it_cannot_ask():
    printed, denied = io.StringIO(), []
    printer = TerminalPrinter(printed)
    printer.deny_approval = denied.append
    printer(
        out.ToolCardChanged(
            ToolCard(
                "call_1",
                "function",
                "calculate",
                arguments='{"expression": "2+3"}',
                status="running",
            )
        )
    )
    printer(
        out.ToolCardChanged(
            ToolCard(
                "call_1",
                "function",
                "calculate",
                arguments='{"expression": "2+3"}',
                status="done",
                result="5",
                duration_ms=2.0,
            )
        )
    )
    printer(out.ApprovalRequested("apr_1", "docs", "search", '{"q": "x"}'))
    lines = printed.getvalue().splitlines()
    assert lines[0] == '[tool] calculate({"expression": "2+3"}) — done, 2 ms: 5'
    assert "docs asks to run search: denied" in lines[1] and "Settings → Tools & MCP" in lines[1]
    assert len(lines) == 2 and denied == ["apr_1"]


def test_a_device_name_that_matches_nothing_fails_in_one_line_with_the_choices(pulse):
    command = [sys.executable, "-m", "talkapp", "talk", "--simulator", "--input", "no such mic"]
    run = subprocess.run(
        command, capture_output=True, text=True, env=dict(os.environ), timeout=30, check=False
    )
    assert run.returncode == 1 and run.stdout == ""
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("talkapp: --input 'no such mic' matches no input device; choose one of:")
    assert "'talkapp_mic'" in line
