"""The Appearance tab: light or dark colours, or the operating system's scheme."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

SCHEMES = (
    ("Follow the system", "system"),
    ("Light", "light"),
    ("Dark", "dark"),
)


class AppearancePage(QWidget):
    def __init__(self, appearance: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.scheme = QComboBox()
        for label, value in SCHEMES:
            self.scheme.addItem(label, value)
        self.scheme.setCurrentIndex(max(0, self.scheme.findData(appearance)))
        self.scheme.setToolTip(
            "Light or dark colours; “Follow the system” changes with your operating system's "
            "setting."
        )
        form.addRow("&Colours:", self.scheme)
        note = QLabel("Both schemes keep text readable (WCAG AA contrast).")
        note.setWordWrap(True)
        form.addRow("", note)

    def appearance(self) -> str:
        value = self.scheme.currentData()
        return value if isinstance(value, str) else "system"
