"""The Compare window on real parts: the real widgets (offscreen), the real Controller's loop, the
built-in simulator over a real socket (with per-model latency injected), the bundled WAV, and a
private PulseAudio for a take recorded from the virtual mic and a reply played on the virtual
speaker.

Waiting is always `qtbot.waitUntil`, which keeps the Qt event loop running: results must arrive
while the loop runs, never by blocking it."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from audio_server import RATE
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFileDialog
from speech import silence, speak

from talkapp.audio.devices import DeviceKey
from talkapp.audio.pcm import duration_ms
from talkapp.audio.wav import read_wav_for_wire, write_wav
from talkapp.controller import Controller
from talkapp.settings.model import AudioSettings, Settings
from talkapp.simulator import Knobs, SimulatorConfig
from talkapp.ui.compare.table import BEST_ROLE, COLUMN, PLAY, STOP
from talkapp.ui.compare.window import CompareWindow
from talkapp.ui.main.window import MainWindow

WAIT = 60_000  # ms: a limit for a hang, never a measurement
BETA, GA = "gpt-4o-realtime-preview:beta", "gpt-realtime-2"
SAMPLE = Path(__file__).resolve().parent.parent / "talkapp" / "data" / "hello.wav"
LATENCY = {"gpt-4o-realtime-preview": 700, "gpt-realtime-2": 40, "gpt-realtime-mini": 40}


@pytest.fixture
def controller():
    controller = Controller(Settings(), lambda event: None)
    yield controller
    controller.shutdown()


@pytest.fixture
def open_compare(qtbot, controller, tmp_path):
    opened = []

    def make(settings: Settings | None = None, latency: dict | None = None) -> CompareWindow:
        simulator = SimulatorConfig(
            model_latency_ms=latency or LATENCY, knobs=Knobs(audio_pace=0), record_events=False
        )
        window = CompareWindow(
            settings or Settings(),
            controller.run_on_loop,
            simulator=simulator,
            prices_file=tmp_path / "no-prices.json",
        )
        qtbot.addWidget(window)
        window.show()
        opened.append(window)
        return window

    yield make
    for window in opened:
        window.reject()  # cancels a comparison still running


def use_configs(window: CompareWindow, *specs: str) -> None:
    window.configs.list.clear()
    for spec in specs:
        assert window.configs.add(spec), spec


def ready(qtbot, window: CompareWindow) -> None:
    qtbot.waitUntil(window.run_button.isEnabled, timeout=WAIT)


def run_to_the_end(qtbot, window: CompareWindow) -> None:
    ready(qtbot, window)
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    assert window.running and window.cancel_button.isEnabled() and not window.run_button.isEnabled()
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)


def test_beta_and_ga_fill_the_table_the_faster_one_wins_and_the_chart_shows_every_run(
    qtbot, open_compare, tmp_path, monkeypatch
):
    window = open_compare()
    assert window.offline.isChecked()  # no profile with a key: the simulator is offered
    assert window.configs.specs() == ["Offline simulator"]  # starts from the active profile
    use_configs(window, BETA, GA)
    qtbot.waitUntil(lambda: window.utterance.pcm is not None, timeout=WAIT)
    assert window.utterance.pcm == read_wav_for_wire(SAMPLE)  # the bundled sample by default
    window.repeat.setValue(2)
    window.fast.setChecked(True)

    run_to_the_end(qtbot, window)

    table = window.table
    assert window.status.text().startswith("Done: 4 runs"), window.status.text()
    assert table.labels() == [BETA, GA]
    assert (table.text(BETA, "dialect"), table.text(GA, "dialect")) == ("beta", "ga")
    assert window.progress.value() == window.progress.maximum() == 4
    assert [table.progress(label).value() for label in (BETA, GA)] == [2, 2]
    for key in ("first_audio", "done"):
        assert table.is_best(GA, key) and not table.is_best(BETA, key)  # 40 ms beats 700 ms
        assert (
            "–" in table.text(GA, key).splitlines()[1]
        )  # the median, and the range over the two runs
    cell = table.item(table.labels().index(GA), COLUMN["first_audio"])
    assert cell.font().bold() and cell.background().color() != table.palette().color(
        QPalette.ColorRole.Base
    )
    assert not table.item(table.labels().index(BETA), COLUMN["first_audio"]).data(BEST_ROLE)
    assert "This is the TalkApp simulator" in table.text(BETA, "transcript")
    assert table.text(GA, "cost").startswith("$") and "/" in table.text(GA, "tokens")
    assert table.play_button(BETA).isEnabled() and table.play_button(GA).isEnabled()

    points = window.chart.points()
    assert len([p for p in points if p.kind == "first_audio"]) == 4  # one dot per run
    assert len([p for p in points if p.kind == "done"]) == 4
    assert {(p.config, p.run) for p in points} == {(c, r) for c in (BETA, GA) for r in (1, 2)}

    for kind in ("csv", "json"):  # through the buttons, with the save dialog answered
        path = tmp_path / f"comparison.{kind}"
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *args, path=path: (str(path), "")
        )
        qtbot.mouseClick(
            window.csv_button if kind == "csv" else window.json_button, Qt.MouseButton.LeftButton
        )
        assert window.status.text() == f"Saved to {path}."
    saved = (tmp_path / "comparison.csv").read_text(encoding="utf-8-sig")  # Excel's BOM
    rows = list(csv.DictReader(io.StringIO(saved)))
    assert [(r["config"], r["dialect"], r["runs"]) for r in rows] == [
        (BETA, "beta", "2"),
        (GA, "ga", "2"),
    ]
    results = json.loads((tmp_path / "comparison.json").read_text())["results"]
    assert [r["config"] for r in results] == [BETA, GA]
    assert results[1]["timings_ms"]["first_audio"]["n"] == 2

    if os.environ.get("TALKAPP_UPDATE_SCREENSHOTS"):  # the README's picture of the Compare view
        window.resize(1180, 820)
        window.grab().save(
            str(Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "compare.png")
        )


def test_a_failing_configuration_shows_its_error_in_its_row_and_the_other_completes(
    qtbot, open_compare, tmp_path
):
    window = open_compare()
    use_configs(window, "gpt-nope", "gpt-realtime-mini")
    folder = tmp_path / "20250101-120000-gpt-realtime"  # a recording folder is an utterance too
    folder.mkdir()
    write_wav(folder / "input.wav", read_wav_for_wire(SAMPLE)[: 2 * 24_000 * 2])
    window.utterance.load(folder)
    qtbot.waitUntil(lambda: window.utterance.pcm is not None, timeout=WAIT)
    assert window.utterance.description.startswith(f"{folder.name}/input.wav (2.0 s)")
    window.concurrent.setChecked(True)
    window.repeat.setValue(1)
    window.fast.setChecked(True)

    run_to_the_end(qtbot, window)

    table = window.table
    error = table.text("gpt-nope", "transcript")
    assert error.startswith("⚠") and "gpt-nope" in error
    assert table.text("gpt-nope", "first_audio") == "—" and table.text("gpt-nope", "cost") == "—"
    assert not table.play_button("gpt-nope").isEnabled()
    assert table.text("gpt-realtime-mini", "transcript").startswith("This is the TalkApp simulator")
    assert table.text("gpt-realtime-mini", "first_audio").endswith(" ms")
    assert table.progress("gpt-nope").value() == table.progress("gpt-realtime-mini").value() == 1
    assert table.progress("gpt-nope").text() == "1/1, 1 failed"  # not a full bar of success
    assert table.progress("gpt-realtime-mini").text() == "1/1"
    assert not table.is_best("gpt-realtime-mini", "first_audio")  # a winner needs a contest
    assert "1 failed" in window.status.text()
    assert {p.config for p in window.chart.points()} == {"gpt-realtime-mini"}


def test_a_missing_key_fails_only_its_row_and_a_simulator_profile_still_runs(
    qtbot, open_compare, monkeypatch
):
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        window = open_compare()
        window.configs.add(GA)  # inline: OpenAI's endpoint, with the "openai" key entry
        window.offline.setChecked(False)
        window.repeat.setValue(1)
        window.fast.setChecked(True)
        run_to_the_end(qtbot, window)
    finally:
        keyring.set_keyring(previous)
    table = window.table
    assert table.text(GA, "transcript").startswith("⚠ No API key found")
    assert table.text("Offline simulator", "transcript").startswith("This is the TalkApp simulator")


def test_configurations_are_checked_as_they_are_typed(qtbot, open_compare):
    window = open_compare()
    configs = window.configs
    qtbot.keyClicks(configs.spec, "gpt-realtime:v3")
    assert "auto, beta, ga" in configs.message.text() and not configs.add_button.isEnabled()
    configs.spec.clear()
    qtbot.keyClicks(configs.spec, "gpt-realtime-2,voice=marin")
    assert (
        configs.message.text() == "→ gpt-realtime-2 · GA (auto)" and configs.add_button.isEnabled()
    )
    qtbot.keyClick(configs.spec, Qt.Key.Key_Return)
    assert (
        configs.specs() == ["Offline simulator", "gpt-realtime-2,voice=marin"]
        and configs.spec.text() == ""
    )
    ready(qtbot, window)

    configs.list.item(1).setText("gpt-realtime-2,colour=blue")  # edited in place
    assert "KEY one of voice" in configs.list.item(1).toolTip()
    assert not window.run_button.isEnabled() and "colour=blue" in window.status.text()
    configs.list.setCurrentRow(1)
    qtbot.mouseClick(configs.remove_button, Qt.MouseButton.LeftButton)
    assert configs.specs() == ["Offline simulator"] and window.run_button.isEnabled()


def test_enter_adds_the_typed_configuration_and_does_not_run(qtbot, open_compare):
    window = open_compare()
    ready(qtbot, window)  # Run could be pressed now
    assert not window.progress.isTextVisible()  # no "0 of 100 runs" before a plan
    qtbot.keyClicks(window.configs.spec, "gpt-realtime-mini")
    qtbot.keyClick(window.configs.spec, Qt.Key.Key_Return)
    assert window.configs.specs() == ["Offline simulator", "gpt-realtime-mini"]
    assert not window.running and window.table.rowCount() == 0
    qtbot.keyClick(window.configs.spec, Qt.Key.Key_Return)  # an empty field: still nothing runs
    assert not window.running


def test_a_suggestion_adds_a_ready_made_configuration(qtbot, open_compare):
    window = open_compare()
    actions = window.configs.suggest_button.menu().actions()
    assert len(actions) >= 4
    server_vad = next(a for a in actions if "server VAD" in a.text())
    server_vad.trigger()
    assert window.configs.specs()[-1] == "gpt-realtime,turn=server_vad"
    assert not window.configs.problems()


def test_cancel_keeps_what_finished_and_drops_the_rest(qtbot, open_compare):
    window = open_compare()
    use_configs(window, GA)
    window.repeat.setValue(5)  # real-time pace: about 4 s a run
    ready(qtbot, window)
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.progress.value() >= 1, timeout=WAIT)
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)
    done = window.progress.value()
    assert window.status.text() == f"Cancelled after {done} of 5 runs."
    assert 1 <= done < 5 and window.table.progress(GA).value() == done
    qtbot.wait(300)
    assert window.progress.value() == done  # nothing trickles in afterwards
    assert window.run_button.isEnabled() and window.csv_button.isEnabled()


def test_a_take_from_the_mic_is_compared_and_its_reply_plays_on_the_speaker(
    qtbot, open_compare, pulse
):
    audio = AudioSettings(
        input_device=DeviceKey("talkapp_mic", "ALSA"),
        output_device=DeviceKey("talkapp_speaker", "ALSA"),
    )
    window = open_compare(dataclasses.replace(Settings(), audio=audio))
    use_configs(window, GA)
    picker = window.utterance
    speech = np.concatenate([speak("Which model answers first?"), silence(0.3)])

    qtbot.mouseClick(picker.record_button, Qt.MouseButton.LeftButton)
    assert picker.recording and picker.mic_radio.isChecked() and not window.run_button.isEnabled()
    player = pulse.feed_mic(speech)
    peak = [0.0]

    def played() -> bool:
        peak[0] = max(peak[0], picker.meter.value)
        return player.poll() is not None

    qtbot.waitUntil(played, timeout=WAIT)
    qtbot.mouseClick(picker.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: picker.pcm is not None, timeout=WAIT)
    assert peak[0] > 0.3  # the meter moved with the speech
    assert duration_ms(picker.pcm) >= 1000 * len(speech) / RATE - 200
    assert picker.description.startswith("a take from the microphone")

    window.repeat.setValue(1)
    window.fast.setChecked(True)
    run_to_the_end(qtbot, window)
    reply = window.results[0]
    assert reply.ok and reply.transcript, reply.error

    recording = pulse.record("speaker.monitor")
    try:
        qtbot.mouseClick(window.table.play_button(GA), Qt.MouseButton.LeftButton)
        assert window.table.playing == GA and window.table.play_button(GA).text() == STOP
        qtbot.waitUntil(lambda: window.table.playing is None, timeout=WAIT)
        assert window.table.play_button(GA).text() == PLAY
    finally:
        heard = recording.stop()
    loud = np.flatnonzero(np.abs(heard) > 0.02)
    assert loud.size, "nothing was heard on the speaker"
    assert abs((loud[-1] - loud[0]) / RATE * 1000 - reply.reply_ms) < 600  # the whole reply


def test_the_headers_compare_button_opens_one_window(qtbot, controller):
    window = MainWindow(Settings(), controller)
    qtbot.addWidget(window)
    window.show()
    qtbot.mouseClick(window.header.compare_button, Qt.MouseButton.LeftButton)
    compare = window.compare_window
    assert (
        compare is not None
        and compare.isVisible()
        and compare.windowTitle() == "TalkApp — Compare models"
    )
    qtbot.mouseClick(window.header.compare_button, Qt.MouseButton.LeftButton)
    assert window.compare_window is compare  # raised, not a second one
    compare.reject()
    assert window.compare_window is None
