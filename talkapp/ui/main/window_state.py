"""What a restart brings back: the window's size and place, the splitter, the history panel.

Kept with Qt's own serialisation (QSettings, an INI file beside settings.json) because it is
Qt's geometry, not a setting a person edits; a missing or unreadable file means the defaults.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

FILE_NAME = "window.ini"


class WindowState:
    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self._ini = QSettings(str(self.path), QSettings.Format.IniFormat)

    def restore(self, window: QMainWindow, splitter: QWidget | None) -> bool:
        """Returns whether the history panel was open."""
        geometry = self._ini.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            window.restoreGeometry(geometry)
        sizes = self._ini.value("window/splitter")
        if (
            isinstance(splitter, QSplitter)
            and isinstance(sizes, QByteArray)
            and not sizes.isEmpty()
        ):
            splitter.restoreState(sizes)
        return str(self._ini.value("window/history_panel", "false")).lower() == "true"

    def save(self, window: QMainWindow, splitter: QWidget | None, history_panel: bool) -> None:
        self._ini.setValue("window/geometry", window.saveGeometry())
        if isinstance(splitter, QSplitter):
            self._ini.setValue("window/splitter", splitter.saveState())
        self._ini.setValue("window/history_panel", history_panel)
        self._ini.sync()
