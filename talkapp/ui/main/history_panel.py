"""The history side panel: saved conversations newest first (title, date, model, cost), a
search over their words, and Open / Continue / Delete / Export for the selected one. It only
draws and asks; `ui/main/history_link.py` does the work."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from talkapp.history.spend import usd
from talkapp.history.store import ConversationSummary

KEEP_CHOICES = (("forever", None), ("30 days", 30), ("90 days", 90), ("a year", 365))


class HistoryPanel(QWidget):
    search_changed = Signal(str)
    open_requested = Signal(int)
    continue_requested = Signal(int)
    delete_requested = Signal(int)
    export_requested = Signal(int)
    rename_requested = Signal(int)
    delete_all_requested = Signal()
    keep_changed = Signal(object)  # days (int), or None: forever

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversation history")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Histor&y")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the conversations' words")
        self.search.setAccessibleName("Search history")
        self.search.setClearButtonEnabled(True)
        title.setBuddy(self.search)
        self.list = QListWidget()
        self.list.setAccessibleName("Saved conversations")
        self.list.setAccessibleDescription("Newest first; a double click opens one, as Open does.")
        self.list.setWordWrap(True)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        buttons = QGridLayout()  # two by two: the panel stays narrow beside the transcript
        self.open_button = QPushButton("Op&en")  # Alt+O is the transcript's Copy
        self.open_button.setToolTip("Show this conversation (read-only until you continue it)")
        self.continue_button = QPushButton("Contin&ue")
        self.continue_button.setToolTip(
            "A new session with this conversation as context; new turns are added to it"
        )
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setToolTip("Delete this conversation from the history")
        self.export_button = QPushButton("Ex&port…")
        self.export_button.setToolTip("Save this conversation as Markdown or JSON")
        self.rename_button = QPushButton("Re&name…")
        self.rename_button.setToolTip("Give this conversation another title")
        self.delete_all_button = QPushButton("Delete a&ll…")
        self.delete_all_button.setToolTip("Delete every saved conversation and its audio")
        order = (
            self.open_button,
            self.continue_button,
            self.rename_button,
            self.export_button,
            self.delete_button,
            self.delete_all_button,
        )
        for n, button in enumerate(order):
            buttons.addWidget(button, n // 2, n % 2)
        keep_row = QHBoxLayout()
        keep_label = QLabel("&Keep:")
        self.keep = QComboBox()
        self.keep.setAccessibleName("Keep conversations")
        self.keep.setToolTip(
            "Older conversations (and their audio) are deleted, now and at each start"
        )
        for label, days in KEEP_CHOICES:
            self.keep.addItem(label, days)
        keep_label.setBuddy(self.keep)
        keep_row.addWidget(keep_label)
        keep_row.addWidget(self.keep, 1)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        layout.addLayout(keep_row)
        self.search.textChanged.connect(self.search_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self._ask(self.open_requested))
        self.list.currentRowChanged.connect(lambda _row: self._enable())
        self.open_button.clicked.connect(lambda: self._ask(self.open_requested))
        self.continue_button.clicked.connect(lambda: self._ask(self.continue_requested))
        self.delete_button.clicked.connect(lambda: self._ask(self.delete_requested))
        self.export_button.clicked.connect(lambda: self._ask(self.export_requested))
        self.rename_button.clicked.connect(lambda: self._ask(self.rename_requested))
        self.delete_all_button.clicked.connect(self.delete_all_requested)
        self.keep.activated.connect(lambda index: self.keep_changed.emit(self.keep.itemData(index)))
        self._enable()

    def set_keep(self, days: int | None) -> None:
        index = self.keep.findData(days)
        if index < 0:  # a number of days set elsewhere (settings.json, `talkapp history keep`)
            self.keep.addItem(f"{days} days", days)
            index = self.keep.count() - 1
        self.keep.setCurrentIndex(index)

    def show_conversations(self, rows: list[ConversationSummary], searching: bool) -> None:
        selected = self.selected_id()
        self.list.clear()
        for row in rows:
            item = QListWidgetItem(describe(row))
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setToolTip(
                f"Conversation {row.id}: {row.turns} turns · {row.provider}/{row.model}"
            )
            self.list.addItem(item)
            if row.id == selected:
                self.list.setCurrentItem(item)
        self.empty.setText(
            "" if rows else ("Nothing matches." if searching else "No saved conversations yet.")
        )
        self.empty.setVisible(not rows)
        self._enable()

    def ids(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def select(self, conversation_id: int) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == conversation_id:
                self.list.setCurrentRow(i)

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _ask(self, signal) -> None:
        selected = self.selected_id()
        if selected is not None:
            signal.emit(selected)

    def _enable(self) -> None:
        chosen = self.selected_id() is not None
        for button in (
            self.open_button,
            self.continue_button,
            self.delete_button,
            self.export_button,
            self.rename_button,
        ):
            button.setEnabled(chosen)
        self.delete_all_button.setEnabled(self.list.count() > 0)


def describe(row: ConversationSummary) -> str:
    when = dt.datetime.fromtimestamp(row.started_at).strftime("%Y-%m-%d %H:%M")
    cost = "free" if row.provider == "simulator" else usd(row.cost_usd)
    return f"{row.title or '(untitled)'}\n{when} · {row.model} · {cost}"
