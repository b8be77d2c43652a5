"""Connection-time admission: who may connect, where, with which model, in which dialect (pure).

The service always completes the upgrade (101) and only then refuses, with one `error` event
and a close whose reason is `<type>.<code>` (reference §1.4). Three kinds of door:

- `/v1/realtime?model=…` — OpenAI, in the service's order: authentication (close 3000), the
  retired beta header, a beta header on a GA-only model, an unknown model, a missing model
  (close 4000 each). xAI's Grok voice models answer on the same path (`api.x.ai/v1/realtime`)
  in xAI's dialect: Bearer auth, no beta header involved (§1.6).
- `/openai/v1/realtime?model=<deployment>` — Azure OpenAI, GA: key in `api-key` (or an Entra
  token as Bearer), no api-version, GA only.
- `/openai/realtime?api-version=…&deployment=…` — Azure's preview protocol: beta shapes
  whatever the headers say.

Azure refuses at the HTTP upgrade itself, before any WebSocket frame: a status with a JSON body
`{"error": {"code", "message"}}` (401 for keys, 404 `DeploymentNotFound`, 429 with the seconds
to wait, 400 for what the deployment does not support; other-services.md). `Refused.http_status`
says so; the server answers those without upgrading.
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

Route = Literal["openai", "azure", "azure_preview"]
ROUTES: dict[str, Route] = {
    REALTIME_PATH: "openai",  # OpenAI; xAI's models too
    "/openai/v1/realtime": "azure",
    "/openai/realtime": "azure_preview",
}

Dialect = Literal["ga", "beta", "xai"]
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
AZURE_MISSING_KEY = Fault(
    "401",
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API.",
)
AZURE_BAD_KEY = Fault(
    "401",
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource.",
)
DEPLOYMENT_NOT_FOUND = Fault(
    "DeploymentNotFound",
    "The API deployment for this resource does not exist. If you created the deployment "
    "within the last 5 minutes, please wait a moment and try again.",
)
NO_API_VERSION = Fault("404", "Resource not found")
BAD_API_VERSION = Fault("BadRequest", "API version not supported")


@dataclass(frozen=True)
class Admitted:
    dialect: Dialect
    model: str | None  # None only for a transcription-intent session; Azure: the deployment's model
    intent: Intent


@dataclass(frozen=True)
class Refused:
    fault: Fault
    close_code: int
    http_status: int | None = None  # refused at the upgrade with this status (Azure), no socket
    retry_after_s: int | None = None  # a 429's Retry-After


def rate_limited(retry_after_s: int) -> Refused:
    """Azure's 429 at the upgrade: the seconds to wait are in the message and in Retry-After."""
    fault = Fault(
        "429",
        "Requests to the Realtime Operation under Azure OpenAI API have exceeded the token rate "
        f"limit of your current pricing tier. Please retry after {retry_after_s} seconds.",
    )
    return Refused(fault, REQUEST_CLOSE, 429, retry_after_s)


def route_of(path: str) -> Route | None:
    return ROUTES.get(urlsplit(path).path.rstrip("/"))


def is_realtime_path(path: str) -> bool:
    return route_of(path) is not None


def admit(path: str, headers: Mapping[str, str], config: SimulatorConfig) -> Admitted | Refused:
    """Decide a connection from its request line and headers (header names lower-case)."""
    query = parse_qs(urlsplit(path).query)
    route = route_of(path) or "openai"
    if route == "openai":
        return _openai(query, headers, config)
    if (fault := _azure_auth_fault(headers, config)) is not None:
        return _at_upgrade(Refused(fault, AUTH_CLOSE))
    if route == "azure":
        decided = _azure_ga(query, headers, config)
    else:
        decided = _azure_preview(query, config)
    return _at_upgrade(decided) if isinstance(decided, Refused) else decided


def _at_upgrade(refused: Refused) -> Refused:
    """Azure answers the upgrade with an HTTP status instead of 101."""
    code = refused.fault.code
    status = 401 if code == "401" else 404 if code in ("DeploymentNotFound", "404") else 400
    return Refused(refused.fault, refused.close_code, status)


