"""Wire captures for bug reports: every frame in both directions, as JSON lines.

    {"t": 0.0, "dir": "meta", "talkapp": "…", "model": …, "dialect": "ga", "url": …}   per session
    {"t": 0.012, "dir": "out", "frame": {…our event…}}
    {"t": 0.020, "dir": "in", "frame": {…the service's event…}}
    {"t": 0.3, "dir": "in", "text": "…"}          a frame that is not a JSON object (kept as sent)
    {"t": 0.4, "dir": "meta", "refused": {"status": 401, "body": "…"}}   an HTTP refusal
    {"t": 9.1, "dir": "meta", "closed": {"code": 1006, "reason": ""}}

`t` is perf_counter seconds since the capture began. Audio payloads are replaced by
`{"audio_bytes": N, "sha256": "…"}` (a capture is for the protocol, not the voice), and every
line passes the log's redaction, so nothing shaped like a key is written; an MCP server's auth
header values are replaced too. `talkapp replay` reads these files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from pathlib import Path
from typing import IO, Any

from talkapp import __version__
from talkapp.redaction import REDACTED_SECRET, redact

AUDIO_KEYS = ("audio",)  # input_audio_buffer.append; a content part's audio
# Gemini Live carries audio in blobs: `realtimeInput.audio` and a reply part's `inlineData`,
# each `{"mimeType", "data"}` (the SDK may spell it inline_data)
BLOB_KEYS = ("audio", "inlineData", "inline_data")
SECRET_KEYS = (
    "headers",  # an MCP tool's auth header (GA `mcp` tools)
    "authorization",
    "newHandle",  # Gemini's session resumption handles: they reopen the conversation
    "handle",
)


class WireCapture:
    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._start = time.perf_counter()

    @classmethod
    def to_file(cls, path: Path | str) -> WireCapture:
        """A new capture file (an existing one is replaced); OSError if it cannot be written."""
        return cls(Path(path).open("w", encoding="utf-8"))

    def session(self, url: str, model: str, dialect: str, dialect_setting: str) -> None:
        self._line(
            "meta",
            talkapp=__version__,
            model=model,
            dialect=dialect,
            dialect_setting=dialect_setting,
            url=url,
        )

    def frame(self, direction: str, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            self._line(direction, binary_bytes=len(frame))
            return
        try:
            event = json.loads(frame)
        except ValueError:
            self._line(direction, text=frame)
            return
        if isinstance(event, dict):
            self._line(direction, frame=scrubbed(event))
        else:
            self._line(direction, text=frame)

    def refused(self, status: int, body: str) -> None:
        self._line("meta", refused={"status": status, "body": body})

    def closed(self, code: int, reason: str) -> None:
        self._line("meta", closed={"code": code, "reason": reason})

    def close(self) -> None:
        self._out.close()

    def _line(self, direction: str, **fields: object) -> None:
        line = {"t": round(time.perf_counter() - self._start, 4), "dir": direction, **fields}
        self._out.write(redact(json.dumps(line, ensure_ascii=False, separators=(",", ":"))) + "\n")
        self._out.flush()  # a crash keeps what came before it


def scrubbed(event: dict[str, Any]) -> dict[str, Any]:
    """The event with audio replaced by its length and hash, and auth header values removed."""
    audio_delta = str(event.get("type", "")).endswith("audio.delta")
    return {key: _scrub(key, value, audio_delta) for key, value in event.items()}


def _scrub(key: str, value: object, audio_delta: bool) -> object:
    if isinstance(value, str) and (key in AUDIO_KEYS or (audio_delta and key == "delta")):
        return audio_stub(value)
    if isinstance(value, dict) and key in BLOB_KEYS and isinstance(value.get("data"), str):
        return {k: audio_stub(v) if k == "data" else _scrub(k, v, False) for k, v in value.items()}
    if key in SECRET_KEYS and value:
        return REDACTED_SECRET
    if isinstance(value, dict):
        return {k: _scrub(k, v, False) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub("", v, False) for v in value]
    return value


def audio_stub(b64: str) -> dict[str, Any]:
    try:
        pcm = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return {"audio_bytes": None, "invalid_base64_chars": len(b64)}
    return {"audio_bytes": len(pcm), "sha256": hashlib.sha256(pcm).hexdigest()[:16]}


def is_audio_stub(value: object) -> bool:
    return isinstance(value, dict) and "audio_bytes" in value and "sha256" in value
