"""HTTP refusals at the WebSocket upgrade, in one line: what the service said and what fixes it.

Azure OpenAI refuses a bad key, a missing deployment, a rate limit or an unsupported request at
the upgrade itself, with a status and a JSON body `{"error": {"code": …, "message": …}}`;
OpenAI answers 401 to a request without a key and 403 to a key without access. The service's own
message is shown (with anything shaped like a key redacted), followed by the fix. Pure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from talkapp.redaction import redact
from talkapp.transport.websocket import HttpRefusal

MAX_MESSAGE_CHARS = 300  # the service's words, kept to one readable line
_RETRY_IN_TEXT = re.compile(r"retry after (\d+(?:\.\d+)?) ?(?:s\b|sec|second)", re.IGNORECASE)
_AZURE_PATHS = ("/openai/v1/realtime", "/openai/realtime")
# Statuses the same request gets again: reconnecting only hammers the service.
FINAL_STATUSES = frozenset({400, 401, 403, 404})


@dataclass(frozen=True)
class ServiceSaid:
    code: str | None
    message: str


def said(body: str) -> ServiceSaid:
    """The code and message of a refusal's body: `{"error": {"code", "message"}}` (Azure,
    OpenAI), `{"code", "message"}`, or plain text."""
    try:
        data = json.loads(body)
    except ValueError:
        return ServiceSaid(None, _one_line(body))
    error = data.get("error", data) if isinstance(data, dict) else None
    if isinstance(error, str):
        return ServiceSaid(None, _one_line(error))
    if not isinstance(error, dict):
        return ServiceSaid(None, _one_line(body))
    code = error.get("code")
    message = error.get("message")
    return ServiceSaid(
        str(code) if code is not None else None,
        _one_line(message) if isinstance(message, str) else "",
    )


def retry_after_s(refusal: HttpRefusal, message: str) -> int | None:
    """Seconds to wait: the Retry-After header (seconds), else "retry after N seconds" in the
    message (Azure's 429 says it there)."""
    header = (refusal.retry_after or "").strip()
    if header.replace(".", "", 1).isdigit():
        return max(1, round(float(header)))
    match = _RETRY_IN_TEXT.search(message)
    return max(1, round(float(match.group(1)))) if match else None


def is_azure(url: str) -> bool:
    return urlsplit(url).path.rstrip("/") in _AZURE_PATHS


def deployment_of(url: str) -> str:
    query = parse_qs(urlsplit(url).query)
    return (query.get("deployment") or query.get("model") or [""])[0]


def explain_refusal(refusal: HttpRefusal, url: str, model: str) -> str:
    said_ = said(refusal.body)
    quoted = f"{said_.code + ': ' if said_.code else ''}{said_.message}".strip(": ")
    words = f" ({quoted})" if quoted else ""
    status = refusal.status
    if is_azure(url):
        return _azure(refusal, status, words, said_, deployment_of(url))
    return _other(refusal, status, words, said_, model)


def _azure(
    refusal: HttpRefusal, status: int, words: str, said_: ServiceSaid, deployment: str
) -> str:
    head = f"Azure refused the connection with HTTP {status}{words}"
    match status:
        case 401 | 403:
            return (
                f"{head}: check that the key (or Entra ID sign-in) belongs to this Azure resource "
                "and that the resource name is right (Settings, or AZURE_OPENAI_API_KEY)."
            )
        case 404:
            return (
                f"{head}: Azure has no deployment named '{deployment}' on this resource; check the "
                "deployment name in the profile (CLI: --model) and the resource name."
            )
        case 429:
            return f"{head}: {_wait(refusal, said_)}"
        case 400:
            return (
                f"{head}: change what Azure names, e.g. the API version or a setting the "
                "deployment lacks."
            )
    if status >= 500:
        return f"{head}: Azure had a problem on its side; try again in a minute."
    return f"{head}: check the resource name and deployment in the profile."


def _other(refusal: HttpRefusal, status: int, words: str, said_: ServiceSaid, model: str) -> str:
    head = f"{refusal.host} refused the connection with HTTP {status}{words}"
    match status:
        case 401:
            return (
                f"{head}: no valid API key reached the service; store one for this provider in "
                "Settings (OS keyring) or set its environment variable."
            )
        case 403:
            return (
                f"{head}: this key has no access to model {model} or to the Realtime API; check "
                "the key's project and permissions, or pick another model."
            )
        case 404:
            return f"{head}: there is no realtime endpoint at this address; check the base URL."
        case 429:
            return f"{head}: {_wait(refusal, said_)}"
    if status >= 500:
        return f"{head}: the service had a problem on its side; try again in a minute."
    return f"{head}: check the base URL and the profile's settings."


def _wait(refusal: HttpRefusal, said_: ServiceSaid) -> str:
    seconds = retry_after_s(refusal, said_.message)
    return (
        f"the rate limit was reached; wait {seconds} s and try again."
        if seconds is not None
        else "the rate limit was reached; wait a little and try again."
    )


def _one_line(text: str) -> str:
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= MAX_MESSAGE_CHARS else flat[: MAX_MESSAGE_CHARS - 1] + "…"
