"""Secrets longer than one Windows Credential Manager entry holds (2,560 bytes, which keyring
writes as UTF-16: ~1,280 characters) are split across entries and read back whole; one too long
even for that is refused with a message about the secret in question (not OPENAI_API_KEY).

Windows does not run here: `CredentialManager` stands in for keyring's Windows backend (same
module name, so TalkApp recognises it; same limit, refused with the error CredWrite gives).
The other OS keyrings are tested for real in tests/test_secrets.py."""

from __future__ import annotations

import keyring
import pytest
from fake_keys import fake_key
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from talkapp.settings import secrets
from talkapp.settings.secrets import KeyringUnavailable
from talkapp.tools import mcp

LIMIT = 2560


class CredentialManager(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode("utf-16-le")) > LIMIT:
            raise OSError(1783, "CredWrite", "The stub received bad data.")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


CredentialManager.__module__ = "keyring.backends.Windows"


@pytest.fixture
def windows():
    previous = keyring.get_keyring()
    backend = CredentialManager()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _token(length: int) -> str:
    key = fake_key("mcp-bearer-")
    return (key * (length // len(key) + 1))[:length]


def test_a_long_mcp_token_is_split_and_read_back_whole(windows):
    token = _token(4000)
    assert mcp.store_header_value("mcp:search", token) == "Windows Credential Manager"
    assert len(windows.entries) == 4  # 4000 characters: 8000 bytes in 2560-byte entries
    assert all(len(v.encode("utf-16-le")) <= LIMIT for v in windows.entries.values())
    assert secrets.find_secret("mcp:search") == token
    # Storing a short one replaces it whole: no part of the long one is left behind.
    mcp.store_header_value("mcp:search", "short")
    assert windows.entries == {("talkapp", "mcp:search"): "short"}
    assert secrets.find_secret("mcp:search") == "short"


def test_forgetting_a_split_secret_removes_every_part(windows):
    secrets.store_secret("mcp:search", _token(3000))
    mcp.forget_header_value("mcp:search")
    assert windows.entries == {}
    assert secrets.find_secret("mcp:search") is None


def test_a_missing_part_reads_as_not_stored(windows):
    secrets.store_secret("mcp:search", _token(3000))
    del windows.entries[("talkapp", "mcp:search#2")]
    assert secrets.find_secret("mcp:search") is None


def test_a_key_that_fits_is_one_entry_as_before(windows):
    key = fake_key("sk-windows-")
    secrets.store_api_key("openai", key)
    assert windows.entries == {("talkapp", "openai"): key}
    assert secrets.find_api_key("openai").value == key


def test_too_long_even_split_says_so_about_that_secret(windows):
    with pytest.raises(KeyringUnavailable) as refused:
        mcp.store_header_value("mcp:huge", _token(20000))
    message = str(refused.value)
    assert message.startswith("The Windows Credential Manager cannot store the MCP auth header:")
    assert "20,000 characters" in message and "OPENAI_API_KEY" not in message
    assert windows.entries == {}


def test_splitting_counts_utf16_bytes_and_never_cuts_a_character():
    value = "é" * 1000 + "😀" * 700  # 2 bytes each, then 4 bytes each (a surrogate pair)
    parts = secrets.split_secret(value, LIMIT)
    assert "".join(parts) == value
    assert all(len(p.encode("utf-16-le")) <= LIMIT for p in parts)
    first = f"{secrets.PARTS_MARKER}{len(parts)}:{parts[0]}"
    assert len(first.encode("utf-16-le")) <= LIMIT
    assert secrets.split_secret("short", LIMIT) == ["short"]
