"""The Recording tab: whether sessions are recorded, and where (shown, and openable, so a person
can find them). Off by default: a recording keeps the user's voice."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from talkapp.private_files import private_folder
from talkapp.settings.model import RecordingSettings, default_recordings_folder

WHAT = (
    "Each session gets its own folder: input.wav (your voice, as sent), reply.wav (the replies, as "
    "received) and events.jsonl (every event with its time; keys are never written). A recording "
    "folder can be the utterance of a comparison."
)


CAPTURE = (
    "A capture file per connection in the same folder: every frame TalkApp and the service "
    "exchanged, with audio replaced by its length and keys removed, to attach to a bug "
    "report (talkapp replay FILE shows what is in it)."
)


class RecordingPage(QWidget):
    def __init__(self, recording: RecordingSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("&Record every session to a folder")
        self.enabled.setChecked(recording.enabled)
        self.enabled.setToolTip("Save each session's audio and events in the folder below.")
        self.folder = QLineEdit(recording.folder)
        self.folder.setPlaceholderText(default_recordings_folder())
        self.folder.setAccessibleName("Recordings folder")
        self.browse = QPushButton("&Browse…")
        self.browse.setToolTip("Choose the recordings folder.")
        self.browse.clicked.connect(self._browse)
        self.open = QPushButton("O&pen folder")
        self.open.setToolTip(
            "Show the recordings in the file manager (the folder is made if it is not there yet)."
        )
        self.open.clicked.connect(self.open_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        row.addWidget(self.open)
        label = QLabel("&Folder:")
        label.setBuddy(self.folder)  # a layout cannot be a buddy: the mnemonic goes to the field
        what = QLabel(WHAT)
        what.setWordWrap(True)
        self.capture = QCheckBox("&Capture the connection for a bug report")
        self.capture.setChecked(recording.capture_wire)
        self.capture.setToolTip(CAPTURE)
        capture_what = QLabel(CAPTURE)
        capture_what.setWordWrap(True)

        box = QGroupBox("Recording")
        form = QFormLayout(box)
        form.addRow(self.enabled)
        form.addRow(label, row)
        form.addRow(what)
        form.addRow(self.capture)
        form.addRow(capture_what)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        self.enabled.toggled.connect(self._enable)
        self.capture.toggled.connect(lambda _on: self._enable(self.enabled.isChecked()))
        self._enable(recording.enabled)

    def settings(self) -> RecordingSettings:
        folder = self.folder.text().strip()
        return RecordingSettings(self.enabled.isChecked(), folder, self.capture.isChecked())

    def chosen_folder(self) -> Path:
        """Where recordings go (or would go, once recording is on)."""
        return Path(self.folder.text().strip() or default_recordings_folder()).expanduser()

    def open_folder(self) -> bool:
        folder = self.chosen_folder()
        try:
            private_folder(folder, tighten=False)  # made 0700 if new; a chosen one is left alone
        except OSError as exc:
            self.open.setToolTip(f"Cannot make {folder}: {exc.strerror or exc}")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _enable(self, on: bool) -> None:
        self.folder.setEnabled(on or self.capture.isChecked())
        self.browse.setEnabled(on)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Record sessions to", str(self.chosen_folder())
        )
        if folder:
            self.folder.setText(folder)
