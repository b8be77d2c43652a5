"""The API key: from the OS keyring (service "talkapp") or, for this run only, OPENAI_API_KEY.

The key is never written anywhere else, logged, or put in an exception message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

KEYRING_SERVICE = "talkapp"
ENV_VAR = "OPENAI_API_KEY"


class MissingKey(Exception):
    """No key anywhere we may look; the message names every place."""


@dataclass(frozen=True)
class ApiKey:
    value: str
    source: str  # "keyring (<backend>)" or "environment (OPENAI_API_KEY)"

    def __repr__(self) -> str:  # never show the secret, even in a traceback or debugger
        return f"ApiKey(source={self.source!r})"


def find_api_key(key_name: str = "openai") -> ApiKey:
    stored, keyring_note = _from_keyring(key_name)
    if stored:
        return stored
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return ApiKey(from_env, f"environment ({ENV_VAR})")
    raise MissingKey(
        f"No API key found: store one in the OS keyring (service '{KEYRING_SERVICE}', user '{key_name}'), "
        f"e.g. `keyring set {KEYRING_SERVICE} {key_name}`, or set {ENV_VAR} for this run{keyring_note}."
    )


def _from_keyring(key_name: str) -> tuple[ApiKey | None, str]:
    try:
        import keyring
        from keyring.errors import KeyringError

        backend = keyring.get_keyring()
        value = keyring.get_password(KEYRING_SERVICE, key_name)
    except KeyringError as exc:
        return None, f" (the keyring is unavailable: {type(exc).__name__})"
    except Exception as exc:  # noqa: BLE001 - a broken backend (D-Bus gone, …) must not stop the app
        return None, f" (the keyring failed: {type(exc).__name__})"
    if value:
        return ApiKey(value.strip(), f"keyring ({type(backend).__name__})"), ""
    return None, ""
