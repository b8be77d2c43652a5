"""The API key: in the OS keyring (service "talkapp", one entry per provider) or, for this run
only, in a `SessionKeys` store the app holds in memory ("Use for this session" without a
keyring) or in the environment (the provider's variable, else OPENAI_API_KEY where the provider
is OpenAI-compatible). Never in a file, a log, or an exception message.

Only real OS keyrings count (macOS Keychain, Windows Credential Manager, Secret Service,
KWallet). keyring's file-based backends (keyrings.alt) are refused even when installed: they
would put the key in a file, which is exactly what TalkApp promises never to do.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

KEYRING_SERVICE = "talkapp"
ENV_VAR = "OPENAI_API_KEY"

_OS_KEYRINGS = {  # keyring backend module -> what a person knows it as
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service",
    "keyring.backends.kwallet": "KWallet",
}
_FALLBACK = (
    f"TalkApp can use {ENV_VAR} for this session instead; it never writes the key to a file."
)
NO_KEYRING = f"No OS keyring is available to store the API key. {_FALLBACK}"


class MissingKey(Exception):
    """No key anywhere we may look; the message names every place."""


class KeyringUnavailable(Exception):
    """No usable OS keyring; the message says so and what the app does instead."""


@dataclass(frozen=True)
class ApiKey:
    value: str
    source: str  # "Secret Service", "macOS Keychain", … or "environment (OPENAI_API_KEY)"

    def __repr__(self) -> str:  # never show the secret, even in a traceback or a debugger
        return f"ApiKey(source={self.source!r})"


class SessionKeys:
    """Keys given for this run only, in memory, by the environment variable each stands in for
    (so one typed for OPENAI_API_KEY serves every profile that would read that variable). Made
    by the composition root and handed to whoever looks keys up; gone when the process ends,
    never written anywhere, never put in the process environment (child processes inherit
    that). Safe from any thread."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, env_var: str, value: str) -> None:
        with self._lock:
            self._keys[env_var] = value.strip()

    def get(self, env_var: str) -> str | None:
        with self._lock:
            return self._keys.get(env_var) or None

    def __repr__(self) -> str:  # never show a secret, even in a traceback or a debugger
        with self._lock:
            return f"SessionKeys({sorted(self._keys)})"


def keyring_name() -> str | None:
    """The OS keyring in use, by the name a person knows, or None when there is none."""
    backend = _os_keyring()
    return None if backend is None else _name_of(backend)


def find_api_key(
    key_name: str = "openai",
    env_vars: Sequence[str] = (ENV_VAR,),
    session: SessionKeys | None = None,
) -> ApiKey:
    """The key stored under `key_name`, else the first of `env_vars` that is set (a provider's
    own variable first; see `Preset.env_vars`), in `session` first, then in the environment."""
    stored, note = _from_keyring(key_name)
    if stored:
        return stored
    for name in env_vars:
        for_session = session.get(name) if session is not None else None
        if for_session:
            return ApiKey(for_session, f"this session ({name})")
        from_env = os.environ.get(name, "").strip()
        if from_env:
            return ApiKey(from_env, f"environment ({name})")
    variables = env_vars[0] + "".join(f" (or {name})" for name in env_vars[1:])
    raise MissingKey(
        f"No API key found: store one in the OS keyring (service '{KEYRING_SERVICE}', user "
        f"'{key_name}'), "
        f"e.g. `keyring set {KEYRING_SERVICE} {key_name}`, or set {variables} for this run{note}."
    )


def store_api_key(key_name: str, value: str) -> str:
    """Put the key in the OS keyring; returns the keyring's name. Raises KeyringUnavailable."""
    backend = _os_keyring()
    if backend is None:
        raise KeyringUnavailable(NO_KEYRING)
    try:
        backend.set_password(KEYRING_SERVICE, key_name, value.strip())
    except Exception as exc:  # noqa: BLE001 - locked, dismissed, D-Bus gone: all mean "not stored"
        raise KeyringUnavailable(
            f"The {_name_of(backend)} refused to store the key ({type(exc).__name__}). {_FALLBACK}"
        ) from None
    return _name_of(backend) or "OS keyring"


def delete_api_key(key_name: str) -> None:
    backend = _os_keyring()
    # Whatever fails, nothing is stored under that name afterwards: it is gone either way.
    with contextlib.suppress(Exception):
        if backend is not None:
            backend.delete_password(KEYRING_SERVICE, key_name)


def find_secret(name: str) -> str | None:
    """A secret other than an API key (an MCP server's auth header value) from the OS keyring
    only, with no environment fallback; None when it is not stored or cannot be read. Stored
    and forgotten with `store_api_key` / `delete_api_key` (they take any entry name)."""
    stored, _ = _from_keyring(name)
    return stored.value if stored else None


def _os_keyring() -> Any:
    """keyring's active backend if it is an OS keyring (or a chain holding one), else None."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a keyring that cannot even be found is no keyring
        return None
    for candidate in [backend, *getattr(backend, "backends", [])]:
        if _name_of(candidate) is not None:
            return candidate
    return None


def _name_of(backend: object) -> str | None:
    module = type(backend).__module__
    return next((name for prefix, name in _OS_KEYRINGS.items() if module.startswith(prefix)), None)


def _from_keyring(key_name: str) -> tuple[ApiKey | None, str]:
    backend = _os_keyring()
    if backend is None:
        return None, " (no OS keyring is available here)"
    try:
        value = backend.get_password(KEYRING_SERVICE, key_name)
    except Exception as exc:  # noqa: BLE001 - locked or broken: say so, fall back to the environment
        return None, f" (the {_name_of(backend)} could not be read: {type(exc).__name__})"
    return (ApiKey(value.strip(), _name_of(backend) or "OS keyring"), "") if value else (None, "")
