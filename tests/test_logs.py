"""The log rotates, stays bounded, and never holds a key."""

import logging

from fake_keys import fake_key

from talkapp.logs import BACKUPS, MAX_BYTES, start_logging


def test_the_log_rotates_and_redacts_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("TALKAPP_LOG_DIR", str(tmp_path))
    path = start_logging()
    log = logging.getLogger("talkapp.test")
    secret = fake_key("proj-abcdef0123456789SECRET")
    log.info("Incorrect API key provided: %s. You can find your key …", secret)
    for n in range(30_000):
        log.info("line %d of a long session %s", n, "x" * 40)
    for handler in logging.getLogger("talkapp").handlers:
        handler.flush()
    files = sorted(tmp_path.glob("talkapp.log*"))
    assert path in files and 1 < len(files) <= BACKUPS + 1
    assert all(f.stat().st_size <= MAX_BYTES + 200 for f in files)
    assert not any(b"SECRET" in f.read_bytes() or b"abcdef0123" in f.read_bytes() for f in files)
    for handler in list(logging.getLogger("talkapp").handlers):
        logging.getLogger("talkapp").removeHandler(handler)
        handler.close()
