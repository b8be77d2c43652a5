"""What a turn cost: usage × the model's published price per token, by modality.

The table ships as data (`talkapp/data/prices.json`, with the date it was taken) and a user may
override or extend it with a `prices.json` in their config folder. A model without a price has
an unknown cost — never zero. A model whose price comes from elsewhere (another vendor's list)
carries its own `taken` and `source`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from talkapp.protocol.events import Usage

_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # snapshots share their family's price
PRICE_FIELDS = (
    "text_in",
    "text_cached",
    "text_out",
    "audio_in",
    "audio_cached",
    "audio_out",
    "image_in",
    "image_cached",
)


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    text_in: float
    text_cached: float
    text_out: float
    audio_in: float
    audio_cached: float
    audio_out: float
    image_in: float = 0.0
    image_cached: float = 0.0


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]
    taken: str  # the date the prices were read from the published list
    source: str
    # model -> "taken DATE (SOURCE)" for a price read from another list than the table's
    sources: dict[str, str] = field(default_factory=dict)

    def source_of(self, model: str) -> str:
        """Where this model's price was taken, when not from the table's own list ("")."""
        return self.sources.get(model) or self.sources.get(_DATED.sub("", model), "")

    def price_for(self, model: str) -> Price | None:
        return self.prices.get(model) or self.prices.get(_DATED.sub("", model))

    def cost(self, model: str, usage: Usage | None) -> float | None:
        """USD, or None when the model has no price or the turn reported no usage."""
        price = self.price_for(model)
        return None if price is None or usage is None else cost_of(usage, price)


def cost_of(usage: Usage, price: Price) -> float:
    cached_text, cached_audio = _cached_split(usage)
    total = (
        (usage.input_text - cached_text) * price.text_in
        + cached_text * price.text_cached
        + (usage.input_audio - cached_audio) * price.audio_in
        + cached_audio * price.audio_cached
        + usage.input_image * price.image_in
        + usage.output_text * price.text_out
        + usage.output_audio * price.audio_out
    )
    return total / 1_000_000


def _cached_split(usage: Usage) -> tuple[int, int]:
    """Cached tokens are a subset of the input, billed at the cached rate. Servers that give
    only the total are split in proportion to the input's text and audio."""
    if usage.input_cached_text or usage.input_cached_audio or not usage.input_cached:
        return usage.input_cached_text, usage.input_cached_audio
    inputs = max(1, usage.input_text + usage.input_audio)
    text = round(usage.input_cached * usage.input_text / inputs)
    return text, usage.input_cached - text


def load_prices(user_file: Path | None = None) -> tuple[PriceTable, list[str]]:
    """The shipped table, overridden model by model by the user's file; problems are returned."""
    shipped = json.loads(resources.files("talkapp.data").joinpath("prices.json").read_text("utf-8"))
    table = _table(shipped, [])
    problems: list[str] = []
    if user_file is not None and user_file.exists():
        try:
            # utf-8-sig: Notepad may save the file with a byte order mark.
            mine = _table(json.loads(user_file.read_text(encoding="utf-8-sig")), problems)
        except UnicodeDecodeError:
            problems.append(f"{user_file} is not UTF-8 text; the shipped prices are used")
        except ValueError:
            problems.append(f"{user_file} is not valid JSON; the shipped prices are used")
        else:
            table = PriceTable(
                {**table.prices, **mine.prices},
                mine.taken or table.taken,
                mine.source or table.source,
                {**table.sources, **mine.sources},
            )
    return table, problems


def _table(data: dict, problems: list[str]) -> PriceTable:
    prices, sources = {}, {}
    for model, row in (data.get("models") or {}).items():
        try:
            prices[model] = Price(**{k: float(v) for k, v in row.items() if k in PRICE_FIELDS})
        except (TypeError, ValueError, AttributeError):
            problems.append(f"the price of {model} is incomplete or not numbers; it is ignored")
            continue
        if row.get("taken") or row.get("source"):
            sources[model] = f"taken {row.get('taken', '?')} ({row.get('source', '?')})"
    return PriceTable(prices, str(data.get("taken", "")), str(data.get("source", "")), sources)
