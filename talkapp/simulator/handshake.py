"""Connection-time admission: who may connect, with which model, in which dialect (pure).

The service always completes the upgrade (101) and only then refuses, with one `error` event
and a close whose reason is `<type>.<code>` (reference §1.4). The checks run in the service's
order: authentication (close 3000), the retired beta header, a beta header on a GA-only model,
an unknown model, a missing model (close 4000 each).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from talkapp.simulator.catalogue import family
from talkapp.simulator.config import SimulatorConfig
from talkapp.simulator.errors import Fault, mask_key

REALTIME_PATH = "/v1/realtime"
AUTH_CLOSE = 3000
REQUEST_CLOSE = 4000

Dialect = Literal["ga", "beta"]
Intent = Literal["conversation", "transcription"]

MISSING_AUTH = Fault(None, "Missing bearer or basic authentication in header")
BETA_DISABLED = Fault(
    "beta_api_shape_disabled",
    "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.",
)
INVALID_BETA = Fault("invalid_beta", "Unknown beta requested: 'realtime'.")
MISSING_MODEL = Fault(
    "missing_model",
    "You must provide a model parameter, for example "
    "wss://api.openai.com/v1/realtime?model=gpt-realtime-1.5",
)


@dataclass(frozen=True)
class Admitted:
    dialect: Dialect
    model: str | None  # None only for a transcription-intent session
    intent: Intent


@dataclass(frozen=True)
class Refused:
    fault: Fault
    close_code: int


def is_realtime_path(path: str) -> bool:
    return urlsplit(path).path.rstrip("/") == REALTIME_PATH


def admit(path: str, headers: Mapping[str, str], config: SimulatorConfig) -> Admitted | Refused:
    """Decide a connection from its request line and headers (header names lower-case)."""
    if (fault := _auth_fault(headers.get("authorization"), config)) is not None:
        return Refused(fault, AUTH_CLOSE)
    beta = "realtime=v1" in headers.get("openai-beta", "").replace(" ", "").split(",")
    if beta and config.beta_mode == "retired":
        return Refused(BETA_DISABLED, REQUEST_CLOSE)
    query = parse_qs(urlsplit(path).query)
    model = query.get("model", [None])[0]
    intent: Intent = (
        "transcription" if query.get("intent", [""])[0] == "transcription" else "conversation"
    )
    if model is None:
        if intent == "transcription":
            return Admitted("beta" if beta else "ga", None, intent)
        return Refused(MISSING_MODEL, REQUEST_CLOSE)
    return _model_decision(model, beta, intent, config)


def _model_decision(
    model: str, beta: bool, intent: Intent, config: SimulatorConfig
) -> Admitted | Refused:
    kind = family(model, config.extra_models)
    if kind is None:
        fault = Fault("invalid_model", f'Model "{model}" is not supported in realtime mode.')
        return Refused(fault, REQUEST_CLOSE)
    if beta and kind == "ga_only":
        # The reference does not record this close code; 4000 like the other request faults.
        return Refused(INVALID_BETA, REQUEST_CLOSE)
    return Admitted("beta" if beta else "ga", model, intent)


def _auth_fault(header: str | None, config: SimulatorConfig) -> Fault | None:
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return MISSING_AUTH
    if config.api_keys is not None and token not in config.api_keys:
        message = (
            f"Incorrect API key provided: {mask_key(token)}. "
            "You can find your API key at https://platform.openai.com/account/api-keys."
        )
        return Fault("invalid_api_key", message)
    return None
