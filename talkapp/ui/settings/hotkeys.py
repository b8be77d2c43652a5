"""The Hotkeys tab: the push-to-talk key in the window, and the global hotkey with a line that
says whether it can work here (the reason `GlobalHotkey.start` gives when it cannot).

While this tab is visible and the global hotkey is on, the page runs its own `GlobalHotkey`
so the line reflects this machine *now* and the user can try the keys (the indicator follows
pressed / released). It stops when the tab is hidden or the dialog closes; the app's own
hotkey is the main window's.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from talkapp.settings.model import HotkeySettings
from talkapp.ui.global_hotkey import MACOS_PERMISSION, GlobalHotkey
from talkapp.ui.settings.keycapture import KeyCapture, readable

DEFAULT_GLOBAL = "<ctrl>+<alt>+<space>"


class HotkeysPage(QWidget):
    def __init__(self, hotkeys: HotkeySettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.in_window = KeyCapture("qt", hotkeys.push_to_talk or "Space")
        window_box = QGroupBox("In the TalkApp window")
        form = QFormLayout(window_box)
        form.addRow("&Push-to-talk key:", self.in_window)
        hint = QLabel(
            "Hold it while the talk button or the transcript has the focus. It never types into "
            "the message box."
        )
        hint.setWordWrap(True)
        form.addRow("", hint)

        self.global_on = QCheckBox(
            "&Hold a key combination anywhere to talk, even with TalkApp in the background"
        )
        self.global_on.setChecked(bool(hotkeys.global_push_to_talk))
        self.global_on.setToolTip(
            "A system-wide hold-to-talk key, set beside; it works while another app has the focus."
        )
        self.global_key = KeyCapture("pynput", hotkeys.global_push_to_talk or DEFAULT_GLOBAL)
        self.availability = QLabel()
        self.availability.setWordWrap(True)
        self.availability.setAccessibleName("Global hotkey availability")
        self.held = QLabel()
        self.held.setAccessibleName("Global hotkey state")
        global_box = QGroupBox("Anywhere (global hotkey)")
        form = QFormLayout(global_box)
        form.addRow(self.global_on)
        form.addRow("&Combination:", self.global_key)
        form.addRow("", self.availability)
        form.addRow("", self.held)
        self._form = form
        if sys.platform == "darwin":
            note = QLabel(
                "On macOS the global hotkey needs the Accessibility permission. " + MACOS_PERMISSION
            )
            note.setWordWrap(True)
            form.addRow("", note)

        layout = QVBoxLayout(self)
        layout.addWidget(window_box)
        layout.addWidget(global_box)
        layout.addStretch(1)

        self.probe = GlobalHotkey(self)
        self.probe.pressed.connect(lambda: self._held("● Held: TalkApp would be listening now."))
        self.probe.released.connect(lambda: self._held("○ Released."))
        self.probe.failed.connect(lambda why: self.availability.setText(f"⚠ {why}"))
        self.global_on.toggled.connect(self._refresh)
        self.global_key.changed.connect(self._refresh)
        self._refresh()

    def settings(self) -> HotkeySettings:
        return HotkeySettings(
            push_to_talk=self.in_window.value(),
            global_push_to_talk=self.global_key.value() if self.global_on.isChecked() else "",
        )

    def stop(self) -> None:
        self.probe.stop()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._refresh()

    def hideEvent(self, event) -> None:
        self.probe.stop()
        super().hideEvent(event)

    def _refresh(self) -> None:
        on = self.global_on.isChecked()
        self.global_key.setEnabled(on)
        self._held("")
        if not on:
            self.probe.stop()
            self.availability.setText("Off: only the key in the window talks.")
            return
        if not self.isVisible():
            self.availability.setText("")
            return
        reason = self.probe.start(self.global_key.value())
        if reason is None:
            combo = readable(self.global_key.value(), "pynput")
            self.availability.setText(
                f"✓ Works while TalkApp is in the background. Try it: hold {combo}."
            )
            self._held("○ Not held.")
        else:
            self.availability.setText(f"⚠ {reason}")

    def _held(self, text: str) -> None:
        self.held.setText(text)
        self._form.setRowVisible(self.held, bool(text))
