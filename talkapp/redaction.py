"""One redaction for everything TalkApp writes or prints: the log (tracebacks too), recordings,
`--json` output, error messages and exports. Anything shaped like a credential is replaced:

  OpenAI keys and tokens   sk-…, sk-proj-…, ek-… (ephemeral), rk-… (restricted)
  xAI keys                 xai-…
  Google API keys          AIza…
  Azure OpenAI keys        32 hex digits; the newer 84-character keys
  JWTs                     eyJ….eyJ….signature (ephemeral client secrets, OAuth tokens)
  headers                  `Bearer …`, `Basic …`, `api-key: …`, `x-api-key=…`
  URLs                     user:password@ and secret query values (?key=, ?api-key=, ?token=, …)

Standard library only, so the protocol-free layers (logs, reports) can use it. Some harmless
text of the same shape (a 32-hex id) is redacted too: losing an id beats leaking a key.
"""

from __future__ import annotations

import re

REDACTED = "[redacted key]"
REDACTED_SECRET = "[redacted]"

_KEYS = re.compile(
    r"\b(?:sk|ek|rk)-[A-Za-z0-9_*.\-]{3,}"  # OpenAI (the service quotes keys as sk-abc***xyz)
    r"|\bxai-[A-Za-z0-9_*\-]{8,}"  # xAI
    r"|\bAIza[0-9A-Za-z_\-]{20,}"  # Google
    r"|\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"  # a JWT
    r"|\b[0-9a-fA-F]{32}\b"  # Azure OpenAI (classic)
    r"|\b[A-Za-z0-9]{84}\b"  # Azure AI Foundry
)
# A credential after a scheme or header name: the name stays, so the reader knows what was there.
_AFTER_NAME = re.compile(
    r"(?i)(\b(?:Bearer|Basic)\s+)[^\s\"',;]+"
    r"|(\b(?:x-)?api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
    r"|(\b(?:authorization|proxy-authorization|cookie)[\"']?\s*[:=]\s*[\"']?)"
    r"(?!Bearer\s|Basic\s)[^\s\"',;&]+"
)
_URL_USER = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s\"'@]+@")
_URL_SECRET = re.compile(
    r"(?i)([?&](?:api[-_]?key|key|token|access[-_]?token|client[-_]?secret|secret|password|sig|"
    r"signature|auth|code)=)[^&#\s\"']+"
)


def redact(text: str) -> str:
    """`text` with every credential-shaped part replaced."""
    text = _URL_USER.sub(lambda m: f"{m.group(1)}{REDACTED_SECRET}@", text)
    text = _URL_SECRET.sub(lambda m: m.group(1) + REDACTED_SECRET, text)
    text = _AFTER_NAME.sub(lambda m: next(g for g in m.groups() if g) + REDACTED_SECRET, text)
    return _KEYS.sub(REDACTED, text)
