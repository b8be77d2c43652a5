"""Which dialect to speak: from the profile's `api` setting and the model id.

`auto` sends the beta-era preview models (`gpt-4o-realtime-preview*`,
`gpt-4o-mini-realtime-preview*`) to the beta dialect and everything else to GA, the dialect
that is alive; an explicit `beta` or `ga` always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from talkapp.protocol import beta, ga
from talkapp.protocol.dialect import Dialect

ApiSetting = Literal["auto", "beta", "ga"]
API_SETTINGS: tuple[ApiSetting, ...] = ("auto", "beta", "ga")

DIALECTS: dict[str, Dialect] = {"beta": beta.DIALECT, "ga": ga.DIALECT}

_BETA_MODELS = re.compile(r"^gpt-4o(-mini)?-realtime-preview", re.IGNORECASE)


@dataclass(frozen=True)
class DialectChoice:
    dialect: Dialect
    setting: ApiSetting

    def describe(self) -> str:
        """`GA (auto)` or `beta` — the dialect really in use, and whether auto chose it."""
        return f"{self.dialect.label} (auto)" if self.setting == "auto" else self.dialect.label


def auto_dialect(model: str) -> Dialect:
    return beta.DIALECT if _BETA_MODELS.match(model.strip()) else ga.DIALECT


def choose_dialect(setting: str, model: str) -> DialectChoice:
    if setting not in API_SETTINGS:
        raise ValueError(f"unknown dialect setting {setting!r}: use one of {', '.join(API_SETTINGS)}")
    dialect = auto_dialect(model) if setting == "auto" else DIALECTS[setting]
    return DialectChoice(dialect, setting)  # type: ignore[arg-type]
