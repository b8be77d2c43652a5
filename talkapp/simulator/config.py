"""What a simulator is (frozen configuration) and how it misbehaves right now (mutable knobs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# What clients send the built-in simulator: it accepts any key (api_keys None), so this one is
# not a secret; one constant so the app, the CLI and comparisons agree.
SIMULATOR_KEY = "sk-talkapp-simulator"
GA_CAP_S = 3600.0  # reference §7.1: GA sessions end after 60 minutes
BETA_CAP_S = 1800.0  # beta era: 30 minutes
XAI_CAP_S = 3600.0  # reference §1.6: xAI sessions last one hour
AZURE_CAP_S = 1800.0  # Azure OpenAI: sessions last at most 30 minutes, on either door
# Azure's preview protocol (learn.microsoft.com, "Use the GPT Realtime API via WebSockets"):
# 2025-04-01-preview; 2024-10-01-preview is retired and refused.
AZURE_API_VERSIONS = ("2025-04-01-preview",)


@dataclass
class Knobs:
    """Fault knobs, read at every use so a test can flip them on a live connection.

    The two `send_*` knobs are one-shot: the next response start (on any connection) consumes them.
    """

    drop_after_audio_deltas: int | None = None  # abort TCP (no close frame) after N audio deltas
    # a dead network path: after N audio deltas the connection stays open but sends nothing more
    # and answers no ping (one-shot: the next connection is healthy)
    go_silent_after_audio_deltas: int | None = None
    expire_after_s: float | None = None  # end sessions early with `session_expired`
    send_malformed: bool = False  # one broken server event at the next response start
    # deep_nesting: valid JSON nested 200,000 deep (a parser that recurses cannot read it)
    malformed_kind: Literal["invalid_json", "missing_field", "deep_nesting"] = "missing_field"
    send_unknown_event: bool = False  # one `response.future_thing` at the next response start
    audio_pace: float = 4.0  # times faster than real time; 0 = as fast as possible
    azure_rate_limited_s: int | None = None  # Azure doors answer the upgrade 429, retry after N s
    keep_voice: str | None = None  # session.updated reports this voice, whatever was asked
    # Gemini door: after the next turn, `goAway` with this many seconds left, then close (one-shot)
    gemini_go_away_s: float | None = None
    gemini_withhold_handles: bool = False  # Gemini door: `sessionResumptionUpdate` not resumable


@dataclass(frozen=True)
class SimulatorConfig:
    beta_mode: Literal["accept", "retired"] = "accept"
    api_keys: frozenset[str] | None = None  # None: any non-empty bearer token
    latency_ms: int = 0  # think time before a response produces output
    model_latency_ms: Mapping[str, int] = field(default_factory=dict)
    extra_models: tuple[str, ...] = ()  # accepted as GA-only models
    seed: int = 0
    knobs: Knobs = field(default_factory=Knobs)  # starting values; each Simulator copies them
    audio_chunk_ms: int = 60  # size of one audio delta
    ga_cap_s: float = GA_CAP_S
    beta_cap_s: float = BETA_CAP_S
    xai_cap_s: float = XAI_CAP_S
    azure_cap_s: float = AZURE_CAP_S
    rate_limit_tokens: int = 40_000  # tokens per minute reported in rate_limits.updated
    ping_interval_s: float | None = 20.0  # the service pings about every 20 s
    xai_ping_event_s: float | None = 15.0  # xAI also sends `ping` events (interval not recorded)
    # litellm's docs: `conversation.created` arrives on connect; others describe `session.created`
    xai_opens_with: Literal["conversation", "session"] = "conversation"
    record_events: bool = True  # keep every event for inspection (tests); off for long app sessions
    # Azure: deployment name -> the model it runs. A deployment named like a served model is that
    # model without being listed (as most deployments are named).
    azure_deployments: Mapping[str, str] = field(default_factory=dict)
    azure_api_versions: tuple[str, ...] = AZURE_API_VERSIONS

    def latency_for(self, model: str) -> float:
        """Think time in seconds for `model` (per-model override, else the default)."""
        return self.model_latency_ms.get(model, self.latency_ms) / 1000.0

    def cap_for(self, dialect: str, azure: bool = False) -> float:
        """The session cap in seconds for a dialect ("ga", "beta", "xai"); Azure's doors have
        their own, whichever dialect they speak."""
        if azure:
            return self.azure_cap_s
        return {"ga": self.ga_cap_s, "beta": self.beta_cap_s, "xai": self.xai_cap_s}[dialect]
