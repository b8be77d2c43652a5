"""bench/audio_latency.py's tables with pipecat as a peer: its column, its footnoted push-to-talk
cells, and "unavailable: why" when it could not run, the rest of the table unchanged. The figures
are made up here (the bench's own runs take minutes of real audio); the tables are pure."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import audio_latency as bench


def figures(heard_ms: float, barge_ms: float, ptt: bool) -> dict:
    """One client's analysis (the keys `bench.analyse` fills that the tables read)."""
    barge = [
        {"mode": "server_vad", "onset": 1.0, "cut": 1.0 + barge_ms / 1000, "precise": True,
         "truncate_error_ms": -20.0, "decided": None, "silent_cb": None}
    ]  # fmt: skip
    if ptt:
        barge.append({"mode": "ptt", "onset": 2.0, "cut": 2.01, "precise": True,
                      "decided": 2.0, "silent_cb": None})  # fmt: skip
    return {
        "cb_out_us": np.array([100.0, 200.0]),
        "cb_in_us": np.array([50.0, 60.0]),
        "statistics": {
            "output_underflows": None if not ptt else 0,
            "input_overflows": 0,
            "ring_overruns": None,
        },
        "starved": 0,
        "dropouts": 1,
        "damaged": 0,
        "replies": 4,
        "commit_sent_ms": [3.0] if ptt else [],
        "commit_at_server_ms": [4.0] if ptt else [],
        "first_callback_ms": [5.0],
        "first_heard_ms": [heard_ms, heard_ms],
        "barge": barge,
        "block_ms": 10.0,
    }


def cells(line: str) -> list[str]:
    """A table line's cells (columns are two or more spaces apart)."""
    return re.split(r"\s{2,}", line.strip())


def rows(text: str) -> dict[str, list[str]]:
    """The metrics table's rows by metric (the footnotes under it left out)."""
    out = {}
    for line in text.splitlines()[2:]:
        row = cells(line)
        if row[0][0] not in "¹²³" and not row[0].startswith("pipecat "):
            out[row[0]] = row
    return out


@pytest.fixture
def results() -> dict:
    return {
        ("talkapp", "idle"): figures(9.0, 20.0, ptt=True),
        ("baseline", "idle"): figures(60.0, 120.0, ptt=True),
    }


def test_pipecat_column_with_footnoted_push_to_talk_cells(results):
    results[("pipecat", "idle")] = figures(7.0, 190.0, ptt=False)
    text = bench.table(results)
    assert "pipecat idle" in text.splitlines()[0]
    by_metric = rows(text)
    assert "—¹" in by_metric["barge-in ptt: press → reply silent (heard), ms"]
    assert "—¹" in by_metric["release → commit sent, ms"]
    assert "7.0 / 7.0" in by_metric["first delta sent → reply heard, ms"]
    assert "¹ pipecat has no push-to-talk" in text
    # pipecat starts sooner here: TalkApp is not the best on that row, and the verdict says who
    assert by_metric["first delta sent → reply heard, ms"][-1] == "idle: NO (pipecat)"
    assert by_metric["barge-in server_vad: onset → reply silent (heard), ms"][-1] == "idle: yes"
    peers = bench.peers_table(results).splitlines()
    assert cells(peers[0]) == ["figure (ms, medians)", "SDK client idle", "pipecat idle",
                               "TalkApp idle"]  # fmt: skip
    assert cells(peers[2]) == ["server's first audio → heard at the speaker", "60.0", "7.0", "9.0"]
    assert cells(peers[3])[1:] == ["120.0", "190.0", "20.0"]
    assert cells(peers[4])[1:] == ["-20.0", "-20.0", "-20.0"]
    assert cells(peers[5])[1:] == ["0.25", "0.25", "0.25"]


def test_unavailable_pipecat_says_why_and_leaves_the_rest(results):
    without = rows(bench.table(results))
    text = bench.table(results, {"idle": "No module named 'pyaudio'"})
    with_column = rows(text)
    assert with_column.keys() == without.keys()
    for metric, cells in with_column.items():
        assert "unavailable: No module named 'pyaudio'" in cells
        rest = [c for c in cells if not c.startswith("unavailable")]
        assert rest == without[metric]
    assert "pipecat idle unavailable: No module named 'pyaudio'" in text
    peers = bench.peers_table(results, {"idle": "No module named 'pyaudio'"}).splitlines()
    assert "unavailable" in peers[2]


def test_a_missing_pipecat_python_is_unavailable_with_the_reason(tmp_path):
    python, why = bench.pipecat_python(str(tmp_path / "python"))
    assert python == ""
    assert why.startswith(str(tmp_path / "python")) and "No such file" in why
