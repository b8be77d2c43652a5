"""The Recording tab: whether sessions are recorded, and where (shown, so a person can find
them). Off by default: a recording keeps the user's voice."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from talkapp.settings.model import RecordingSettings, default_recordings_folder

WHAT = ("Each session gets its own folder: input.wav (your voice, as sent), reply.wav (the replies, as "
        "received) and events.jsonl (every event with its time; keys are never written). A recording "
        "folder can be the utterance of a comparison.")


class RecordingPage(QWidget):
    def __init__(self, recording: RecordingSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("&Record every session to a folder")
        self.enabled.setChecked(recording.enabled)
        self.folder = QLineEdit(recording.folder)
        self.folder.setPlaceholderText(default_recordings_folder())
        self.folder.setAccessibleName("Recordings folder")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        what = QLabel(WHAT)
        what.setWordWrap(True)

        box = QGroupBox("Recording")
        form = QFormLayout(box)
        form.addRow(self.enabled)
        form.addRow("&Folder:", row)
        form.addRow("", what)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        self.enabled.toggled.connect(self._enable)
        self._enable(recording.enabled)

    def settings(self) -> RecordingSettings:
        return RecordingSettings(self.enabled.isChecked(), self.folder.text().strip())

    def _enable(self, on: bool) -> None:
        self.folder.setEnabled(on)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Record sessions to", self.folder.text() or default_recordings_folder())
        if folder:
            self.folder.setText(folder)
