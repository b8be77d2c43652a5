"""Where settings live: one JSON file in the per-user config folder.

Writes are atomic (a temporary file renamed over the old one), so a crash mid-write never
leaves half a file. An unreadable file is moved aside, not deleted, and the reason is returned
for the app to show. Secrets never pass through here: the API key lives in the OS keyring.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from talkapp.private_files import open_private, private_folder
from talkapp.settings.model import Settings, from_json, to_json

FILE_NAME = "settings.json"


def default_folder() -> Path:
    """`~/.config/TalkApp` on Linux, `~/Library/Application Support/TalkApp` on macOS,
    `%APPDATA%\\TalkApp` on Windows (TALKAPP_CONFIG_DIR overrides, for tests and portable use)."""
    override = os.environ.get("TALKAPP_CONFIG_DIR")
    return (
        Path(override)
        if override
        else Path(platformdirs.user_config_dir("TalkApp", appauthor=False, roaming=True))
    )


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    notices: tuple[str, ...] = field(
        default_factory=tuple
    )  # for a banner: what went wrong, plainly


class SettingsStore:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or default_folder()
        self.path = self.folder / FILE_NAME

    def load(self) -> Loaded:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Loaded(Settings())
        except OSError as exc:
            return Loaded(
                Settings(),
                (f"Your settings could not be read ({exc.strerror}); defaults are in use.",),
            )
        try:
            data = json.loads(text)
        except ValueError:
            return Loaded(Settings(), (self._move_aside("it is not valid JSON"),))
        problems: list[str] = []
        settings = from_json(data, problems)
        if problems and not isinstance(data, dict):
            return Loaded(settings, (self._move_aside(problems[0]),))
        notices = (
            (f"Some settings were not usable and were reset: {'; '.join(problems)}.",)
            if problems
            else ()
        )
        return Loaded(settings, notices)

    def save(self, settings: Settings) -> None:
        private_folder(self.folder)
        temporary = self.path.with_suffix(".json.tmp")
        with open_private(temporary) as out:  # 0600, never through a symlink
            out.write(json.dumps(to_json(settings), indent=2, ensure_ascii=False))
        os.replace(temporary, self.path)

    def _move_aside(self, why: str) -> str:
        aside = self.path.with_name(f"{FILE_NAME}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except OSError:
            return f"Your settings file could not be used ({why}); defaults are in use."
        return (
            f"Your settings file could not be used ({why}). It was kept as {aside.name}; "
            "defaults are in use."
        )
