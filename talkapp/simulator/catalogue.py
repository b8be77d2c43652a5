"""Which models the simulated service serves, in which dialects, and which take reasoning.

Beta-capable families took the `OpenAI-Beta: realtime=v1` header until the beta shutdown; the
GA-only families (and configured extra models) never did (reference §0, §1.3). xAI's Grok voice
models are served in xAI's own dialect (§1.6). Any OpenAI family may carry a `-YYYY-MM-DD`
snapshot suffix. The gpt-realtime-2 families take `session.reasoning`; the others reject it
(§2.1, reported).

Kept apart from the client's own model rules on purpose: the simulator is an independent
implementation, so a wrong pattern on one side shows up as a failed test.
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
REASONING = ("gpt-realtime-2", "gpt-realtime-2.1", "gpt-realtime-2.1-mini")
# `grok-voice-latest` is the reference's; `grok-voice-think-fast-1.0` is pipecat's default
# (reported).
XAI = ("grok-voice-latest", "grok-voice-think-fast-1.0")

_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")

Family = Literal["beta_capable", "ga_only", "xai"]


def family(model: str, extra_models: Iterable[str] = ()) -> Family | None:
    """The family of `model`, or None when the service does not serve it in realtime mode."""
    if model in extra_models:
        return "ga_only"
    if model in XAI:
        return "xai"
    base = _SNAPSHOT.sub("", model)
    if base in BETA_CAPABLE:
        return "beta_capable"
    if base in GA_ONLY:
        return "ga_only"
    return None


def takes_reasoning(model: str | None) -> bool:
    return model is not None and _SNAPSHOT.sub("", model) in REASONING


# Per-model output limits where the model pages give one: the gpt-realtime-2 family lists 32k
# of output (reference §2.1, "uncertain for -2 family" in the SDK's 1-4096 docstring); the
# others keep the documented 1-4096.
DEFAULT_MAX_OUTPUT_TOKENS = 4096
REASONING_MAX_OUTPUT_TOKENS = 32_768


def max_output_tokens(model: str | None) -> int:
    return REASONING_MAX_OUTPUT_TOKENS if takes_reasoning(model) else DEFAULT_MAX_OUTPUT_TOKENS
