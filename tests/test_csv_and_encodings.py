"""Files people open in other programs on Windows: the Compare CSV opens in Excel without a
blank row after every row and with its accents intact (a byte order mark), printed CSV lets the
console add its own line ends, and the price file is read as UTF-8 (with Notepad's BOM too),
whatever the system's code page."""

from __future__ import annotations

import csv
import io
import json

from talkapp.compare import report
from talkapp.compare.prices import load_prices
from talkapp.compare.stats import spread


def _row() -> report.Row:
    timings = {t: spread([1, 5, 9]) if t == "first_audio" else None for t in report.TIMINGS}
    return report.Row(
        "café config", "gpt-realtime", "ga", 3, 3, (), timings, spread([3000]),
        {t: None for t in report.TOKENS}, None, "Voilà, deux lignes\\nici",
    )  # fmt: skip


def test_the_csv_file_has_a_bom_and_one_crlf_per_row(tmp_path):
    path = tmp_path / "comparison.csv"
    report.save_export(path, report.as_csv([_row()]), "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    assert b"\r\r\n" not in raw and raw.count(b"\r\n") == 2  # header + one row, nothing doubled
    with path.open(encoding="utf-8-sig", newline="") as f:
        (line,) = list(csv.DictReader(f))
    assert line["config"] == "café config" and line["first_audio_ms_median"] == "5"


def test_json_exports_carry_no_bom(tmp_path):
    path = tmp_path / "comparison.json"
    report.save_export(path, '{"a": "é"}', "json")
    assert path.read_bytes() == '{"a": "é"}'.encode()


def test_printed_csv_ends_rows_with_newline_for_text_mode_to_translate():
    text = report.as_csv([_row()], lineterminator="\n")
    assert "\r" not in text
    (line,) = list(csv.DictReader(io.StringIO(text)))
    assert line["model"] == "gpt-realtime"


def test_the_price_file_is_read_as_utf8_with_or_without_a_bom(tmp_path):
    table = {"taken": "2027-01-01", "source": "Prix « maison »", "models": {}}
    path = tmp_path / "prices.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(table, ensure_ascii=False).encode())
    prices, problems = load_prices(path)
    assert problems == [] and prices.source == "Prix « maison »"
    path.write_bytes('{"taken": "caf\xe9"}'.encode("latin-1"))  # a legacy code page
    prices, problems = load_prices(path)
    assert problems == [f"{path} is not UTF-8 text; the shipped prices are used"]
