"""The History tab: whether conversations are kept, for how long, and the monthly budget, with
where the database lives (so a person can find, back up or delete it)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from talkapp.history.store import default_path
from talkapp.settings.model import HistorySettings

WHAT = (
    "Each conversation is kept as text with its timings, tokens and cost, one turn at a time, so "
    "you can read, continue, export or delete it later. Keys are never stored; audio only when "
    "recording is on."
)
BUDGET = (
    "At 80 % of the month's budget a banner says so; at 100 % a new paid session asks before it "
    "starts. A conversation already talking is never cut off. The month's spend is what the "
    "history recorded, so a budget needs the history kept."
)
MAX_DAYS = 3650
MAX_BUDGET_USD = 100_000.0


class HistoryPage(QWidget):
    def __init__(self, history: HistorySettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("&Keep my conversations")
        self.enabled.setToolTip(
            "Save each conversation on this computer, to open, continue or export later."
        )
        self.enabled.setChecked(history.enabled)
        self.limit_days = QCheckBox("&Delete conversations older than")
        self.limit_days.setToolTip(
            "Delete saved conversations once they are older than the days set beside."
        )
        self.limit_days.setChecked(history.keep_days is not None)
        self.days = QSpinBox()
        self.days.setRange(1, MAX_DAYS)
        self.days.setSuffix(" days")
        self.days.setValue(history.keep_days or 90)
        self.days.setAccessibleName("Days to keep conversations")
        self.days.setToolTip("How many days a saved conversation is kept.")
        self.has_budget = QCheckBox("Monthly &budget")
        self.has_budget.setToolTip(
            "Refuse paid sessions once this month's spend reaches the amount beside."
        )
        self.has_budget.setChecked(history.monthly_budget_usd is not None)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0.01, MAX_BUDGET_USD)
        self.budget.setDecimals(2)
        self.budget.setPrefix("$ ")
        self.budget.setValue(history.monthly_budget_usd or 10.0)
        self.budget.setAccessibleName("Monthly budget in US dollars")
        self.budget.setToolTip(BUDGET)
        where = QLabel(f"Stored in {default_path()}")
        where.setWordWrap(True)
        where.setAccessibleName("Where the history is stored")
        what = QLabel(WHAT)
        what.setWordWrap(True)
        budget_what = QLabel(BUDGET)
        budget_what.setWordWrap(True)

        kept = QGroupBox("History")
        form = QFormLayout(kept)
        form.addRow(self.enabled)
        form.addRow(self.limit_days, self.days)
        form.addRow(what)
        form.addRow(where)
        spend = QGroupBox("Spend")
        spend_form = QFormLayout(spend)
        spend_form.addRow(self.has_budget, self.budget)
        spend_form.addRow(budget_what)
        layout = QVBoxLayout(self)
        layout.addWidget(kept)
        layout.addWidget(spend)
        layout.addStretch(1)
        self.enabled.toggled.connect(self._enable)
        self.limit_days.toggled.connect(self._enable)
        self.has_budget.toggled.connect(self._enable)
        self._enable()

    def settings(self) -> HistorySettings:
        return HistorySettings(
            enabled=self.enabled.isChecked(),
            monthly_budget_usd=round(self.budget.value(), 2)
            if self.has_budget.isChecked()
            else None,
            keep_days=self.days.value() if self.limit_days.isChecked() else None,
        )

    def _enable(self, _on: bool = False) -> None:
        keeping = self.enabled.isChecked()
        self.limit_days.setEnabled(keeping)
        self.days.setEnabled(keeping and self.limit_days.isChecked())
        self.has_budget.setEnabled(keeping)  # the month's spend is what the history recorded
        self.budget.setEnabled(keeping and self.has_budget.isChecked())
