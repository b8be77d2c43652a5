"""The app's log: one size-bounded, rotating file per user, with secrets redacted.

What is logged: state changes, notices, connections and timings — never transcripts, audio or
keys. Every record passes a redaction filter, so even a message that quotes part of a key (the
service does, when it rejects one) is logged without it.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from talkapp.private_files import open_private_append, private_folder
from talkapp.redaction import redact

MAX_BYTES = 1_000_000
BACKUPS = 3  # so the log never takes more than ~4 MB


def log_folder() -> Path:
    override = os.environ.get("TALKAPP_LOG_DIR")
    return (
        Path(override) if override else Path(platformdirs.user_log_dir("TalkApp", appauthor=False))
    )


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each log file (the first and every one after a rotation) is created 0600."""

    def _open(self):
        return open_private_append(Path(self.baseFilename), self.encoding or "utf-8")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


class RedactingFormatter(logging.Formatter):
    """The whole formatted record, traceback included (an exception's message or a local in it
    may quote a key), passes the redaction; the filter alone sees only the message."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def start_logging(level: int = logging.INFO) -> Path:
    """Send the `talkapp` loggers to the rotating file; returns its path. Called again (the
    desktop app and `talk` both start it), it keeps one file: the current log folder's."""
    folder = private_folder(log_folder())
    path = folder / "talkapp.log"
    root = logging.getLogger("talkapp")
    root.setLevel(level)
    for old in list(root.handlers):
        if isinstance(old, logging.handlers.RotatingFileHandler):
            if Path(old.baseFilename) == path.absolute():
                return path  # already logging there: no line written twice
            root.removeHandler(old)  # the log folder moved (TALKAPP_LOG_DIR): the last one wins
            old.close()
    handler = _PrivateRotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    return path


def stop_logging() -> None:
    """Close the log file (the app, on quit): what was logged is on disk."""
    root = logging.getLogger("talkapp")
    for handler in list(root.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
