"""Light or dark: the operating system's colour scheme, followed as it changes, or the one the
user chose in Settings (`Settings.appearance`).

The platform is asked for the scheme too (`QStyleHints.setColorScheme`), so title bars and
native dialogs match; under the Fusion style (Linux, and wherever no native style is in use)
the app's own palettes from `colors.py` are set, whose contrast is checked. A native style
(macOS, Windows) draws the scheme it was asked for with its own colours.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from talkapp.ui import colors

_REQUEST = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}


def wants_dark(appearance: str, system: Qt.ColorScheme) -> bool:
    """Whether `appearance` ("system" | "light" | "dark") is dark under the OS's `system`."""
    if appearance in _REQUEST:
        return appearance == "dark"
    return system == Qt.ColorScheme.Dark


class Theme(QObject):
    changed = Signal(bool)  # dark

    def __init__(self, app: QApplication, appearance: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._applying = False
        self.appearance = appearance
        self.dark = False
        hints = app.styleHints()
        self._system = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
        if hints is not None:
            hints.colorSchemeChanged.connect(self._system_changed)
        self.apply(appearance)

    def apply(self, appearance: str) -> None:
        """Use `appearance` from now on (a Settings change)."""
        self.appearance = appearance
        hints = self._app.styleHints()
        if hints is not None:
            self._applying = True  # asking may report a change: that is not the OS's
            try:
                request = getattr(hints, "setColorScheme", None)  # Qt 6.8 and later
                if request is not None:
                    request(_REQUEST.get(appearance, Qt.ColorScheme.Unknown))
                if appearance not in _REQUEST:  # back to the OS's: what it says now
                    self._system = hints.colorScheme()
            finally:
                self._applying = False
        self._show(wants_dark(appearance, self._system))

    def close(self) -> None:
        """Stop following the system (the app quits; the palette stays as it is)."""
        hints = self._app.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.disconnect(self._system_changed)
        self.setParent(None)

    def _system_changed(self, scheme: Qt.ColorScheme) -> None:
        if self._applying:
            return
        self._system = scheme
        if self.appearance == "system":
            self._show(wants_dark("system", scheme))

    def _show(self, dark: bool) -> None:
        style = self._app.style()
        if style is not None and style.name().lower() == "fusion":
            self._app.setPalette(colors.palette(dark))
        if dark != self.dark:
            self.dark = dark
            self.changed.emit(dark)
