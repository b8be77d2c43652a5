"""`talkapp talk` keeps its conversation: a real process on the private PulseAudio, the built-in
simulator; killed with SIGKILL mid-reply, it leaves a history that opens with every completed
turn, and `--continue` picks the conversation up again."""

import json
import os
import signal
import sqlite3
import subprocess
import sys

from test_cli_talk import start_talk, talk_turn, wait_for_line


def history(*args) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: PLW1510  (the caller reads the status)
        [sys.executable, "-m", "talkapp", "history", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=30,
    )


def test_talk_killed_mid_reply_leaves_every_completed_turn_and_can_be_continued(pulse):
    proc = start_talk("--mode", "ptt", "--echo", "headset")
    try:
        wait_for_line(proc, "press Enter")
        talk_turn(proc, pulse)
        reply = [
            line for line in wait_for_line(proc, "Assistant: ") if line.startswith("Assistant: ")
        ][-1]
        wait_for_line(proc, "[timing]")
        talk_turn(proc, pulse)
        wait_for_line(proc, "[speaking]")  # the second reply is playing
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    path = os.path.join(os.environ["TALKAPP_DATA_DIR"], "history.sqlite3")
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    listed = json.loads(history("--json").stdout)["conversations"]
    assert (
        len(listed) == 1 and listed[0]["provider"] == "simulator" and listed[0]["cost_usd"] == 0.0
    )
    shown = json.loads(history("show", str(listed[0]["id"]), "--json").stdout)
    roles = [t["role"] for t in shown["turns"]]
    assert roles[:2] == ["user", "assistant"] and shown["turns"][1]["text"] == reply.removeprefix(
        "Assistant: "
    )
    assert (
        shown["turns"][1]["usage"] is not None and shown["turns"][1]["first_audio_ms"] is not None
    )

    again = start_talk("--mode", "ptt", "--echo", "headset", "--continue", str(listed[0]["id"]))
    try:
        wait_for_line(again, "press Enter")
        talk_turn(again, pulse)
        wait_for_line(again, "[timing]")
        again.send_signal(signal.SIGTERM)
        _out, err = again.communicate(timeout=20)
    finally:
        if again.poll() is None:
            again.kill()
    assert again.returncode == 0, err
    assert "earlier turns as context" in err
    continued = json.loads(history("show", str(listed[0]["id"]), "--json").stdout)
    assert (
        len(continued["turns"]) >= len(shown["turns"]) + 2
    )  # the new turn went to the same conversation
    assert len(json.loads(history("--json").stdout)["conversations"]) == 1
