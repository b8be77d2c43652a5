"""Settings, logs and recordings are readable by their owner only (folders 0700, files 0600)
whatever the umask, and a recording never writes through a symlink planted in its folder."""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest

from talkapp import logs
from talkapp.private_files import open_private, private_folder
from talkapp.session.recording import SessionRecording
from talkapp.settings.model import Settings
from talkapp.settings.store import SettingsStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def open_umask():
    """The usual desktop umask: without care, files come out 0644 and folders 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_settings_are_private(tmp_path):
    store = SettingsStore(tmp_path / "config" / "TalkApp")
    store.save(Settings())
    assert mode(store.folder) == 0o700 and mode(tmp_path / "config") == 0o700  # made by us
    assert mode(store.path) == 0o600
    os.chmod(store.path, 0o644)  # a file from an older version is tightened at the next save
    os.chmod(store.folder, 0o755)
    store.save(Settings())
    assert mode(store.path) == 0o600 and mode(store.folder) == 0o700


def test_logs_are_private_before_and_after_a_rotation(tmp_path, monkeypatch):
    monkeypatch.setenv("TALKAPP_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setattr(logs, "MAX_BYTES", 300)
    path = logs.start_logging()
    try:
        for n in range(20):
            logging.getLogger("talkapp.test").info("line %d of a log that rotates", n)
    finally:
        root = logging.getLogger("talkapp")
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
    files = sorted((tmp_path / "log").iterdir())
    assert path in files and len(files) > 1  # it rotated
    assert mode(tmp_path / "log") == 0o700 and {mode(f) for f in files} == {0o600}


def test_recordings_are_private_and_in_a_new_folder_each_time(tmp_path):
    parent = tmp_path / "recordings"
    first = SessionRecording.in_folder(parent, "gpt-realtime", {"model": "gpt-realtime"})
    second = SessionRecording.in_folder(parent, "gpt-realtime", {"model": "gpt-realtime"})
    for recording in (first, second):
        recording.close()
    assert first.folder != second.folder  # the same second: a fresh folder, not a reused one
    assert mode(parent) == 0o700
    for recording in (first, second):
        names = sorted(p.name for p in recording.folder.iterdir())
        assert names == ["events.jsonl", "input.wav", "reply.wav", "session.json"]
        assert mode(recording.folder) == 0o700
        assert {mode(p) for p in recording.folder.iterdir()} == {0o600}


def test_a_chosen_existing_folder_keeps_its_mode(tmp_path):
    shared = tmp_path / "Documents"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    recording = SessionRecording.in_folder(shared, "m", {})
    recording.close()
    assert mode(shared) == 0o755 and mode(recording.folder) == 0o700


def test_a_symlink_planted_in_a_recording_folder_is_not_followed(tmp_path):
    folder = tmp_path / "reused"
    folder.mkdir()
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious")
    (folder / "events.jsonl").symlink_to(target)
    with pytest.raises(FileExistsError):
        SessionRecording(folder, {"model": "m"})
    assert target.read_text() == "precious"
    with pytest.raises(OSError):  # O_NOFOLLOW: not even an ordinary private write goes through
        open_private(folder / "events.jsonl")
    assert target.read_text() == "precious"


def test_private_folder_creates_missing_parents_private(tmp_path):
    deep = private_folder(tmp_path / "a" / "b" / "c")
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", deep)] == [0o700] * 3
