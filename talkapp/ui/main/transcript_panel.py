"""The reading side of the window: the transcript with Copy and Export, and the message box."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from talkapp.redaction import redact
from talkapp.ui.main.message_box import MessageBox
from talkapp.ui.main.transcript_view import TranscriptView


class TranscriptPanel(QWidget):
    problem = Signal(str)  # an export that failed, in words

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        label = QLabel("&Transcript")
        self.view = TranscriptView()
        label.setBuddy(self.view)
        self.copy_button = QPushButton("C&opy")
        self.copy_button.setToolTip("Copy the whole transcript as Markdown")
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("Save the transcript as a Markdown file")
        top.addWidget(label)
        top.addStretch(1)
        top.addWidget(self.copy_button)
        top.addWidget(self.export_button)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.message = MessageBox()
        layout.addWidget(self.message)
        self.copy_button.clicked.connect(self.copy)
        self.export_button.clicked.connect(self.export)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.view.as_markdown())

    def export(self) -> None:
        suggested = str(Path.home() / f"TalkApp transcript {time.strftime('%Y-%m-%d %H%M')}.md")
        path, _ = QFileDialog.getSaveFileName(
            self, "Export transcript", suggested, "Markdown (*.md);;All files (*)"
        )
        if not path:
            return
        try:
            Path(path).write_text(redact(self.view.as_markdown()), encoding="utf-8")
        except OSError as exc:
            self.problem.emit(
                f"The transcript could not be saved to {path} ({exc.strerror or exc})."
            )
