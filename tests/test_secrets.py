"""The API key in a real OS keyring (gnome-keyring's Secret Service on a private D-Bus), the
environment as the per-session fallback, and file keyrings refused."""

import os

import keyring
import pytest
from fake_keys import fake_key
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring

from talkapp.settings.secrets import (
    KeyringUnavailable,
    MissingKey,
    SessionKeys,
    delete_api_key,
    find_api_key,
    keyring_name,
    store_api_key,
)

SECRET = fake_key("test-keyring-0123456789abcdef")


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def backend():
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


def test_the_key_round_trips_through_the_secret_service(secret_service, no_env_key):
    assert keyring_name() == "Secret Service"
    assert store_api_key("openai", SECRET) == "Secret Service"
    found = find_api_key("openai")
    assert found.value == SECRET and found.source == "Secret Service"
    assert SECRET not in repr(found)
    delete_api_key("openai")
    with pytest.raises(MissingKey):
        find_api_key("openai")


def test_the_keyring_wins_over_the_environment(secret_service, monkeypatch):
    store_api_key("azure", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", fake_key("from-env"))
    assert find_api_key("azure").value == SECRET
    delete_api_key("azure")
    assert find_api_key("azure").value == fake_key("from-env")


def test_without_a_keyring_the_environment_serves_this_session(backend, no_env_key, monkeypatch):
    backend(fail.Keyring())
    assert keyring_name() is None
    with pytest.raises(KeyringUnavailable, match="never writes the key to a file"):
        store_api_key("openai", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", fake_key("from-env"))
    key = find_api_key()
    assert key.value == fake_key("from-env") and "OPENAI_API_KEY" in key.source


def test_a_session_key_serves_every_profile_reading_its_variable_and_stays_in_memory(
    backend, no_env_key, monkeypatch
):
    backend(fail.Keyring())
    session = SessionKeys()
    session.put("OPENAI_API_KEY", SECRET)
    key = find_api_key("custom", ("TALKAPP_CUSTOM_API_KEY", "OPENAI_API_KEY"), session)
    assert key.value == SECRET and key.source == "this session (OPENAI_API_KEY)"
    assert "OPENAI_API_KEY" not in os.environ  # not handed to child processes
    assert SECRET not in repr(session) and SECRET not in repr(key)
    monkeypatch.setenv("OPENAI_API_KEY", fake_key("from-env"))
    assert find_api_key("openai", session=session).value == SECRET  # typed for this run: it wins
    with pytest.raises(MissingKey):
        find_api_key("xai", ("XAI_API_KEY",), session)  # another variable: not this key


def test_no_key_anywhere_names_both_places(backend, no_env_key):
    backend(fail.Keyring())
    with pytest.raises(MissingKey) as caught:
        find_api_key("openai")
    message = str(caught.value)
    assert (
        "service 'talkapp'" in message
        and "OPENAI_API_KEY" in message
        and "no OS keyring" in message
    )


def test_a_file_keyring_is_never_used_even_when_installed(backend, tmp_path, no_env_key):
    """keyrings.alt would write the key to a plaintext file; TalkApp refuses it."""
    store = PlaintextKeyring()
    store.file_path = str(tmp_path / "keyring.cfg")
    backend(store)
    assert keyring_name() is None
    with pytest.raises(KeyringUnavailable):
        store_api_key("openai", SECRET)
    assert not (tmp_path / "keyring.cfg").exists()
