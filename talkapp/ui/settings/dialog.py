"""The settings pane: Profiles, Audio, Hotkeys and Tools & MCP tabs; OK / Apply / Cancel.

The dialog only edits: OK and Apply check the profiles, store any API key and MCP auth header
value typed but not yet saved (OS keyring, off the UI thread), then emit `settings_saved` with a
new `Settings`; the main window saves and applies them. Cancel forgets everything, typed keys
included (a key saved with "Save key" is already in the keyring: that is immediate, like a
password manager's).

Nothing here blocks the Qt main thread: keyring calls, device listing, the connection test and
the audio checks run on `Tasks` lanes and come back as queued signals.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from talkapp.settings.model import Settings
from talkapp.settings.secrets import SessionKeys
from talkapp.ui.narrow import present
from talkapp.ui.settings.appearance import AppearancePage
from talkapp.ui.settings.audio import AudioPage
from talkapp.ui.settings.history import HistoryPage
from talkapp.ui.settings.hotkeys import HotkeysPage
from talkapp.ui.settings.profiles import ProfilesPage
from talkapp.ui.settings.recording import RecordingPage
from talkapp.ui.settings.rules import problems
from talkapp.ui.settings.tools import ToolsPage
from talkapp.ui.tasks import Tasks

BUTTON_TIPS = {
    QDialogButtonBox.StandardButton.Ok: "Save the settings and close.",
    QDialogButtonBox.StandardButton.Apply: "Save the settings and keep this window open.",
    QDialogButtonBox.StandardButton.Cancel: "Close without saving (a key already saved stays).",
}
PAGES = ("profiles", "audio", "hotkeys", "tools", "recording", "history", "appearance")
PAGE_TIPS = (
    "Services, models, keys and voices to talk with.",
    "Microphone, speaker and echo handling.",
    "The keys that hold to talk.",
    "What the model may use: built-in tools and MCP servers.",
    "Saving sessions to a folder, and capturing a connection for a bug report.",
    "Saved conversations and the monthly budget.",
    "Light or dark colours.",
)


class SettingsDialog(QDialog):
    settings_saved = Signal(object)  # a talkapp.settings.model.Settings

    def __init__(
        self,
        settings: Settings,
        controller,
        parent: QWidget | None = None,
        page: str | None = None,
        *,
        session_keys: SessionKeys | None = None,
    ) -> None:
        """`session_keys`: where "Use for this session" keeps a key (the app's, which its
        controller reads); a dialog without one keeps such a key to itself."""
        super().__init__(parent)
        self.setWindowTitle("TalkApp Settings")
        self._settings = settings
        self._saving = False
        self._checking = False  # a save was refused: re-check every edit until one succeeds
        self._adding_key_to: str | None = None  # "Add a key…": OK tests it, then switches to it
        self.tasks = Tasks(self)

        self.profiles = ProfilesPage(
            settings,
            controller,
            self.tasks,
            session_keys if session_keys is not None else SessionKeys(),
        )
        self.audio = AudioPage(
            settings.audio,
            self.tasks,
            session_rescan=getattr(controller, "rescan_devices", None),
        )
        self.hotkeys = HotkeysPage(settings.hotkeys)
        self.tools = ToolsPage(settings.tools, self.tasks)
        self.recording = RecordingPage(settings.recording)
        self.history = HistoryPage(settings.history)
        self.appearance = AppearancePage(settings.appearance)
        self.tabs = QTabWidget()
        # No mnemonics on the tabs: their letters are the fields' (Ctrl+Tab switches tabs).
        self.tabs.addTab(self.profiles, "Profiles")
        self.tabs.addTab(self.audio, "Audio")
        self.tabs.addTab(self.hotkeys, "Hotkeys")
        self.tabs.addTab(self.tools, "Tools && MCP")
        self.tabs.addTab(self.recording, "Recording")
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.appearance, "Appearance")
        if page in PAGES:
            self.tabs.setCurrentIndex(PAGES.index(page))
        for index, tip in enumerate(PAGE_TIPS):  # a screen reader reads it with the tab's name
            self.tabs.setTabToolTip(index, tip)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Problem")
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        for which, tip in BUTTON_TIPS.items():
            present(self.buttons.button(which), "dialog button").setToolTip(tip)
        self.buttons.accepted.connect(lambda: self._save(close=True))
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(
            lambda: self._save(close=False)
        )
        self.profiles.edited.connect(self._edited)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(900, 720)

    def add_a_key(self, profile: str | None = None) -> None:
        """First run in one step: the OpenAI profile (or `profile`) with its key field focused;
        OK stores the key, tests the connection and, when it works, switches to that profile."""
        self.tabs.setCurrentWidget(self.profiles)
        self._adding_key_to = self.profiles.open_for_key(profile)

    def current_settings(self) -> Settings:
        """The settings as edited so far (not checked)."""
        return dataclasses.replace(
            self._settings,
            profiles=tuple(self.profiles.profiles()),
            active=self.profiles.active_name(),
            audio=self.audio.settings(),
            hotkeys=self.hotkeys.settings(),
            tools=self.tools.settings(),
            recording=self.recording.settings(),
            history=self.history.settings(),
            appearance=self.appearance.appearance(),
        )

    # ---- saving ----

    def _save(self, close: bool) -> None:
        if self._saving:
            return
        found = problems(self.profiles.profiles())
        if found:
            self._checking = True
            first = found[0]
            self._show_error(
                first.message + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
            )
            self.tabs.setCurrentWidget(self.profiles)
            self.profiles.select(first.index, first.field)
            return
        typed = self.profiles.key.take_typed()
        headers = self.tools.take_secrets()
        if not typed and headers.empty:
            self._emit(close)
            return
        self._saving = True
        self._show_error("")
        self.buttons.setEnabled(False)

        def stored(problem: str | None) -> None:
            self._saving = False
            self.buttons.setEnabled(True)
            if problem is None:
                self._emit(close)
            else:
                self._show_error(problem)

        def keys_stored(why_not: str | None) -> None:  # then the MCP header values, if any
            key_problem = None if why_not is None else f"The API key was not saved: {why_not}"
            if headers.empty:
                stored(key_problem)
            else:
                self.tools.store(
                    headers, lambda header_problem: stored(key_problem or header_problem)
                )

        if typed:
            self.profiles.key.store(typed, keys_stored)
        else:
            keys_stored(None)

    def _emit(self, close: bool) -> None:
        if close and self._adding_key_to is not None:
            self._test_then_switch(self._adding_key_to)
            return
        self._checking = False
        self._show_error("")
        self._settings = self.current_settings()
        self.settings_saved.emit(self._settings)
        if close:
            self.accept()

    def _test_then_switch(self, name: str) -> None:
        """The new key is stored: test it on its profile (the key box's own test, whose line
        it shows); switch to the profile only when the service accepted it."""
        box = self.profiles.key
        self.profiles.list.setCurrentRow([p.name for p in self.profiles.profiles()].index(name))
        self.buttons.setEnabled(False)

        def tested(line: str) -> None:
            box.test_finished.disconnect(tested)
            self.buttons.setEnabled(True)
            if not line.startswith("✓"):
                self._show_error(f"Not switched to “{name}”: {line.lstrip('✗ ')}")
                return
            self._adding_key_to = None
            self.profiles.use(name)
            self._emit(close=True)

        box.test_finished.connect(tested)
        box.test_button.click()

    def _edited(self) -> None:
        if self._checking:  # after a refused save, say at once what is (still) wrong
            found = problems(self.profiles.profiles())
            self._show_error(found[0].message if found else "")

    def _show_error(self, text: str) -> None:
        self.error.setText(f"⚠ {text}" if text else "")
        self.error.setVisible(bool(text))

    # ---- closing ----

    def done(self, result: int) -> None:
        self.audio.stop()
        self.hotkeys.stop()
        self.tasks.close()
        super().done(result)
