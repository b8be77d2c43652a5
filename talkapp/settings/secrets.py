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

# The Windows Credential Manager holds at most 2,560 bytes per secret (CRED_MAX_CREDENTIAL_BLOB_
# SIZE), which keyring writes as UTF-16: about 1,280 characters. Longer secrets (MCP bearer
# tokens, Entra-style JWTs) are split across entries `NAME`, `NAME#2`, … with the first holding
# `PARTS_MARKER` and the count; more than `MAX_PARTS` entries is refused with the reason.
BLOB_LIMITS = {"Windows Credential Manager": 2560}
PARTS_MARKER = "talkapp-parts:"
MAX_PARTS = 8


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
    return store_secret(key_name, value, "the key", _FALLBACK)


def store_secret(name: str, value: str, what: str = "the secret", fallback: str = "") -> str:
    """Put `value` in the OS keyring under `name`, split across entries where one cannot hold
    it (`split_secret`); returns the keyring's name. Raises KeyringUnavailable, saying why in
    words about `what`, followed by `fallback` (what the person can do instead)."""
    backend = _os_keyring()
    if backend is None:
        raise KeyringUnavailable(f"No OS keyring is available to store {what}. {fallback}".strip())
    keyring, value = _name_of(backend) or "OS keyring", value.strip()
    limit = BLOB_LIMITS.get(keyring)
    try:
        parts = split_secret(value, limit) if limit else [value]
    except ValueError as too_long:
        raise KeyringUnavailable(
            f"The {keyring} cannot store {what}: {too_long} {fallback}".strip()
        ) from None
    try:
        _delete_parts(backend, name)  # a longer value stored before
        if len(parts) == 1:
            backend.set_password(KEYRING_SERVICE, name, parts[0])
        else:
            for number, part in enumerate(parts[1:], start=2):
                backend.set_password(KEYRING_SERVICE, f"{name}#{number}", part)
            backend.set_password(KEYRING_SERVICE, name, f"{PARTS_MARKER}{len(parts)}:{parts[0]}")
    except Exception as exc:  # noqa: BLE001 - locked, dismissed, D-Bus gone: all mean "not stored"
        with contextlib.suppress(Exception):
            _delete_parts(backend, name)
        raise KeyringUnavailable(
            f"The {keyring} refused to store {what} ({type(exc).__name__}). {fallback}".strip()
        ) from None
    return keyring


def split_secret(value: str, limit_bytes: int) -> list[str]:
    """`value` in pieces of at most `limit_bytes` as UTF-16 (the first shorter by the parts
    marker it carries), never splitting a character; ValueError with the reason in words when
    it needs more than `MAX_PARTS` pieces."""
    if _utf16_size(value) <= limit_bytes:
        return [value]
    parts, current, room = [], "", limit_bytes - _utf16_size(f"{PARTS_MARKER}{MAX_PARTS}:")
    for char in value:
        if _utf16_size(current + char) > room:
            parts.append(current)
            current, room = "", limit_bytes
        current += char
    parts.append(current)
    if len(parts) > MAX_PARTS:
        raise ValueError(
            f"it is {len(value):,} characters long, and TalkApp keeps at most about "
            f"{MAX_PARTS * limit_bytes // 2:,} there ({MAX_PARTS} entries of "
            f"{limit_bytes:,} bytes)."
        )
    return parts


def _utf16_size(text: str) -> int:
    return len(text.encode("utf-16-le"))


def _read_parts(backend: Any, name: str, first: str | None) -> str | None:
    """The whole secret from `first` (the entry under `name`), joining its parts if split;
    None when a part is missing."""
    if first is None or not first.startswith(PARTS_MARKER):
        return first
    count, _, head = first[len(PARTS_MARKER) :].partition(":")
    if not count.isdigit():
        return None
    rest = [backend.get_password(KEYRING_SERVICE, f"{name}#{n}") for n in range(2, int(count) + 1)]
    return None if any(part is None for part in rest) else head + "".join(rest)


def _delete_parts(backend: Any, name: str) -> None:
    """Remove the parts of a split secret; only keyrings with a size limit ever hold any."""
    if _name_of(backend) not in BLOB_LIMITS:
        return
    for number in range(2, MAX_PARTS + 1):
        with contextlib.suppress(Exception):  # not there: nothing to delete
            backend.delete_password(KEYRING_SERVICE, f"{name}#{number}")


def delete_api_key(key_name: str) -> None:
    backend = _os_keyring()
    # Whatever fails, nothing is stored under that name afterwards: it is gone either way.
    with contextlib.suppress(Exception):
        if backend is not None:
            backend.delete_password(KEYRING_SERVICE, key_name)
    _delete_parts(backend, key_name)


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
        value = _read_parts(backend, key_name, backend.get_password(KEYRING_SERVICE, key_name))
    except Exception as exc:  # noqa: BLE001 - locked or broken: say so, fall back to the environment
        return None, f" (the {_name_of(backend)} could not be read: {type(exc).__name__})"
    return (ApiKey(value.strip(), _name_of(backend) or "OS keyring"), "") if value else (None, "")
