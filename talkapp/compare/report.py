"""A comparison for people (an aligned table, winners marked) and for programs (JSON, CSV):
one row per configuration, each timing as median and min–max over its runs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from talkapp.compare.prices import PriceTable
from talkapp.compare.runner import RunResult
from talkapp.compare.stats import Spread, spread
from talkapp.redaction import redact

TIMINGS = ("connect", "first_input_transcript", "first_audio", "done")
TOKENS = ("input_text", "input_audio", "input_cached", "output_text", "output_audio")


@dataclass(frozen=True)
class Row:
    config: str
    model: str
    dialect: str
    runs: int
    ok_runs: int
    errors: tuple[str, ...]
    timings: dict[str, Spread | None]
    reply_ms: Spread | None
    tokens: dict[str, Spread | None]
    cost: Spread | None  # None: unknown
    transcript: str


def summarize(results: Sequence[RunResult]) -> list[Row]:
    rows, order = [], list(dict.fromkeys(r.config for r in results))
    for label in order:
        runs = [r for r in results if r.config == label]
        good = [r for r in runs if r.ok]
        rows.append(
            Row(
                config=label,
                model=runs[0].model,
                dialect=runs[0].dialect,
                runs=len(runs),
                ok_runs=len(good),
                errors=tuple(dict.fromkeys(r.error for r in runs if r.error)),
                timings={t: spread([getattr(r.timings, t) for r in good]) for t in TIMINGS},
                reply_ms=spread([r.reply_ms for r in good]),
                tokens={
                    t: spread([getattr(r.usage, t) if r.usage else None for r in good])
                    for t in TOKENS
                },
                cost=spread([r.cost for r in good])
                if good and all(r.cost is not None for r in good)
                else None,
                transcript=good[0].transcript if good else "",
            )
        )
    return rows


def as_json(rows: Sequence[Row], prices: PriceTable) -> str:
    def value(s: Spread | None):
        return s.as_dict() if s else None

    results = [
        {
            "config": r.config,
            "model": r.model,
            "dialect": r.dialect,
            "runs": r.runs,
            "ok_runs": r.ok_runs,
            "errors": list(r.errors),
            "timings_ms": {t: value(s) for t, s in r.timings.items()},
            "reply_audio_ms": value(r.reply_ms),
            "tokens": {t: value(s) for t, s in r.tokens.items()},
            "cost_usd": value(r.cost) if r.cost else "unknown",
            "reply_transcript": r.transcript,
        }
        for r in rows
    ]
    prices_taken: dict[str, object] = {"taken": prices.taken, "source": prices.source}
    own = {r.model: prices.source_of(r.model) for r in rows if prices.source_of(r.model)}
    if own:
        prices_taken["models"] = own
    return redact(json.dumps({"results": results, "prices": prices_taken}, ensure_ascii=False))


def as_csv(rows: Sequence[Row], lineterminator: str = "\r\n") -> str:
    """RFC 4180 CSV (CRLF rows, as Excel writes it). For text-mode output, which turns "\n"
    into the system's line end itself (stdout), pass "\n": CRLF would become CR CR LF on
    Windows, which Excel shows as a blank row after every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(
        [
            "config",
            "model",
            "dialect",
            "runs",
            *(f"{t}_ms_median" for t in TIMINGS),
            "reply_audio_ms_median",
            *(f"{t}_median" for t in TOKENS),
            "cost_usd_median",
            "reply_transcript",
            "errors",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.config,
                r.model,
                r.dialect,
                r.runs,
                *(_median(r.timings[t]) for t in TIMINGS),
                _median(r.reply_ms),
                *(_median(r.tokens[t]) for t in TOKENS),
                "unknown" if r.cost is None else f"{r.cost.median:.6f}",
                r.transcript,
                " | ".join(r.errors),
            ]
        )
    return redact(out.getvalue())


def save_export(path: str | Path, text: str, kind: str) -> None:
    """Write an export made by `as_csv` or `as_json` byte for byte (no newline translation).
    CSV starts with a UTF-8 byte order mark, without which Excel reads it in the system's
    legacy code page and garbles every non-ASCII character. Raises OSError."""
    encoding = "utf-8-sig" if kind == "csv" else "utf-8"
    Path(path).write_text(text, encoding=encoding, newline="")


def as_table(rows: Sequence[Row], prices: PriceTable) -> str:
    best = winners(rows)
    header = [
        "config",
        "dialect",
        "connect",
        "1st transcript",
        "1st audio",
        "done",
        "reply",
        "tokens in/out",
        "cost",
    ]
    lines = [header]
    for r in rows:
        cells = [
            r.config,
            r.dialect,
            *(_ms(r.timings[t], best.get(t) == r.config) for t in TIMINGS),
            _seconds(r.reply_ms),
            _tokens(r),
            _cost(r.cost, best.get("cost") == r.config),
        ]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines
    ]
    text.insert(1, "  ".join("-" * w for w in widths))
    for r in rows:
        what = f"error: {'; '.join(r.errors)}" if r.errors and not r.transcript else r.transcript
        text.append(f"{r.config}: {what}")
    text.append(
        f"median (min–max) over runs; * best; prices taken {prices.taken} ({prices.source})"
    )
    for model in dict.fromkeys(r.model for r in rows if prices.source_of(r.model)):
        text.append(f"{model}: prices {prices.source_of(model)}")
    return redact("\n".join(text))


def winners(rows: Sequence[Row]) -> dict[str, str]:
    """The best configuration per column (a timing in TIMINGS, or "cost"): the lowest median,
    where more than one row has a value."""
    best = {}
    for t in TIMINGS:
        known = [(s.median, r.config) for r in rows if (s := r.timings[t])]
        if len(known) > 1:
            best[t] = min(known)[1]
    costs = [(r.cost.median, r.config) for r in rows if r.cost]
    if len(costs) > 1:
        best["cost"] = min(costs)[1]
    return best


def _median(s: Spread | None) -> str:
    return "" if s is None else f"{s.median:g}"


def _ms(s: Spread | None, best: bool) -> str:
    if s is None:
        return "—"
    mark = "*" if best else ""
    return f"{s.median:.0f} ms{mark}" + (f" ({s.low:.0f}–{s.high:.0f})" if s.n > 1 else "")


def _seconds(s: Spread | None) -> str:
    return "—" if s is None else f"{s.median / 1000:.1f} s"


def _tokens(r: Row) -> str:
    t = {k: (int(v.median) if v else 0) for k, v in r.tokens.items()}
    if not any(t.values()):
        return "—"
    return f"{t['input_text'] + t['input_audio']}/{t['output_text'] + t['output_audio']}"


def _cost(s: Spread | None, best: bool) -> str:
    return "unknown" if s is None else f"${s.median:.4f}" + ("*" if best else "")
