"""`talkapp history`, `spend` and `say --continue` as a user runs them: real processes, the
strict simulator over loopback as a priced model behind `--provider custom`, a real SQLite file
in a tmp folder (TALKAPP_DATA_DIR), settings in another (TALKAPP_CONFIG_DIR)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from fake_keys import fake_key
from test_cli_say import talkapp

from talkapp.simulator import SimulatorConfig

WAIT_S = 60


@pytest.fixture
def folders(tmp_path):
    data, config = tmp_path / "data", tmp_path / "config"
    return {"TALKAPP_DATA_DIR": str(data), "TALKAPP_CONFIG_DIR": str(config)}


@pytest.fixture
def priced(simulator_thread, folders):
    """A local strict server that a custom profile reaches with its own key, as a paid service."""
    key = fake_key("custom-key-history-00")
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({key})))
    env = {**folders, "TALKAPP_CUSTOM_API_KEY": key}

    def run(*args):
        return talkapp(*args, env_extra=env)

    run.sim, run.key, run.env = sim, key, env
    return run


def say(priced, wav, *extra):
    return priced(
        "say",
        str(wav),
        "--provider",
        "custom",
        "--base-url",
        priced.sim.url,
        "--model",
        "gpt-realtime-2",
        "--fast",
        "--json",
        *extra,
    )


def last_json(run) -> dict:
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_two_priced_runs_are_listed_shown_continued_and_totalled(priced, stereo_wav):
    first = last_json(say(priced, stereo_wav))
    second = last_json(say(priced, stereo_wav))
    assert first["conversation_id"] != second["conversation_id"]
    assert first["cost_usd"] > 0 and second["cost_usd"] > 0

    listed = last_json(priced("history", "--json"))["conversations"]
    assert [c["id"] for c in listed] == [
        second["conversation_id"],
        first["conversation_id"],
    ]  # newest first
    for c in listed:
        assert c["cost_usd"] > 0 and c["provider"] == "custom" and c["model"] == "gpt-realtime-2"
        assert (
            c["dialect"] == "ga" and c["turns"] == 2 and c["tokens_in"] > 0 and c["tokens_out"] > 0
        )
        assert "T" in c["started_at"] and c["started_at"][:4].isdigit()  # ISO 8601

    shown = last_json(priced("history", "show", str(first["conversation_id"]), "--json"))
    assert [t["role"] for t in shown["turns"]] == ["user", "assistant"]
    assert shown["turns"][1]["text"] == first["assistant_transcript"]
    assert (
        first["assistant_transcript"]
        in priced("history", "show", str(first["conversation_id"])).stdout
    )

    received_before = len(priced.sim.received)
    third = last_json(say(priced, stereo_wav, "--continue", str(first["conversation_id"])))
    assert third["conversation_id"] == first["conversation_id"]
    replayed = [
        e
        for e in priced.sim.received[received_before:]
        if isinstance(e, dict) and e.get("type") == "conversation.item.create"
    ]
    texts = [
        part.get("text") or part.get("transcript")
        for e in replayed
        for part in e["item"]["content"]
    ]
    assert (
        first["assistant_transcript"] in texts and first["user_transcript"] in texts
    )  # the earlier turns as context
    continued = last_json(priced("history", "show", str(first["conversation_id"]), "--json"))
    assert [t["role"] for t in continued["turns"]] == ["user", "assistant"] * 2

    total = first["cost_usd"] + second["cost_usd"] + third["cost_usd"]
    spent = last_json(priced("spend", "--json"))
    assert spent["month"]["cost_usd"] == pytest.approx(total, abs=1e-6)
    assert spent["today"]["cost_usd"] == pytest.approx(total, abs=1e-6)
    assert spent["by_model"] == [
        {
            "provider": "custom",
            "model": "gpt-realtime-2",
            "cost_usd": pytest.approx(total),
            "turns": 3,
            "unknown_cost_turns": 0,
        }
    ]

    # A budget below the spend refuses the next paid run before dialing, in one line.
    assert priced("spend", "--budget", f"{total / 2:.6f}").returncode == 0
    dialed = len(priced.sim.connections)
    refused = say(priced, stereo_wav)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert (
        "monthly budget" in refused.stderr
        and "--budget" in refused.stderr
        and "--over-budget" in refused.stderr
    )
    assert len(priced.sim.connections) == dialed  # nothing was dialed
    anyway = last_json(say(priced, stereo_wav, "--over-budget"))
    assert anyway["cost_usd"] > 0 and len(priced.sim.connections) == dialed + 1
    # the simulator costs nothing, and is never refused
    free = talkapp("say", str(stereo_wav), "--simulator", "--fast", "--json", env_extra=priced.env)
    assert last_json(free)["cost_usd"] == 0.0
    assert "costs nothing" in priced("spend").stdout
    assert priced("spend", "--budget", "none").returncode == 0
    assert last_json(priced("spend", "--json"))["budget_usd"] is None


def test_export_delete_search_and_no_history(priced, stereo_wav, tmp_path):
    kept = last_json(say(priced, stereo_wav))
    ident = str(kept["conversation_id"])
    not_kept = last_json(say(priced, stereo_wav, "--no-history"))
    assert not_kept["conversation_id"] is None and not_kept["cost_usd"] > 0
    assert len(last_json(priced("history", "--json"))["conversations"]) == 1

    md, js = tmp_path / "c.md", tmp_path / "c.json"
    assert priced("history", "export", ident, "--format", "md", "--out", str(md)).returncode == 0
    assert kept["assistant_transcript"] in md.read_text() and "**Assistant**" in md.read_text()
    assert priced("history", "export", ident, "--format", "json", "--out", str(js)).returncode == 0
    assert json.loads(js.read_text())["turns"][1]["text"] == kept["assistant_transcript"]

    word = kept["assistant_transcript"].split()[3].strip(".,")
    assert [
        c["id"] for c in last_json(priced("history", "--json", "--search", word))["conversations"]
    ] == [int(ident)]
    assert (
        last_json(priced("history", "--json", "--search", "zebra-crossing"))["conversations"] == []
    )

    assert priced("history", "delete", ident).returncode == 0
    assert last_json(priced("history", "--json"))["conversations"] == []


@pytest.mark.parametrize(
    "args, words",
    [
        (("history", "show", "99"), "no conversation 99"),
        (("history", "delete", "99"), "no conversation 99"),
        (("history", "export", "99", "--format", "md"), "no conversation 99"),
        (("spend", "--budget", "lots"), "not a number"),
        (("spend", "--budget", "-3"), "zero or more"),
    ],
)
def test_bad_input_is_one_line_and_status_1(folders, args, words):
    run = talkapp(*args, env_extra=folders)
    assert run.returncode == 1 and run.stderr.count("\n") == 1, run.stderr
    assert words in run.stderr


def test_continue_with_an_unknown_id_fails_before_dialing(priced, stereo_wav):
    run = say(priced, stereo_wav, "--continue", "12")
    assert (
        run.returncode == 1 and "no conversation 12" in run.stderr and run.stderr.count("\n") == 1
    )
    assert priced.sim.connections == []


def test_a_locked_database_is_one_line(priced, stereo_wav, folders):
    """WAL: reading goes on while another program writes; a write waits (the busy timeout),
    then says so in one line, and what was saved stays."""
    saved = last_json(say(priced, stereo_wav))
    holder = sqlite3.connect(
        os.path.join(folders["TALKAPP_DATA_DIR"], "history.sqlite3"), isolation_level=None
    )
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert priced("history").returncode == 0
        run = priced("history", "delete", str(saved["conversation_id"]))
        reply = say(priced, stereo_wav)  # the reply is not lost because it cannot be saved
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.returncode == 1 and run.stderr.count("\n") == 1 and "locked" in run.stderr
    assert len(last_json(priced("history", "--json"))["conversations"]) == 1
    unsaved = last_json(reply)
    assert unsaved["assistant_transcript"] and unsaved["conversation_id"] is None
    assert "locked" in reply.stderr and "not saved" in reply.stderr


def test_a_corrupt_database_is_moved_aside_and_the_command_goes_on(folders):
    data = os.path.join(folders["TALKAPP_DATA_DIR"])
    os.makedirs(data)
    with open(os.path.join(data, "history.sqlite3"), "wb") as f:
        f.write(b"garbage, not SQLite\n" * 100)
    run = talkapp("history", "--json", env_extra=folders)
    assert run.returncode == 0 and json.loads(run.stdout)["conversations"] == []
    assert "kept as" in run.stderr and run.stderr.count("\n") == 1
    assert any(".unreadable-" in name for name in os.listdir(data))


def test_the_key_is_never_stored_in_the_database(priced, stereo_wav, folders):
    last_json(say(priced, stereo_wav))
    last_json(say(priced, stereo_wav, "--continue", "1"))
    data = folders["TALKAPP_DATA_DIR"]
    files = [os.path.join(data, name) for name in os.listdir(data)]
    assert any(name.endswith(".sqlite3") for name in files)
    for name in files:
        with open(name, "rb") as f:
            blob = f.read()
        assert priced.key.encode() not in blob and priced.key[-12:].encode() not in blob, name


def test_say_killed_mid_reply_leaves_a_history_with_every_completed_turn(
    priced,
    stereo_wav,
    folders,
):
    first = last_json(say(priced, stereo_wav))
    priced.sim.knobs.audio_pace = 0.02  # the next reply streams 50 times slower than real time
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env.update(priced.env, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talkapp",
            "say",
            str(stereo_wav),
            "--provider",
            "custom",
            "--base-url",
            priced.sim.url,
            "--model",
            "gpt-realtime-2",
            "--fast",
            "--continue",
            str(first["conversation_id"]),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        # Mid-reply: the server has started sending the reply's audio (and not finished it).
        while not any(
            isinstance(e, dict) and e.get("type") == "response.output_audio.delta"
            for _, direction, e in list(priced.sim.timeline)
            if direction == "out"
        ):
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the reply never started"
            time.sleep(0.01)  # polling the server's record: the wait ends on the event itself
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close(), child.stderr.close()
    assert not any(
        isinstance(e, dict) and e.get("type") == "response.done"
        for c, direction, e in priced.sim.timeline
        if direction == "out" and c == 1
    )

    path = os.path.join(folders["TALKAPP_DATA_DIR"], "history.sqlite3")
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    shown = last_json(priced("history", "show", str(first["conversation_id"]), "--json"))
    assert [t["text"] for t in shown["turns"]] == [
        first["user_transcript"],
        first["assistant_transcript"],
    ]
    priced.sim.knobs.audio_pace = 0
    again = last_json(
        say(priced, stereo_wav, "--continue", str(first["conversation_id"]))
    )  # not left locked
    assert again["conversation_id"] == first["conversation_id"]


def test_rename_keep_and_delete_all_and_a_recording_goes_with_its_conversation(
    priced,
    stereo_wav,
    tmp_path,
):
    recordings = tmp_path / "recordings"
    recorded = last_json(say(priced, stereo_wav, "--record", str(recordings)))
    [folder] = list(recordings.iterdir())
    assert (folder / "reply.wav").exists()
    ident = str(recorded["conversation_id"])
    assert priced("history", "rename", ident, "Recorded test").returncode == 0
    listed = last_json(priced("history", "--json"))["conversations"]
    assert listed[0]["title"] == "Recorded test"
    assert priced("history", "delete", ident).returncode == 0
    assert not folder.exists()  # the recording went with the conversation

    last_json(say(priced, stereo_wav))
    last_json(say(priced, stereo_wav))
    kept = priced("history", "keep", "30")
    assert kept.returncode == 0 and "0 older ones were deleted" in kept.stdout
    assert len(last_json(priced("history", "--json"))["conversations"]) == 2  # today's stay
    assert priced("history", "keep", "forever").returncode == 0
    nothing = priced("history", "delete")
    assert nothing.returncode == 1 and "--all" in nothing.stderr and nothing.stderr.count("\n") == 1
    assert "all 2 conversations" in priced("history", "delete", "--all").stdout
    assert last_json(priced("history", "--json"))["conversations"] == []
