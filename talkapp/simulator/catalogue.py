"""Which models the simulated service serves, and in which dialects.

Beta-capable families took the `OpenAI-Beta: realtime=v1` header until the beta shutdown; the
GA-only families (and configured extra models) never did (reference §0, §1.3). Any family may
carry a `-YYYY-MM-DD` snapshot suffix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

BETA_CAPABLE = (
    "gpt-4o-realtime-preview",
    "gpt-4o-mini-realtime-preview",
    "gpt-realtime",
    "gpt-realtime-mini",
)
GA_ONLY = ("gpt-realtime-2", "gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime-1.5")

_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")

Family = Literal["beta_capable", "ga_only"]


def family(model: str, extra_models: Iterable[str] = ()) -> Family | None:
    """The family of `model`, or None when the service does not serve it in realtime mode."""
    if model in extra_models:
        return "ga_only"
    base = _SNAPSHOT.sub("", model)
    if base in BETA_CAPABLE:
        return "beta_capable"
    if base in GA_ONLY:
        return "ga_only"
    return None
