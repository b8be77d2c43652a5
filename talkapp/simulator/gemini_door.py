"""The Gemini Live door: Google's path, its key, its models and its refusals (pure).

Google's Live API upgrades every WebSocket and refuses afterwards with a close code and a reason,
never an error message: 1008 (policy violation) for a missing or bad key and for a model that
does not exist or does not take `bidiGenerateContent`, 1007 (invalid frame payload data) for a
setup or message it cannot accept, 1011 for its own failures. The key comes in the
`x-goog-api-key` header or, as Google also accepts, in `?key=` (which TalkApp never sends).
The reasons are Google's words (ai.google.dev Live API reference; the SDK raises them as
`APIError(code, reason)`), cut to what a close frame holds (123 bytes).

Kept apart from the client's model rules on purpose: a wrong pattern on one side fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from talkapp.simulator.config import SimulatorConfig

PATH = re.compile(
    r"^/ws/google\.ai\.generativelanguage\.(v1|v1beta)\.GenerativeService\.BidiGenerateContent$"
)
# The native-audio Live models of Google's Live API docs; any `-MM-YYYY` preview date is taken.
LIVE_MODELS = (
    "gemini-2.5-flash-native-audio-preview-12-2025",
    "gemini-2.5-flash-native-audio-preview-09-2025",
    "gemini-2.5-flash-native-audio-latest",
    "gemini-live-2.5-flash-preview",
    "gemini-2.0-flash-live-001",
)
# Gemini models that exist but do not speak Live (generateContent only).
NOT_LIVE = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-2.5-flash-lite")

POLICY = 1008
INVALID = 1007
INTERNAL = 1011
MAX_REASON_BYTES = 123


@dataclass(frozen=True)
class Close:
    code: int
    reason: str

    @property
    def wire_reason(self) -> str:
        """The reason cut to what a close frame carries."""
        raw = self.reason.encode()
        return raw[:MAX_REASON_BYTES].decode(errors="ignore")


NO_KEY = Close(
    POLICY,
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API.",
)
BAD_KEY = Close(POLICY, "API key not valid. Please pass a valid API key.")


def is_gemini_path(path: str) -> bool:
    return bool(PATH.match(urlsplit(path).path))


def api_version(path: str) -> str:
    match = PATH.match(urlsplit(path).path)
    return match.group(1) if match else "v1beta"


def key_of(path: str, headers: Mapping[str, str]) -> str:
    """The key as Google takes it: the `x-goog-api-key` header, else `?key=`."""
    header = headers.get("x-goog-api-key", "").strip()
    if header:
        return header
    values = parse_qs(urlsplit(path).query).get("key", [])
    return values[0].strip() if values else ""


def admit_key(path: str, headers: Mapping[str, str], config: SimulatorConfig) -> Close | None:
    key = key_of(path, headers)
    if not key:
        return NO_KEY
    if config.api_keys is not None and key not in config.api_keys:
        return BAD_KEY
    return None


def is_live_model(model: str) -> bool:
    return model in LIVE_MODELS or bool(
        re.fullmatch(r"gemini-[\w.]+-native-audio(-preview)?-\d{2}-\d{4}", model)
    )


def model_problem(setup_model: object, version: str) -> Close | None:
    """`models/<id>` must name a Live model (Google's words for both an unknown and a non-Live
    one are the same)."""
    if not isinstance(setup_model, str) or not setup_model.startswith("models/"):
        return Close(INVALID, "Request contains an invalid argument.")
    model = setup_model.removeprefix("models/")
    if is_live_model(model):
        return None
    return Close(
        POLICY,
        f"models/{model} is not found for API version {version}, or is not supported for "
        "bidiGenerateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def masked_path(path: str) -> str:
    """The path as the recorder keeps it: a `?key=` value masked."""
    parts = urlsplit(path)
    if "key=" not in parts.query:
        return path
    query = re.sub(r"(^|&)key=[^&]*", r"\1key=***", parts.query)
    return f"{parts.path}?{query}"
