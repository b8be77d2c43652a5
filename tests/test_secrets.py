"""Where the API key comes from: the OS keyring first, then OPENAI_API_KEY, else a clear message.

These tests use keyring's real `fail` backend (what a headless Linux box has) and the real
file backend from keyrings.alt, pointed at a temporary directory; the Secret Service round trip
through gnome-keyring belongs with the desktop app's settings.
"""

import keyring
import pytest
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring

from talkapp.settings.secrets import MissingKey, find_api_key


@pytest.fixture
def backend(monkeypatch, tmp_path):
    previous = keyring.get_keyring()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield keyring.set_keyring
    keyring.set_keyring(previous)


def test_the_keyring_wins_over_the_environment(backend, monkeypatch, tmp_path):
    store = PlaintextKeyring()
    store.file_path = str(tmp_path / "keyring.cfg")
    backend(store)
    keyring.set_password("talkapp", "openai", "sk-from-keyring-0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    key = find_api_key("openai")
    assert key.value == "sk-from-keyring-0123456789"
    assert key.source.startswith("keyring")
    assert "sk-from" not in repr(key)


def test_without_a_usable_keyring_the_environment_serves_this_run(backend, monkeypatch):
    backend(fail.Keyring())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    key = find_api_key()
    assert key.value == "sk-from-env" and "OPENAI_API_KEY" in key.source


def test_no_key_anywhere_names_both_places(backend):
    backend(fail.Keyring())
    with pytest.raises(MissingKey) as caught:
        find_api_key("openai")
    message = str(caught.value)
    assert "keyring" in message and "service 'talkapp'" in message and "OPENAI_API_KEY" in message
    assert "unavailable" in message  # and says the keyring itself could not be used
