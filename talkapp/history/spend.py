"""What the conversations cost: today, this month, by provider and model, and the monthly budget.

Pure: rows and a clock in, totals and decisions out. A turn whose cost is unknown (a model
without a price) is counted as unknown, never as zero; the simulator's turns cost nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from talkapp.history.store import CostRow

WARN_AT = 0.8  # the budget banner shows from 80 % of the month's budget


@dataclass(frozen=True)
class Total:
    cost_usd: float = 0.0  # what is known
    turns: int = 0
    unknown: int = 0  # turns whose cost is not known (no price): the real total is higher

    def plus(self, row: CostRow) -> Total:
        if row.cost_usd is None:
            return Total(self.cost_usd, self.turns + 1, self.unknown + 1)
        return Total(self.cost_usd + row.cost_usd, self.turns + 1, self.unknown)


@dataclass(frozen=True)
class ModelSpend:
    provider: str
    model: str
    total: Total


@dataclass(frozen=True)
class Spend:
    today: Total
    month: Total
    by_model: tuple[ModelSpend, ...]  # this month, most expensive first


def month_start(now: dt.datetime) -> dt.datetime:
    """The first instant of `now`'s month, in `now`'s time zone (the user's local month)."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def day_start(now: dt.datetime) -> dt.datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def spend(rows: Iterable[CostRow], now: dt.datetime) -> Spend:
    """Totals of `rows` (epoch seconds) for the day and the month that hold `now`."""
    month_from, day_from = month_start(now).timestamp(), day_start(now).timestamp()
    today, month = Total(), Total()
    models: dict[tuple[str, str], Total] = {}
    for row in rows:
        if row.at < month_from:
            continue
        month = month.plus(row)
        key = (row.provider, row.model)
        models[key] = models.get(key, Total()).plus(row)
        if row.at >= day_from:
            today = today.plus(row)
    by_model = sorted(
        (ModelSpend(p, m, t) for (p, m), t in models.items()),
        key=lambda s: (-s.total.cost_usd, s.provider, s.model),
    )
    return Spend(today, month, tuple(by_model))


@dataclass(frozen=True)
class BudgetState:
    budget_usd: float | None
    spent_usd: float

    @property
    def fraction(self) -> float | None:
        if self.budget_usd is None:
            return None
        return float("inf") if self.budget_usd <= 0 else self.spent_usd / self.budget_usd

    @property
    def warn(self) -> bool:
        return self.fraction is not None and self.fraction >= WARN_AT

    @property
    def reached(self) -> bool:
        return self.fraction is not None and self.fraction >= 1.0

    def banner(self) -> str:
        """The 80 % banner's words (empty below it)."""
        if not self.warn or self.budget_usd is None:
            return ""
        if self.reached:
            return (
                f"This month's spend {usd(self.spent_usd)} has reached your budget of "
                f"{usd(self.budget_usd)}: "
                "new paid sessions are refused until you raise it or connect anyway."
            )
        return (
            f"This month's spend {usd(self.spent_usd)} is {self.fraction:.0%} of your budget of "
            f"{usd(self.budget_usd)}."
        )


def refusal(state: BudgetState, how_to_raise: str) -> str | None:
    """One line refusing a new paid session at 100 % of the budget, or None when it may dial.
    A session already talking is never cut off: this is asked only before dialing."""
    if not state.reached or state.budget_usd is None:
        return None
    return (
        f"This month's spend {usd(state.spent_usd)} has reached your monthly budget of "
        f"{usd(state.budget_usd)}; {how_to_raise}."
    )


def parse_budget(text: str) -> float | None:
    """`--budget USD|none`: a non-negative amount in US dollars, or None to clear it.
    Raises ValueError with one line for a person."""
    cleaned = text.strip().lstrip("$").strip()
    if cleaned.lower() in ("none", "off", ""):
        return None
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(
            f"the budget {text!r} is not a number of US dollars; give e.g. 20 or 7.50, "
            "or none to clear it"
        ) from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(
            f"the budget {text!r} must be zero or more US dollars (or none to clear it)"
        )
    return value


def usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"


def as_dict(s: Spend, budget_usd: float | None) -> dict:
    def total(t: Total) -> dict:
        return {"cost_usd": round(t.cost_usd, 6), "turns": t.turns, "unknown_cost_turns": t.unknown}

    state = BudgetState(budget_usd, s.month.cost_usd)
    return {
        "today": total(s.today),
        "month": total(s.month),
        "by_model": [
            {"provider": m.provider, "model": m.model, **total(m.total)} for m in s.by_model
        ],
        "budget_usd": budget_usd,
        "budget_used": None if state.fraction is None else round(state.fraction, 4),
    }


def as_text(s: Spend, budget_usd: float | None) -> str:
    def line(label: str, t: Total) -> str:
        unknown = f" (+{t.unknown} turns without a price)" if t.unknown else ""
        return f"{label:<12} {usd(t.cost_usd):>10}  {t.turns} turns{unknown}"

    lines = [line("Today", s.today), line("This month", s.month)]
    for m in s.by_model:
        free = "  (the simulator costs nothing)" if m.provider == "simulator" else ""
        lines.append(
            f"  {m.provider}/{m.model}: {usd(m.total.cost_usd)} · {m.total.turns} turns{free}"
        )
    state = BudgetState(budget_usd, s.month.cost_usd)
    if budget_usd is None:
        lines.append("Budget       none (set one with: talkapp spend --budget USD)")
    else:
        lines.append(f"Budget       {usd(budget_usd)} a month, {state.fraction:.0%} used")
    return "\n".join(lines)