# --- OpenAI (and xAI) ---------------------------------------------------------------------------


def _openai(query: dict, headers: Mapping[str, str], config: SimulatorConfig) -> Admitted | Refused:
    if (fault := _bearer_fault(headers.get("authorization"), config)) is not None:
        return Refused(fault, AUTH_CLOSE)
    model = _one(query, "model")
    if model is not None and family(model, config.extra_models) == "xai":
        return Admitted("xai", model, "conversation")  # xAI's own service: no OpenAI-Beta rules
    beta = _beta_header(headers)
    if beta and config.beta_mode == "retired":
        return Refused(BETA_DISABLED, REQUEST_CLOSE)
    intent = _intent(query)
    if model is None:
        if intent == "transcription":
            return Admitted("beta" if beta else "ga", None, intent)
        return Refused(MISSING_MODEL, REQUEST_CLOSE)
    return _model_decision(model, beta, intent, config)


def _model_decision(
    model: str, beta: bool, intent: Intent, config: SimulatorConfig
) -> Admitted | Refused:
    kind = family(model, config.extra_models)
    if kind is None or kind == "xai":
        fault = Fault("invalid_model", f'Model "{model}" is not supported in realtime mode.')
        return Refused(fault, REQUEST_CLOSE)
    if beta and kind == "ga_only":
        # The reference does not record this close code; 4000 like the other request faults.
        return Refused(INVALID_BETA, REQUEST_CLOSE)
    return Admitted("beta" if beta else "ga", model, intent)


def _bearer_fault(header: str | None, config: SimulatorConfig) -> Fault | None:
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


# --- Azure --------------------------------------------------------------------------------------


def _azure_auth_fault(headers: Mapping[str, str], config: SimulatorConfig) -> Fault | None:
    """Azure takes its `api-key` header, or an Entra token as `Authorization: Bearer`."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    key = headers.get("api-key", "").strip() or (
        token.strip() if scheme.lower() == "bearer" else ""
    )
    if not key:
        return AZURE_MISSING_KEY
    if config.api_keys is not None and key not in config.api_keys:
        return AZURE_BAD_KEY
    return None


def _azure_ga(
    query: dict, headers: Mapping[str, str], config: SimulatorConfig
) -> Admitted | Refused:
    if _beta_header(headers):  # the /openai/v1 door is GA only, like OpenAI's today
        return Refused(BETA_DISABLED, REQUEST_CLOSE)
    deployment = _one(query, "model")
    if deployment is None:
        if _intent(query) == "transcription":
            return Admitted("ga", None, "transcription")
        return Refused(MISSING_MODEL, REQUEST_CLOSE)
    model = _deployed_model(deployment, config)
    if model is None:
        return Refused(DEPLOYMENT_NOT_FOUND, REQUEST_CLOSE)
    return Admitted("ga", model, _intent(query))


def _azure_preview(query: dict, config: SimulatorConfig) -> Admitted | Refused:
    version = _one(query, "api-version")
    if version is None:
        return Refused(NO_API_VERSION, REQUEST_CLOSE)
    if version not in config.azure_api_versions:
        return Refused(BAD_API_VERSION, REQUEST_CLOSE)
    deployment = _one(query, "deployment")
    model = _deployed_model(deployment, config) if deployment else None
    if model is None:
        return Refused(DEPLOYMENT_NOT_FOUND, REQUEST_CLOSE)
    return _model_decision(model, True, _intent(query), config)  # beta shapes, whatever the headers


def _deployed_model(deployment: str, config: SimulatorConfig) -> str | None:
    if deployment in config.azure_deployments:
        return config.azure_deployments[deployment]
    return (
        deployment
        if family(deployment, config.extra_models) in ("beta_capable", "ga_only")
        else None
    )


# --- small parts --------------------------------------------------------------------------------


def _one(query: dict, name: str) -> str | None:
    return query.get(name, [None])[0]


def _intent(query: dict) -> Intent:
    return "transcription" if _one(query, "intent") == "transcription" else "conversation"


def _beta_header(headers: Mapping[str, str]) -> bool:
    return "realtime=v1" in headers.get("openai-beta", "").replace(" ", "").split(",")
