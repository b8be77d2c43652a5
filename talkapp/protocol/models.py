"""What a model id alone tells us: which dialect `auto` picks for it, whether it takes reasoning.

Patterns, not lists, so dated snapshots (`gpt-realtime-2-2026-05-07`) and future point releases
(`gpt-realtime-2.2`) follow their family without a code change (reference §0, §2.1).
"""

from __future__ import annotations

import re

# The beta-era previews: `auto` speaks the beta dialect to them.
_BETA_ERA = re.compile(r"^gpt-4o(-mini)?-realtime-preview", re.IGNORECASE)

# xAI's Grok voice models (`grok-voice-latest`): `auto` speaks the xAI dialect to them.
_XAI = re.compile(r"^grok-", re.IGNORECASE)

# The gpt-realtime-2 family takes `reasoning.effort`; other models reject it (reference §2.1,
# reported). `gpt-realtime-2025-08-28` is the first gpt-realtime's snapshot, not a -2 model:
# the family name must end at "2" or go on with "." or "-".
_REASONING = re.compile(r"^gpt-realtime-2(?:$|[.-])", re.IGNORECASE)

REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh")


def is_beta_era(model: str) -> bool:
    return bool(_BETA_ERA.match(model.strip()))


# Google's Gemini models (`gemini-2.5-flash-native-audio-…`): `auto` speaks Gemini Live to them.
_GEMINI = re.compile(r"^(models/)?gemini-", re.IGNORECASE)


def is_gemini(model: str) -> bool:
    return bool(_GEMINI.match(model.strip()))


def is_xai(model: str) -> bool:
    return bool(_XAI.match(model.strip()))


def takes_reasoning(model: str) -> bool:
    """True for the models that accept `session.reasoning` (the gpt-realtime-2 family)."""
    return bool(_REASONING.match(model.strip()))


# xAI's reasoning switch (docs.x.ai REST reference, realtime client secrets: `reasoning.effort`
# "high" | "none", default high, only on grok-voice-latest and grok-voice-think-fast-1.0).
_XAI_REASONING = re.compile(r"^grok-voice-(latest$|think-)", re.IGNORECASE)


def xai_takes_reasoning(model: str) -> bool:
    return bool(_XAI_REASONING.match(model.strip()))


def xai_effort(effort: str | None) -> str | None:
    """xAI takes only "high" or "none": high and above think, minimal and low do not, medium
    (or nothing) leaves xAI's default."""
    if effort in ("high", "xhigh"):
        return "high"
    if effort in ("minimal", "low"):
        return "none"
    return None
