"""Which dialect to speak: from the profile's `api` setting, its provider and the model id.

`auto` means the provider's own dialect where it has one (Azure's GA endpoint: GA; Azure's
preview deployments: beta; xAI: xAI); where it has none (OpenAI, custom servers, the simulator)
it sends the beta-era preview models (`gpt-4o-realtime-preview*`,
`gpt-4o-mini-realtime-preview*`) to the beta dialect, xAI's `grok-*` models to the xAI dialect
Google's `gemini-*` models to Gemini Live, and everything else to GA, the dialect that is alive.
An explicit `beta`, `ga`, `xai` or `gemini` always wins.

The chosen dialect is bound to the model, so its session shape leaves out what the model does
not take (a reasoning effort on a model without reasoning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from talkapp.protocol import beta, ga, gemini, xai
from talkapp.protocol.dialect import Dialect
from talkapp.protocol.models import is_beta_era, is_gemini, is_xai

ApiSetting = Literal["auto", "beta", "ga", "xai", "gemini"]
API_SETTINGS: tuple[ApiSetting, ...] = ("auto", "beta", "ga", "xai", "gemini")

DIALECTS: dict[str, Dialect] = {
    "beta": beta.DIALECT,
    "ga": ga.DIALECT,
    "xai": xai.DIALECT,
    "gemini": gemini.DIALECT,
}


@dataclass(frozen=True)
class DialectChoice:
    dialect: Dialect
    setting: ApiSetting

    def describe(self) -> str:
        """`GA (auto)` or `beta` — the dialect really in use, and whether auto chose it."""
        return f"{self.dialect.label} (auto)" if self.setting == "auto" else self.dialect.label


def auto_dialect(model: str, provider_dialect: str | None = None) -> Dialect:
    """What `auto` picks: the provider's dialect if it has one, else by model id."""
    if provider_dialect is not None:
        return DIALECTS[provider_dialect]
    if is_xai(model):
        return xai.DIALECT
    if is_gemini(model):
        return gemini.DIALECT
    return beta.DIALECT if is_beta_era(model) else ga.DIALECT


def choose_dialect(setting: str, model: str, provider_dialect: str | None = None) -> DialectChoice:
    """`provider_dialect`: the provider preset's own dialect name (None: decided by the model)."""
    if setting not in API_SETTINGS:
        raise ValueError(
            f"unknown dialect setting {setting!r}: use one of {', '.join(API_SETTINGS)}"
        )
    dialect = auto_dialect(model, provider_dialect) if setting == "auto" else DIALECTS[setting]
    return DialectChoice(dialect.for_model(model.strip()), setting)
