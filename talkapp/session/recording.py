"""Recording a session to a folder: what we sent, what came back, and every event in between.

    input.wav     the user's audio exactly as sent (24 kHz mono PCM16)
    reply.wav     the reply audio exactly as received
    events.jsonl  one normalized event per line: {"t": seconds since the start (perf_counter),
                  "dir": "sent" | "received", "type": ..., fields...}; audio appears as its
                  length, never its bytes
    session.json  what was recorded: model, dialect, endpoint, start time

Recordings are private: the folder is new and 0700, each file is created 0600 with O_EXCL and
O_NOFOLLOW (a symlink planted in a reused folder cannot redirect a write). Secrets are
redacted on the way in: anything shaped like an API key (the service quotes part of a
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
from typing import Any

from talkapp.audio.pcm import WIRE_RATE
from talkapp.private_files import new_private_folder, open_private, private_folder
from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.redaction import REDACTED_SECRET, redact
from talkapp.settings.profile import ProviderProfile


class SessionRecording:
    """A tap for `RealtimeSession`: `sent(command)` and `received(event)` as they happen."""

    def __init__(self, folder: Path, about: dict[str, Any]) -> None:
        private_folder(folder, tighten=False)
        self.folder = folder
        self._start = time.perf_counter()
        self._files = [
            open_private(folder / name, "wb", exclusive=True) for name in ("input.wav", "reply.wav")
        ]
        self._input, self._reply = (_open_wav(file) for file in self._files)
        self._log = open_private(folder / "events.jsonl", exclusive=True)
        about = {k: redact(v) if isinstance(v, str) else v for k, v in about.items()}
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with open_private(folder / "session.json", exclusive=True) as out:
            out.write(json.dumps({**about, "started": started}, indent=2))

    @classmethod
    def in_folder(cls, parent: Path, label: str, about: dict[str, Any]) -> SessionRecording:
        """A new recording in a new folder `parent/<date-time>-<label>[-n]/` (0700)."""
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{re.sub(r'[^A-Za-z0-9._-]+', '_', label)}"
        private_folder(parent, tighten=False)
        for n in range(1, 100):
            folder = parent / (name if n == 1 else f"{name}-{n}")
            try:
                new_private_folder(folder)
            except FileExistsError:
                continue  # another recording this second, or something planted: not reused
            return cls(folder, about)
        raise FileExistsError(f"no free recording folder name in {parent}")

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
            wav.close()  # a wave writer leaves a file it was handed open
        for file in self._files:
            file.close()
        self._log.close()

    def _write(self, direction: str, item: object) -> None:
        line = {
            "t": round(time.perf_counter() - self._start, 4),
            "dir": direction,
            "type": type(item).__name__,
        }
        line |= _fields(item)
        self._log.write(redact(json.dumps(line, ensure_ascii=False)) + "\n")
        self._log.flush()


def recording_about(profile: ProviderProfile) -> dict[str, Any]:
    """What session.json says of a profile: where and what, never the key."""
    endpoint = profile.endpoint()
    return {
        "profile": profile.name,
        "model": profile.model,
        "dialect": endpoint.choice.describe(),
        "url": endpoint.url,
    }


def _fields(item: object) -> dict[str, Any]:
    if not dataclasses.is_dataclass(item):
        return {}
    out = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        out[f.name if not isinstance(value, bytes) else f"{f.name}_bytes"] = (
            len(value) if isinstance(value, bytes) else _plain(value)
        )
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):  # a field hidden from repr is a secret (an MCP auth header)
        return {
            f.name: _plain(getattr(value, f.name)) if f.repr else REDACTED_SECRET
            for f in dataclasses.fields(value)
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _open_wav(file: Any) -> wave.Wave_write:
    out = wave.open(file, "wb")  # noqa: SIM115 - kept open for the session, closed by close()
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(WIRE_RATE)
    return out
