"""Spend totals and the budget rule: pure functions, a fixed clock."""

import datetime as dt

import pytest

from talkapp.history import spend
from talkapp.history.store import CostRow

TZ = dt.timezone(dt.timedelta(hours=2))
NOW = dt.datetime(2026, 3, 15, 9, 30, tzinfo=TZ)


def at(*args) -> float:
    return dt.datetime(*args, tzinfo=TZ).timestamp()


def test_today_month_and_by_model_count_only_their_own_period():
    rows = [
        CostRow(at(2026, 2, 28, 23, 59), "openai", "gpt-realtime", 5.0),  # last month: not counted
        CostRow(at(2026, 3, 1, 0, 0), "openai", "gpt-realtime", 1.0),
        CostRow(at(2026, 3, 14, 23, 0), "openai", "gpt-realtime-mini", 0.25),
        CostRow(at(2026, 3, 15, 8, 0), "openai", "gpt-realtime", 0.5),
        CostRow(at(2026, 3, 15, 9, 0), "custom", "my-model", None),  # no price: unknown, not zero
        CostRow(at(2026, 3, 15, 9, 1), "simulator", "gpt-realtime", 0.0, paid=False),
    ]
    s = spend.spend(rows, NOW)
    assert (s.month.cost_usd, s.month.turns, s.month.unknown) == (1.75, 5, 1)
    assert (s.today.cost_usd, s.today.turns, s.today.unknown) == (0.5, 3, 1)
    assert [(m.provider, m.model, m.total.cost_usd) for m in s.by_model] == [
        ("openai", "gpt-realtime", 1.5),
        ("openai", "gpt-realtime-mini", 0.25),
        ("custom", "my-model", 0.0),
        ("simulator", "gpt-realtime", 0.0),
    ]
    as_json = spend.as_dict(s, 10.0)
    assert as_json["month"] == {"cost_usd": 1.75, "turns": 5, "unknown_cost_turns": 1}
    assert as_json["budget_used"] == pytest.approx(0.175)
    text = spend.as_text(s, None)
    assert "without a price" in text and "costs nothing" in text and "--budget" in text


@pytest.mark.parametrize(
    "budget, spent, warn, reached",
    [
        (None, 100.0, False, False),
        (10.0, 7.99, False, False),
        (10.0, 8.0, True, False),
        (10.0, 10.0, True, True),
        (10.0, 12.0, True, True),
        (0.0, 0.0, True, True),  # a zero budget: no paid sessions at all
    ],
)
def test_the_budget_warns_at_80_percent_and_refuses_at_100(budget, spent, warn, reached):
    state = spend.BudgetState(budget, spent)
    assert (state.warn, state.reached) == (warn, reached)
    assert bool(state.banner()) == warn
    line = spend.refusal(state, "raise it in Settings")
    assert (line is not None) == reached
    if line:
        assert "\n" not in line and "raise it in Settings" in line and spend.usd(budget) in line


@pytest.mark.parametrize(
    "text, value", [("20", 20.0), ("$7.50", 7.5), (" 0 ", 0.0), ("none", None), ("NONE", None)]
)
def test_budget_text_is_parsed(text, value):
    assert spend.parse_budget(text) == value


@pytest.mark.parametrize("text", ["lots", "-1", "nan", "inf", "1e400", "12,50"])
def test_a_budget_that_is_not_a_number_is_one_line(text):
    with pytest.raises(ValueError) as bad:
        spend.parse_budget(text)
    assert "\n" not in str(bad.value) and "none" in str(bad.value)


def test_month_start_is_the_local_first_of_the_month():
    assert spend.month_start(NOW) == dt.datetime(2026, 3, 1, tzinfo=TZ)
    assert spend.day_start(NOW) == dt.datetime(2026, 3, 15, tzinfo=TZ)


def test_the_budget_and_retention_settings_are_read_forgivingly():
    from talkapp.settings.model import from_json, to_json

    problems: list[str] = []
    good = from_json({"history": {"monthly_budget_usd": 12.5, "keep_days": 30}}, problems)
    assert (good.history.monthly_budget_usd, good.history.keep_days, problems) == (12.5, 30, [])
    assert from_json(to_json(good), []).history == good.history
    bad = from_json({"history": {"monthly_budget_usd": "lots", "keep_days": -2}}, problems)
    assert bad.history.monthly_budget_usd is None and bad.history.keep_days is None
    assert len(problems) == 2 and all("history" in p for p in problems)


def test_the_history_package_needs_no_qt():
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "talkapp" / "history"
    for source in package.glob("*.py"):
        assert "PySide6" not in source.read_text(), source.name
