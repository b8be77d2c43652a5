"""The Tools & MCP tab: the built-in tools on or off, the clipboard permission, the time limit
of a tool, and the remote MCP servers (add, edit, remove), with remembered approvals to forget.

An MCP server's auth header *value* is a secret: typed in the server's dialog, it is kept here
(per keyring entry) until the settings pane's OK/Apply stores it in the OS keyring on the Tasks
"keyring" lane, or Cancel forgets it — like the API key. Removing a server forgets its stored
value on the same save. The widgets never hold a stored value: the dialog only learns whether
one is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from talkapp.settings.model import McpServerSettings, ToolSettings
from talkapp.settings.secrets import KeyringUnavailable
from talkapp.tools.mcp import (
    forget_header_value,
    has_header_value,
    new_secret_name,
    store_header_value,
)
from talkapp.ui.tasks import Outcome, Tasks

GA_ONLY = (
    "MCP servers are called by the service itself, and only GA-dialect sessions can use them: a "
    "beta "
    "session leaves them out."
)
APPROVALS = (("always", "Ask me before every call"), ("never", "Never ask"))


@dataclass
class HeaderSecrets:
    """Header values to store (keyring entry → value) and entries to forget, on save."""

    store: dict[str, str] = field(default_factory=dict)
    forget: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not self.store and not self.forget


def server_problem(server: McpServerSettings, taken: list[str]) -> str:
    """Why this server cannot be saved, or ""."""
    if not server.label.strip():
        return "Give the server a label (the model and the transcript name it so)."
    if server.label in taken:
        return f"Another server is already labelled “{server.label}”."
    parts = urlsplit(server.url.strip())
    if parts.scheme != "https" or not parts.netloc:
        return "The URL must start with https:// (the service calls the server over the internet)."
    if server.auth_header and not all(c.isalnum() or c in "-_" for c in server.auth_header):
        return "A header name holds only letters, digits, - and _."
    return ""


class McpServerDialog(QDialog):
    """Add or edit one MCP server."""

    def __init__(
        self,
        server: McpServerSettings,
        taken: list[str],
        tasks: Tasks,
        typed: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("MCP server" if server.label else "Add an MCP server")
        self._server, self._taken = server, taken
        self._secret_name = (
            server.secret_name or new_secret_name()
        )  # made once: the value's keyring entry
        self.label = QLineEdit(server.label)
        self.label.setAccessibleName("Label")
        self.url = QLineEdit(server.url)
        self.url.setPlaceholderText("https://mcp.example.com/mcp")
        self.url.setAccessibleName("URL")
        self.allowed = QLineEdit(", ".join(server.allowed_tools))
        self.allowed.setPlaceholderText("all of the server's tools")
        self.allowed.setAccessibleName("Allowed tools")
        self.approval = QComboBox()
        for value, text in APPROVALS:
            self.approval.addItem(text, value)
        self.approval.setCurrentIndex(max(0, self.approval.findData(server.approval)))
        self.header = QLineEdit(server.auth_header)
        self.header.setPlaceholderText("e.g. Authorization (none if empty)")
        self.header.setAccessibleName("Auth header name")
        self.value = QLineEdit(typed)
        self.value.setEchoMode(QLineEdit.EchoMode.Password)
        self.value.setAccessibleName("Auth header value")
        self.value.setToolTip(
            "Stored in the OS keyring when you save the settings; never in a file."
        )
        self.value.setPlaceholderText("")
        self.enabled = QCheckBox("&Use this server")
        self.enabled.setChecked(server.enabled)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Label:", self.label)
        form.addRow("&URL:", self.url)
        form.addRow("Allowed &tools:", self.allowed)
        form.addRow("A&pproval:", self.approval)
        form.addRow("Auth &header:", self.header)
        form.addRow("Header &value:", self.value)
        form.addRow("", self.enabled)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for edit in (self.label, self.url, self.header):
            edit.textChanged.connect(self._check)
        self._check()
        if server.secret_name and not typed:
            name = server.secret_name
            tasks.run(lambda: has_header_value(name), self._stored, lane="keyring")

    def server(self) -> McpServerSettings:
        allowed = tuple(
            t.strip() for t in self.allowed.text().replace(";", ",").split(",") if t.strip()
        )
        return dataclasses.replace(
            self._server,
            label=self.label.text().strip(),
            url=self.url.text().strip(),
            allowed_tools=allowed,
            approval=self.approval.currentData(),
            auth_header=self.header.text().strip(),
            secret_name=self._secret_name,
            enabled=self.enabled.isChecked(),
        )

    def typed_value(self) -> str:
        return self.value.text().strip()

    def _stored(self, outcome: Outcome) -> None:
        if outcome.error is None and not self.value.text():
            self.value.setPlaceholderText(
                "•••••••• stored in the keyring (type to replace)"
                if outcome.value
                else "not stored yet"
            )

    def _check(self) -> None:
        problem = server_problem(self.server(), self._taken)
        self.problem.setText(f"⚠ {problem}" if problem else "")
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


class ToolsPage(QWidget):
    edited = Signal()

    def __init__(self, tools: ToolSettings, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._tools = tools
        self._servers = list(tools.mcp_servers)
        self._remembered = tools.remembered
        self._secrets = HeaderSecrets()
        self.dialog: McpServerDialog | None = None

        self.clock = QCheckBox("&Date and time (the model can ask what time it is)")
        self.clock.setToolTip("Let the model ask this computer for the date and time.")
        self.calculator = QCheckBox("&Calculator (exact arithmetic)")
        self.calculator.setToolTip("Let the model have sums worked out exactly, on this computer.")
        self.clipboard = QCheckBox("Read the clip&board (when allowed below)")
        self.clipboard.setToolTip(
            "Offer the model a tool that reads your clipboard, only as allowed below."
        )
        self.clipboard_allowed = QCheckBox("&Allow reading the clipboard when the model asks")
        self.clipboard_ask = QCheckBox("Otherwise as&k me at each call")
        self.clipboard_ask.setToolTip("A prompt above the conversation: allow once, or always.")
        self.clipboard_allowed.setToolTip(
            "Off by default: whatever you copied (a password too) would be sent to the model."
        )
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1.0, 60.0)
        self.timeout.setSingleStep(1.0)
        self.timeout.setDecimals(0)
        self.timeout.setSuffix(" s")
        self.timeout.setAccessibleName("Tool time limit")
        self.timeout.setMaximumWidth(120)
        self.timeout.setToolTip(
            "A tool that takes longer is stopped and the model is told, so you are never left in "
            "silence."
        )
        for box, on in (
            (self.clock, tools.clock),
            (self.calculator, tools.calculator),
            (self.clipboard, tools.clipboard),
            (self.clipboard_allowed, tools.clipboard_allowed),
            (self.clipboard_ask, tools.clipboard_ask),
        ):
            box.setChecked(on)
            box.toggled.connect(self._changed)
        self.timeout.setValue(tools.timeout_s)
        self.timeout.valueChanged.connect(self._changed)
        built_in = QGroupBox("Built-in tools")
        form = QFormLayout(built_in)
        for box in (
            self.clock,
            self.calculator,
            self.clipboard,
            self.clipboard_allowed,
            self.clipboard_ask,
        ):
            form.addRow(box)
        form.addRow("&Time limit per tool:", self.timeout)

        self.servers = QListWidget()
        self.servers.setAccessibleName("MCP servers")
        self.servers.setToolTip(
            "Remote tool servers offered to GA models; a double click edits one."
        )
        self.servers.itemDoubleClicked.connect(lambda _item: self.edit_server())
        self.servers.currentRowChanged.connect(lambda _row: self._refresh_buttons())
        self.add_button = QPushButton("Add &server…")
        self.add_button.setToolTip("Add a remote MCP server by its URL.")
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setToolTip("Change the selected MCP server.")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setToolTip("Remove the selected MCP server and its stored auth header.")
        self.forget_button = QPushButton()
        self.forget_button.setToolTip(
            "Ask again for every tool whose answer you asked to remember."
        )
        self.add_button.clicked.connect(self.add_server)
        self.edit_button.clicked.connect(self.edit_server)
        self.remove_button.clicked.connect(self.remove_server)
        self.forget_button.clicked.connect(self.forget_remembered)
        note = QLabel(GA_ONLY)
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.forget_button)
        mcp = QGroupBox("MCP servers (GA models only)")
        column = QVBoxLayout(mcp)
        column.addWidget(note)
        column.addWidget(self.servers, 1)
        column.addLayout(buttons)
        column.addWidget(self._remembered_box())

        layout = QVBoxLayout(self)
        layout.addWidget(built_in)
        layout.addWidget(mcp, 1)
        self._show_servers()
        self._show_remembered()

    def _remembered_box(self) -> QWidget:
        """Each remembered answer, with the server's URL it holds for; each can be forgotten."""
        self.remembered_list = QListWidget()
        self.remembered_list.setAccessibleName("Remembered answers")
        self.remembered_list.setToolTip(
            "Each tool whose approval answer you asked to remember, with its server."
        )
        self.remembered_list.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        self.remembered_list.currentRowChanged.connect(lambda _row: self._refresh_buttons())
        self.forget_one_button = QPushButton("Forget t&his answer")
        self.forget_one_button.setToolTip("Ask again for the selected tool.")
        self.forget_one_button.clicked.connect(self.forget_selected)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.remembered_list, 1)
        row.addWidget(self.forget_one_button, 0, Qt.AlignmentFlag.AlignTop)
        return box

    def _show_remembered(self) -> None:
        self.remembered_list.clear()
        for answer in self._remembered:
            verdict = "Allow" if answer.approve else "Deny"
            where = answer.url or "an old answer kept by name only: not used"
            self.remembered_list.addItem(f"{verdict} {answer.tool} on “{answer.server}” ({where})")
        self.remembered_list.setVisible(bool(self._remembered))
        self._refresh_buttons()

    def forget_selected(self) -> None:
        row = self.remembered_list.currentRow()
        if 0 <= row < len(self._remembered):
            self._remembered = self._remembered[:row] + self._remembered[row + 1 :]
            self._show_remembered()
            self._changed()

    # ---- the dialog's side ----

    def settings(self) -> ToolSettings:
        return dataclasses.replace(
            self._tools,
            clock=self.clock.isChecked(),
            calculator=self.calculator.isChecked(),
            clipboard=self.clipboard.isChecked(),
            clipboard_allowed=self.clipboard_allowed.isChecked(),
            clipboard_ask=self.clipboard_ask.isChecked(),
            timeout_s=float(self.timeout.value()),
            mcp_servers=tuple(self._servers),
            remembered=self._remembered,
        )

    def take_secrets(self) -> HeaderSecrets:
        secrets, self._secrets = self._secrets, HeaderSecrets()
        return secrets

    def store(self, secrets: HeaderSecrets, then: Callable[[str | None], None]) -> None:
        """Store and forget header values (keyring lane); `then(None)`, or `then(why not)`."""

        def store_all() -> None:
            for name, value in secrets.store.items():
                store_header_value(name, value)
            for name in secrets.forget:
                forget_header_value(name)

        def done(outcome: Outcome) -> None:
            if outcome.error is None:
                then(None)
                return
            self._secrets.store = secrets.store | self._secrets.store  # kept for another try
            self._secrets.forget |= secrets.forget
            why = (
                str(outcome.error)
                if isinstance(outcome.error, KeyringUnavailable)
                else type(outcome.error).__name__
            )
            then(f"An MCP auth header was not saved: {why}")

        self._tasks.run(store_all, done, lane="keyring")

    # ---- servers ----

    def add_server(self) -> None:
        self._open(None)

    def edit_server(self) -> None:
        row = self.servers.currentRow()
        if 0 <= row < len(self._servers):
            self._open(row)

    def remove_server(self) -> None:
        row = self.servers.currentRow()
        if 0 <= row < len(self._servers):
            gone = self._servers.pop(row)
            if gone.secret_name:
                self._secrets.store.pop(gone.secret_name, None)
                self._secrets.forget.add(gone.secret_name)
            self._show_servers()
            self._changed()

    def forget_remembered(self) -> None:
        self._remembered = ()
        self._show_remembered()
        self._changed()

    def _open(self, row: int | None) -> None:
        server = self._servers[row] if row is not None else McpServerSettings()
        taken = [s.label for i, s in enumerate(self._servers) if i != row]
        typed = self._secrets.store.get(server.secret_name, "") if server.secret_name else ""
        self.dialog = McpServerDialog(server, taken, self._tasks, typed, self)
        self.dialog.accepted.connect(lambda: self._saved(row))
        self.dialog.finished.connect(self._closed)
        self.dialog.open()

    def _saved(self, row: int | None) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        server, value = dialog.server(), dialog.typed_value()
        if row is None:
            self._servers.append(server)
        else:
            self._servers[row] = server
        if value and server.auth_header:
            self._secrets.store[server.secret_name] = value
            self._secrets.forget.discard(server.secret_name)
        elif not server.auth_header:  # no header any more: no value to keep
            self._secrets.store.pop(server.secret_name, None)
            self._secrets.forget.add(server.secret_name)
        self._show_servers(select=self._servers.index(server))
        self._changed()

    def _closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _show_servers(self, select: int | None = None) -> None:
        self.servers.clear()
        for server in self._servers:
            approval = dict(APPROVALS)[server.approval].lower()
            auth = f" · {server.auth_header} header" if server.auth_header else ""
            off = "" if server.enabled else " · off"
            item = QListWidgetItem(f"{server.label} — {server.url} · {approval}{auth}{off}")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, item.text())
            self.servers.addItem(item)
        if self._servers:
            self.servers.setCurrentRow(select if select is not None else 0)
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        chosen = 0 <= self.servers.currentRow() < len(self._servers)
        self.edit_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
        count = len(self._remembered)
        self.forget_button.setText(
            f"&Forget remembered answers ({count})" if count else "No remembered answers"
        )
        self.forget_button.setEnabled(bool(count))
        if hasattr(self, "remembered_list"):
            self.forget_one_button.setVisible(bool(count))
            self.forget_one_button.setEnabled(0 <= self.remembered_list.currentRow() < count)

    def _changed(self) -> None:
        self.edited.emit()
