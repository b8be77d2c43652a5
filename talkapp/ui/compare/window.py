"""The Compare window: one utterance through several configurations, side by side.

Pick configurations (`configs`), pick or record the utterance (`utterance`),
Run: the comparison (`talkapp.compare.job.run_plan`) runs on the app's loop; each finished run
comes back as it lands and fills in its configuration's row (`table`) and dots
(`chart`). Cancel stops it; what finished stays. Export writes `report.as_csv` /
`as_json` of what is shown.

Threads: everything here runs on the Qt main thread. The comparison is submitted to the loop
(`submit`, the Controller's loop), never waited on: its progress callback and its future's
done-callback run elsewhere and only `post` on a UiBridge owned by this window, whose queued
signal lands in `_on_event` here. Payloads carry the job's number, so a late result of a
cancelled job is dropped. Blocking work (files, prices, the microphone, the speaker) runs on
Tasks lanes.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from talkapp.audio.takes import ReplyPlayer
from talkapp.compare import report
from talkapp.compare.job import Plan, run_plan
from talkapp.compare.prices import PriceTable, load_prices
from talkapp.compare.runner import RunResult
from talkapp.protocol.commands import SessionConfig
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.secrets import SessionKeys
from talkapp.settings.store import default_folder
from talkapp.ui.bridge import UiBridge
from talkapp.ui.compare.chart import LatencyChart
from talkapp.ui.compare.configs import ConfigList
from talkapp.ui.compare.table import ResultsTable
from talkapp.ui.compare.utterance import UtterancePicker, audio_problem
from talkapp.ui.tasks import Outcome, Tasks

Submit = Callable[[Coroutine], concurrent.futures.Future]


@dataclass(frozen=True)
class RunDone:
    job: int
    result: RunResult


@dataclass(frozen=True)
class JobEnded:
    job: int
    cancelled: bool = False
    error: str | None = None


def inline_base(settings: Settings) -> ProviderProfile:
    """What an inline spec does not say: the endpoint and key entry of the active profile when it
    is a real service, else OpenAI's; a session that commits the turn itself unless the spec
    says `turn=...` (the cleanest comparison of the models, as the CLI does)."""
    active = settings.active_profile()
    base = active if active.needs_key else ProviderProfile()
    return dataclasses.replace(base, name="inline", session=SessionConfig(turn_detection=None))


class CompareWindow(QDialog):
    def __init__(
        self,
        settings: Settings,
        submit: Submit,
        parent: QWidget | None = None,
        *,
        simulator=None,
        prices_file: Path | None = None,
        session_keys: SessionKeys | None = None,
    ) -> None:
        """`submit`: puts a coroutine on the app's loop (never waited on). `simulator`: a
        SimulatorConfig for the built-in simulator (tests inject per-model latency).
        `session_keys`: the app's keys for this run only (`Controller.session_keys`)."""
        super().__init__(parent)
        self.setWindowTitle("TalkApp — Compare models")
        self._settings = settings
        self._submit = submit
        self._simulator = simulator
        self._session_keys = session_keys
        self._prices_file = (
            prices_file if prices_file is not None else default_folder() / "prices.json"
        )
        self._prices: PriceTable | None = None
        self._price_notes: list[str] = []
        self._price_error = ""
        self._hint = ""  # the last "why Run is off" shown in the status line
        self._job = 0
        self._future: concurrent.futures.Future | None = None
        self._running = False
        self._labels: list[str] = []
        self._repeat = 1
        self._started = 0.0
        self.results: list[RunResult] = []
        self._player: ReplyPlayer | None = None
        self._tasks = Tasks(self)
        self._bridge = UiBridge(self)
        self._bridge.deliver_to(self._on_event)
        self._build()
        self._tasks.run(lambda: load_prices(self._prices_file), self._prices_loaded, lane="files")
        self.configs.add(settings.active)
        self._refresh()
        self.resize(1180, 820)

    # ---- building ----

    def _build(self) -> None:
        audio = self._settings.audio
        self.configs = ConfigList(self._settings.profiles, inline_base(self._settings))
        self.utterance = UtterancePicker(self._tasks, audio.input_device, audio.output_device)
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 20)
        self.repeat.setValue(3)
        self.repeat.setSuffix(" runs each")
        self.repeat.setToolTip("Single timings are noise: the table shows the median and the range")
        self.sequential = QRadioButton("&One after another")
        self.sequential.setToolTip("Runs do not slow each other down")
        self.concurrent = QRadioButton("All at o&nce")
        self.sequential.setChecked(True)
        self.fast = QCheckBox("Send the utterance at once, not in real &time")
        self.fast.setToolTip("Timings count from the end of the speech either way")
        self.offline = QCheckBox("Run every configuration on the &built-in simulator")
        self.offline.setToolTip("No key, no network: for trying the comparison out")
        self.offline.setChecked(not any(p.needs_key for p in self._settings.profiles))

        configs_box = QGroupBox("Configurations")
        QVBoxLayout(configs_box).addWidget(self.configs)
        utterance_box = QGroupBox("Utterance")
        QVBoxLayout(utterance_box).addWidget(self.utterance)
        runs_box = QGroupBox("Runs")
        form = QFormLayout(runs_box)
        order = QHBoxLayout()
        order.addWidget(self.sequential)
        order.addWidget(self.concurrent)
        order.addStretch(1)
        form.addRow("&Repeat:", self.repeat)
        form.addRow("Order:", order)
        form.addRow(self.fast)
        form.addRow(self.offline)
        right = QVBoxLayout()
        right.addWidget(utterance_box)
        right.addWidget(runs_box)
        right.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(configs_box, 1)
        top.addLayout(right, 1)

        self.run_button = QPushButton("▶ R&un")
        self.run_button.setAutoDefault(False)  # Enter belongs to the field being typed in
        self.cancel_button = QPushButton("Cance&l")
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m runs")
        self.progress.setAccessibleName("Runs done")
        self.progress.setValue(0)
        self.progress.setTextVisible(False)  # no "0 of 100 runs" before there is a plan
        self.status = QLabel("")
        self.status.setWordWrap(True)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addWidget(self.progress, 1)

        self.table = ResultsTable()
        self.chart = LatencyChart()
        chart_box = QGroupBox("Latency per run")
        QVBoxLayout(chart_box).addWidget(self.chart)
        results = QSplitter(Qt.Orientation.Vertical)
        results.setChildrenCollapsible(False)
        results.addWidget(self.table)
        results.addWidget(chart_box)
        results.setStretchFactor(0, 1)

        self.csv_button = QPushButton("Export &CSV…")
        self.json_button = QPushButton("Export &JSON…")
        close = QPushButton("Close")
        close.setAutoDefault(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.csv_button)
        bottom.addWidget(self.json_button)
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(run_row)
        layout.addWidget(self.status)
        layout.addWidget(results, 1)
        layout.addLayout(bottom)

        self.configs.changed.connect(self._refresh)
        self.utterance.changed.connect(self._refresh)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.table.play_requested.connect(self.play)
        self.csv_button.clicked.connect(lambda: self._export_clicked("csv"))
        self.json_button.clicked.connect(lambda: self._export_clicked("json"))
        close.clicked.connect(self.reject)

    # ---- running ----

    def run(self) -> None:
        pcm, prices = self.utterance.pcm, self._prices
        if not self._can_run() or pcm is None or prices is None:  # `_can_run` checks both
            return
        configs = self.configs.configs()
        self._job += 1
        self._running = True
        self._labels = [c.label for c in configs]
        self._repeat = self.repeat.value()
        self._started = time.perf_counter()
        self.results = []
        self.table.plan(self._labels, self._repeat)
        self.chart.set_data(self._labels, [], self._repeat)
        self.progress.setRange(0, len(configs) * self._repeat)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        plan = Plan(
            tuple(configs),
            pcm,
            repeat=self._repeat,
            concurrent=self.concurrent.isChecked(),
            pace=0.0 if self.fast.isChecked() else 1.0,
            offline=self.offline.isChecked(),
            simulator=self._simulator,
        )
        job, post = self._job, self._post
        comparison = run_plan(
            plan, prices, lambda result: post(RunDone(job, result)), self._session_keys
        )
        self._future = self._submit(comparison)
        self._future.add_done_callback(lambda future: post(_ended(job, future)))
        self._say(
            f"Running {len(configs)} configuration{'s' * (len(configs) > 1)} × {self._repeat} on "
            f"{self.utterance.description}…"
        )
        self._refresh()

    def cancel(self) -> None:
        if self._running and self._future is not None:
            self._future.cancel()  # the task on the loop is cancelled; its simulator closes there

    @property
    def running(self) -> bool:
        return self._running

    def _post(self, payload: object) -> None:
        """Any thread: hand `payload` to the main thread (nothing to do once the window is gone)."""
        try:
            self._bridge.post(payload)
        except RuntimeError:  # the C++ object went with the window
            pass

    @Slot(object)
    def _on_event(self, payload: object) -> None:
        if getattr(payload, "job", None) != self._job or not self._running:
            return  # a cancelled or replaced comparison
        match payload:
            case RunDone(result=result):
                self.results.append(result)
                self._show_results()
            case JobEnded(cancelled=cancelled, error=error):
                self._running = False
                self._future = None
                done, total = len(self.results), self.progress.maximum()
                if cancelled:
                    self._say(f"Cancelled after {done} of {total} runs.")
                elif error is not None:
                    self._say(f"The comparison stopped: {error}")
                else:
                    failed = sum(1 for r in self.results if not r.ok)
                    self._say(
                        f"Done: {done} runs in {time.perf_counter() - self._started:.0f} s"
                        + (f", {failed} failed (see their rows)." if failed else ".")
                        + "".join(f" Note: {n}" for n in self._price_notes)
                    )
                self._refresh()

    def _show_results(self) -> None:
        rows = report.summarize(self.results)
        playable = {label for label in self._labels if self._reply_of(label)}
        self.table.show_rows(rows, playable)
        self.chart.set_data(self._labels, self.results, self._repeat)
        self.progress.setValue(len(self.results))
        self._refresh()

    def _prices_loaded(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            self._price_error = f"The price table could not be read ({outcome.error})."
        else:
            self._prices, self._price_notes = outcome.value
        self._refresh()

    # ---- playing a reply ----

    def play(self, label: str) -> None:
        """Play `label`'s first reply; pressed again (Stop) it stops."""
        if self._player is not None:
            self._player.stop()  # its lane ends it before the next one starts
            if self.table.playing == label:
                return
        pcm = self._reply_of(label)
        if not pcm:
            return
        player = self._player = ReplyPlayer(self._settings.audio.output_device, pcm)
        self.table.set_playing(label)
        self._tasks.run(player.run, lambda outcome: self._played(player, outcome), lane="play")

    def _played(self, player: ReplyPlayer, outcome: Outcome) -> None:
        if player is not self._player:
            return
        self._player = None
        self.table.set_playing(None)
        if outcome.error is not None:
            self._say(audio_problem(outcome.error, "Playing the reply"))

    def _reply_of(self, label: str) -> bytes:
        return next(
            (
                r.reply_pcm
                for r in sorted(self.results, key=lambda r: r.run)
                if r.config == label and r.ok
            ),
            b"",
        )

    # ---- exporting ----

    def export(self, kind: str, path: str | Path) -> None:
        """Write the table shown as CSV or JSON (one row per configuration)."""
        rows = report.summarize(self.results)
        if kind == "csv":
            text = report.as_csv(rows)
        elif self._prices is not None:
            text = report.as_json(rows, self._prices)
        else:  # not from the buttons: they need results, and a run needs the prices
            self._say("The comparison cannot be saved as JSON before the price table is read.")
            return
        try:
            report.save_export(path, text, kind)
        except OSError as exc:
            self._say(f"The comparison could not be saved to {path} ({exc.strerror or exc}).")
        else:
            self._say(f"Saved to {path}.")

    def _export_clicked(self, kind: str) -> None:
        suggested = str(Path.home() / f"TalkApp comparison {time.strftime('%Y-%m-%d %H%M')}.{kind}")
        filters = "CSV (*.csv);;All files (*)" if kind == "csv" else "JSON (*.json);;All files (*)"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export the comparison as {kind.upper()}", suggested, filters
        )
        if path:
            self.export(kind, path)

    # ---- showing ----

    def _can_run(self) -> bool:
        return (
            not self._running
            and self._prices is not None
            and self.utterance.pcm is not None
            and bool(self.configs.specs())
            and not self.configs.problems()
        )

    def _refresh(self) -> None:
        self.run_button.setEnabled(self._can_run())
        self.cancel_button.setEnabled(self._running)
        for widget in (
            self.configs,
            self.utterance,
            self.repeat,
            self.sequential,
            self.concurrent,
            self.fast,
            self.offline,
        ):
            widget.setEnabled(not self._running)
        has_rows = bool(self.results) and not self._running
        self.csv_button.setEnabled(has_rows)
        self.json_button.setEnabled(has_rows)
        if not self._running:
            why = self._why_not()
            self.run_button.setToolTip(why or "Run every configuration on the utterance")
            if why:  # says what is missing; a job's outcome stays until then
                self._hint = why
                self._say(why)
            elif self.status.text() == self._hint:
                self._say("")

    def _why_not(self) -> str:
        if not self.configs.specs():
            return "Add a configuration first."
        if self.configs.problems():
            return f"Fix the configuration list: {self.configs.problems()[0]}"
        if self.utterance.recording:
            return "Stop the recording first."
        if self.utterance.pcm is None:
            return "Choose the utterance first."
        if self._prices is None:
            return self._price_error or "Reading the price table…"
        return ""

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def done(self, result: int) -> None:
        """Closing: stop the comparison, the take and the playback; drop what is still to come."""
        self.cancel()
        self._running = False
        self.utterance.stop()
        if self._player is not None:
            self._player.stop()
        self._tasks.close()
        super().done(result)


def _ended(job: int, future: concurrent.futures.Future) -> JobEnded:
    if future.cancelled():
        return JobEnded(job, cancelled=True)
    error = future.exception()
    return JobEnded(job, error=None if error is None else f"{type(error).__name__}: {error}")
