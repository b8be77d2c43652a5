"""Recording a session to a folder: what we sent, what came back, and every event in between.

    input.wav     the user's audio exactly as sent (24 kHz mono PCM16)
    reply.wav     the reply audio exactly as received
    events.jsonl  one normalized event per line: {"t": seconds since the start (monotonic),
                  "dir": "sent" | "received", "type": ..., fields...}; audio appears as its
                  length, never its bytes
    session.json  what was recorded: model, dialect, endpoint, start time

Secrets are redacted on the way in: anything shaped like an API key (the service quotes part of a
rejected key in its error message) is replaced. Writing happens on the loop thread as events
pass; files are flushed line by line so a crash keeps what came before it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import wave
from pathlib import Path

from talkapp.audio.pcm import WIRE_RATE
from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.redaction import REDACTED, REDACTED_SECRET, redact

__all__ = ["REDACTED", "REDACTED_SECRET", "SessionRecording", "recording_about", "redact"]


class SessionRecording:
    """A tap for `RealtimeSession`: `sent(command)` and `received(event)` as they happen."""

    def __init__(self, folder: Path, about: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._start = time.monotonic()
        self._input = _open_wav(folder / "input.wav")
        self._reply = _open_wav(folder / "reply.wav")
        self._log = (folder / "events.jsonl").open("w", encoding="utf-8")
        about = {k: redact(v) if isinstance(v, str) else v for k, v in about.items()}
        (folder / "session.json").write_text(json.dumps({**about, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2))

    @classmethod
    def in_folder(cls, parent: Path, label: str, about: dict) -> SessionRecording:
        """A new recording in `parent/<date-time>-<label>/`."""
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{re.sub(r'[^A-Za-z0-9._-]+', '_', label)}"
        return cls(parent / name, about)

    def sent(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.AppendAudio):
            self._input.writeframes(command.pcm)
        self._write("sent", command)

    def received(self, event: ev.ServerEvent | object) -> None:
        if isinstance(event, ev.AudioDelta):
            self._reply.writeframes(event.pcm)
        self._write("received", event)

    def close(self) -> None:
        for wav in (self._input, self._reply):
            wav.close()
        self._log.close()

    def _write(self, direction: str, item) -> None:
        line = {"t": round(time.monotonic() - self._start, 4), "dir": direction, "type": type(item).__name__}
        line |= _fields(item)
        self._log.write(redact(json.dumps(line, ensure_ascii=False)) + "\n")
        self._log.flush()


def recording_about(profile) -> dict:
    """What session.json says of a profile: where and what, never the key."""
    endpoint = profile.endpoint()
    return {"profile": profile.name, "model": profile.model, "dialect": endpoint.choice.describe(), "url": endpoint.url}


def _fields(item) -> dict:
    if not dataclasses.is_dataclass(item):
        return {}
    out = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        out[f.name if not isinstance(value, bytes) else f"{f.name}_bytes"] = len(value) if isinstance(value, bytes) else _plain(value)
    return out


def _plain(value):
    if dataclasses.is_dataclass(value):  # a field hidden from repr is a secret (an MCP auth header)
        return {f.name: _plain(getattr(value, f.name)) if f.repr else REDACTED_SECRET for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _open_wav(path: Path) -> wave.Wave_write:
    out = wave.open(str(path), "wb")
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(WIRE_RATE)
    return out
