"""The Compare view's results: one row per configuration, filled in as its runs finish.

Each timing is the median over the configuration's good runs, with (min–max) when it ran more
than once; the best value of each timing column and of the cost (`report.winners`) is drawn
bold on a palette-derived green tint and says so in its tooltip, so it reads in both themes and
without colour. A configuration whose runs all failed shows its error where the transcript
would be; the others carry on. Each row has a progress bar (its runs done / planned) and a Play
button for its first reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from talkapp.compare import report
from talkapp.compare.report import Row
from talkapp.compare.stats import Spread
from talkapp.ui import colors
from talkapp.ui.narrow import present

PLAY, STOP = "▶", "■"
MAX_LINES = 4  # a long transcript or error is cut here; its tooltip has all of it
BEST_ROLE = Qt.ItemDataRole.UserRole + 1  # True on the cell that won its column
# (key, header, tooltip); the keys of timings and cost match `report.winners`
COLUMNS = (
    ("config", "Configuration", "What you typed: a model with its options, or a saved profile"),
    ("play", "", "Play this configuration's first reply"),
    ("dialect", "Dialect", "The protocol dialect spoken: beta or ga"),
    ("runs", "Runs", "Runs finished of those planned"),
    ("connect", "Connect", "From dialing to a configured session"),
    (
        "first_input_transcript",
        "1st transcript",
        "From the end of your speech to the first words of its transcript",
    ),
    (
        "first_audio",
        "1st audio",
        "From the end of your speech to the first audio of the reply: what you wait through",
    ),
    ("done", "Done", "From the end of your speech to the end of the reply"),
    ("reply", "Reply", "Length of the reply audio"),
    ("tokens", "Tokens in/out", "Input and output tokens the service reported (text + audio)"),
    ("cost", "Cost", "Usage × the model's price; unknown when the model has no price"),
    (
        "transcript",
        "Reply transcript or error",
        "What the model said (first good run), or why it failed",
    ),
)
COLUMN = {key: index for index, (key, _, _) in enumerate(COLUMNS)}


def ms_text(s: Spread | None) -> str:
    """The median, and under it the range when there was more than one run (narrow columns
    leave the transcript room)."""
    if s is None:
        return "—"
    return f"{s.median:.0f} ms" + (f"\n{s.low:.0f}–{s.high:.0f}" if s.n > 1 else "")


def tokens_text(row: Row) -> str:
    t = {k: (int(v.median) if v else 0) for k, v in row.tokens.items()}
    if not any(t.values()):
        return "—"
    return f"{t['input_text'] + t['input_audio']} / {t['output_text'] + t['output_audio']}"


def cost_text(row: Row) -> str:
    if row.ok_runs == 0:
        return "—"
    return "unknown" if row.cost is None else f"${row.cost.median:.4f}"


def outcome_text(row: Row) -> tuple[str, bool]:
    """(text, is_error) for the last column."""
    if row.ok_runs == 0 and row.errors:
        return f"⚠ {'; '.join(row.errors)}", True
    failed = row.runs - row.ok_runs
    if failed:
        return (
            f"{row.transcript}  (⚠ {failed} of {row.runs} runs failed: {'; '.join(row.errors)})",
            False,
        )
    return row.transcript, False


class ResultsTable(QTableWidget):
    play_requested = Signal(str)  # a configuration's label

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setAccessibleName("Comparison results")
        for index, (_, title, tip) in enumerate(COLUMNS):
            item = QTableWidgetItem(title)
            item.setToolTip(tip)
            self.setHorizontalHeaderItem(index, item)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(True)  # the transcript column: the whole reply, not "This is the Tal…"
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMN["transcript"], QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(32)
        self._labels: list[str] = []
        self._bars: dict[str, QProgressBar] = {}
        self._plays: dict[str, QToolButton] = {}
        self._playing: str | None = None

    # ---- filling ----

    def plan(self, labels: Sequence[str], runs_each: int) -> None:
        """Empty rows for a new comparison, each with its progress at 0 of `runs_each`."""
        self.setRowCount(0)
        self._labels = list(labels)
        self._bars, self._plays = {}, {}
        self.setRowCount(len(labels))
        for r, label in enumerate(labels):
            for c in range(len(COLUMNS)):
                self.setItem(r, c, QTableWidgetItem(""))
            self._cell(r, "config").setText(label)
            bar = QProgressBar()
            bar.setRange(0, runs_each)
            bar.setValue(0)
            bar.setFormat("%v/%m")
            bar.setAccessibleName(f"Runs of {label}")
            bar.setMaximumWidth(self.fontMetrics().horizontalAdvance("00/00") * 2)
            self._bars[label] = bar
            self.setCellWidget(r, COLUMN["runs"], _centred(bar))
            play = QToolButton()
            play.setText(PLAY)
            play.setEnabled(False)
            play.setAccessibleName(f"Play the reply of {label}")
            play.setToolTip("Play this configuration's first reply")
            play.clicked.connect(lambda _=False, label=label: self.play_requested.emit(label))
            self._plays[label] = play
            self.setCellWidget(r, COLUMN["play"], _centred(play))

    def show_rows(self, rows: Sequence[Row], playable: set[str]) -> None:
        """The summary so far (`report.summarize` of the results in); `playable`: the
        configurations with a reply to play."""
        best = report.winners(rows)
        for row in rows:
            if row.config not in self._labels:
                continue
            r = self._labels.index(row.config)
            self._show_progress(row)
            self._set(r, "dialect", row.dialect)
            for key in report.TIMINGS:
                self._set(r, key, ms_text(row.timings[key]), best.get(key) == row.config)
            self._set(
                r, "reply", "—" if row.reply_ms is None else f"{row.reply_ms.median / 1000:.1f} s"
            )
            self._set(r, "tokens", tokens_text(row))
            self._set(r, "cost", cost_text(row), best.get("cost") == row.config)
            text, failed = outcome_text(row)
            self._set(r, "transcript", text, error=failed)
            self._cell(r, "transcript").setToolTip(text)
            self._cell(r, "config").setToolTip(f"{row.model} · {row.dialect}")
            self.play_button(row.config).setEnabled(row.config in playable)
        self.resizeRowsToContents()
        tallest = self.fontMetrics().lineSpacing() * MAX_LINES + 8
        for r in range(self.rowCount()):
            self.setRowHeight(r, min(self.rowHeight(r), tallest))

    def set_playing(self, label: str | None) -> None:
        """The Play button of `label` becomes Stop; the others play."""
        self._playing = label
        for name in self._labels:
            self.play_button(name).setText(STOP if name == label else PLAY)

    # ---- reading (the view and tests) ----

    @property
    def playing(self) -> str | None:
        return self._playing

    def labels(self) -> list[str]:
        return list(self._labels)

    def text(self, label: str, key: str) -> str:
        return self._cell(self._labels.index(label), key).text()

    def is_best(self, label: str, key: str) -> bool:
        return bool(self._cell(self._labels.index(label), key).data(BEST_ROLE))

    def progress(self, label: str) -> QProgressBar:
        return self._bars[label]

    def play_button(self, label: str) -> QToolButton:
        return self._plays[label]

    # ---- drawing ----

    def _show_progress(self, row: Row) -> None:
        """Runs done of planned; failed runs are said, and a row that only failed is not drawn
        as a full bar of success."""
        bar = self.progress(row.config)
        bar.setValue(row.runs)
        failed = row.runs - row.ok_runs
        bar.setFormat("%v/%m" if not failed else f"%v/%m, {failed} failed")
        bar.setToolTip(f"{row.ok_runs} of {row.runs} runs succeeded" if failed else "")
        palette = bar.palette()
        if failed == row.runs and failed:
            palette.setColor(
                QPalette.ColorRole.Highlight, colors.accent_text(self.palette(), colors.ERROR)
            )
        else:
            palette = self.palette()
        bar.setPalette(palette)
        bar.setMaximumWidth(bar.fontMetrics().horizontalAdvance(bar.text() or "00/00") + 24)

    def _cell(self, r: int, key: str) -> QTableWidgetItem:
        """Row `r`'s item in column `key` (`plan` gave every cell one)."""
        return present(self.item(r, COLUMN[key]), f"cell ({r}, {key})")

    def _set(self, r: int, key: str, text: str, best: bool = False, error: bool = False) -> None:
        item = self._cell(r, key)
        item.setText(text)
        item.setData(BEST_ROLE, best)
        palette = self.palette()
        font = QFont(self.font())
        font.setBold(best)
        item.setFont(font)
        if best:
            item.setBackground(colors.mix(palette.color(QPalette.ColorRole.Base), colors.OK, 0.22))
            item.setToolTip(f"Best {COLUMNS[COLUMN[key]][1]}: the lowest median")
        else:
            item.setData(Qt.ItemDataRole.BackgroundRole, None)
            if key != "transcript":
                item.setToolTip("")
        if error:
            item.setForeground(colors.accent_text(palette, colors.ERROR))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)


def _centred(widget: QWidget) -> QWidget:
    """A cell widget kept at its own height when the row grows (a wrapped transcript)."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(2, 1, 2, 1)
    layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
    return holder
