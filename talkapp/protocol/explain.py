"""Service errors in plain words: what happened and which setting fixes it, in one line.

The service's own message is shown only where it helps; for a rejected key it is never
repeated, since it quotes part of the key.
"""

from __future__ import annotations

from collections.abc import Callable

from talkapp.protocol.events import ServerError
from talkapp.protocol.selection import DialectChoice

_TO_GA = "set the profile's dialect to GA (CLI: --api ga)"
_TO_BETA = "set the profile's dialect to Beta (CLI: --api beta)"


def _to_ga(model: str, choice: DialectChoice) -> str:
    """The fix for a refused beta session. Auto picked beta because of the model's name, so
    there the dialect setting cannot help: the model must change."""
    if choice.setting == "auto" and choice.dialect.name == "beta":
        return (
            f"Auto speaks beta to {model}; choose a GA model such as gpt-realtime in the "
            "profile (CLI: --api ga)"
        )
    return _TO_GA


def _beta_retired(e: ServerError, model: str, choice: DialectChoice) -> str:
    fix = _to_ga(model, choice)
    with_model = "" if "choose a GA model" in fix else ", with a GA model such as gpt-realtime"
    return (
        "This service no longer accepts the beta Realtime dialect (OpenAI retired it on "
        f"2026-05-12): {fix}{with_model}."
    )


def _beta_refused(e: ServerError, model: str, choice: DialectChoice) -> str:
    return f"Model {model} does not speak the beta dialect: {_to_ga(model, choice)}."


def _speaks_ga(e: ServerError, model: str, choice: DialectChoice) -> str:
    return f"This endpoint speaks the GA dialect but TalkApp sent a beta-shaped session: {_TO_GA}."


def _speaks_beta(e: ServerError, model: str, choice: DialectChoice) -> str:
    return f"This endpoint speaks only the beta dialect but TalkApp sent a GA session: {_TO_BETA}."


def _missing_parameter(e: ServerError, model: str, choice: DialectChoice) -> str:
    if e.param == "session.type":
        return _speaks_ga(e, model, choice)
    return _generic(e, model, choice)


def _unknown_parameter(e: ServerError, model: str, choice: DialectChoice) -> str:
    # A beta server meets our GA session at its discriminator first: 'session.type'.
    if e.param == "session.type":
        return _speaks_beta(e, model, choice)
    return _generic(e, model, choice)


# The protocol layer does not know the provider; each has its own variable (settings/providers.py).
_KEY_VARIABLES = (
    "OPENAI_API_KEY for OpenAI, AZURE_OPENAI_API_KEY, XAI_API_KEY or TALKAPP_CUSTOM_API_KEY"
)


def _no_auth(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        "No API key was sent: store one for this provider in Settings (OS keyring, service "
        "'talkapp') or set "
        f"its environment variable ({_KEY_VARIABLES})."
    )


def _bad_key(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        "The service rejected the API key: store a valid key for this provider in Settings (OS "
        "keyring) or set "
        f"its environment variable ({_KEY_VARIABLES})."
    )


def _bad_model(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        f"The service does not offer model '{model}' for realtime sessions: pick a realtime "
        "model such as gpt-realtime."
    )


def _missing_model(e: ServerError, model: str, choice: DialectChoice) -> str:
    return "No model was given: choose a realtime model in the profile (CLI: --model)."


def _expired(e: ServerError, model: str, choice: DialectChoice) -> str:
    return "The session reached the service's maximum duration; a new session is needed."


def _rate_limited(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        "The service's rate limit for your account was reached: wait a few seconds and speak again."
    )


def _no_quota(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        "Your account has no quota left for this model: check billing with your provider (OpenAI: "
        "platform.openai.com), or pick another profile."
    )


def _server_fault(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        "The service had an internal error (not your fault): try again; if it persists, check the "
        "provider's "
        "status page (OpenAI: status.openai.com)."
    )


def _our_fault(e: ServerError, model: str, choice: DialectChoice) -> str:
    return (
        f"The service rejected an event TalkApp sent ({e.code}: {e.message}). This is a "
        "TalkApp bug; please report it."
    )


def _generic(e: ServerError, model: str, choice: DialectChoice) -> str:
    code = f" ({e.code})" if e.code else ""
    return f"The service reported an error{code}: {e.message}"


_EXPLAINERS: dict[str | None, Callable[[ServerError, str, DialectChoice], str]] = {
    "beta_api_shape_disabled": _beta_retired,
    "invalid_beta": _beta_refused,
    "missing_required_parameter": _missing_parameter,
    "unknown_parameter": _unknown_parameter,
    "invalid_api_key": _bad_key,
    "invalid_model": _bad_model,
    "model_not_found": _bad_model,
    "missing_model": _missing_model,
    "session_expired": _expired,
    "rate_limit_exceeded": _rate_limited,
    "insufficient_quota": _no_quota,
    "server_error": _server_fault,
    "invalid_event": _our_fault,
    "invalid_json": _our_fault,
}


def explain(error: ServerError, model: str, choice: DialectChoice) -> str:
    if error.code is None and "authentication" in error.message.lower():
        return _no_auth(error, model, choice)
    if error.error_type == "server_error" and error.code not in _EXPLAINERS:
        return _server_fault(error, model, choice)
    return _EXPLAINERS.get(error.code, _generic)(error, model, choice)


def is_dialect_refusal(error: ServerError) -> bool:
    """True when the error means we spoke the wrong dialect for this endpoint or model."""
    return error.code in ("beta_api_shape_disabled", "invalid_beta") or (
        error.code in ("missing_required_parameter", "unknown_parameter")
        and error.param == "session.type"
    )
