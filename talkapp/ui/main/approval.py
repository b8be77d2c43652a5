"""MCP approval prompts: a strip in the main window, never a modal dialog, so the conversation
stays usable while a request waits (the model waits; the user may keep talking).

Each request gets one prompt: which server wants to run which tool, its whole arguments (plain
text, pretty-printed when they are JSON, in a box that scrolls: what you allow is what you
see), Allow and Deny, and "Remember for this tool". Answering emits `answered(request, approve,
remember)` and closes the prompt; the window sends the answer to the engine and, when asked to
remember, keeps the answer in the settings. A prompt also closes when its request is settled
elsewhere (a remembered answer, or the session that asked went away).
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from talkapp.session.engine_events import ApprovalRequested
from talkapp.ui.card import paint_card

ARGUMENT_LINES = 6  # shown at once; the box scrolls for more


def readable_arguments(arguments: str) -> str:
    """The arguments as a person reads them: JSON indented, anything else as it came."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return arguments


class ApprovalPrompt(QWidget):
    answered = Signal(object, bool, bool)  # the ApprovalRequested, approve, remember

    def __init__(self, request: ApprovalRequested, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.setAccessibleName("Approval request")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        own = not request.server  # TalkApp's own question (the clipboard): its text is the question
        self.label.setText(
            request.arguments
            if own
            else f"The MCP server “{request.server}” wants "
            f"to run {request.tool} with these arguments. Allow it?"
        )
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.arguments = QPlainTextEdit()  # plain text: nothing in them renders as a link
        self.arguments.setReadOnly(True)
        self.arguments.setPlainText(readable_arguments(request.arguments))
        self.arguments.setAccessibleName("Arguments")
        self.arguments.setTabChangesFocus(True)
        self.arguments.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Space stays push-to-talk
        lines = min(ARGUMENT_LINES, self.arguments.document().blockCount())
        self.arguments.setFixedHeight(self.fontMetrics().lineSpacing() * max(2, lines) + 12)
        self.arguments.setVisible(not own)
        self.setAccessibleDescription(self.label.text())
        self.remember = QCheckBox("Al&ways allow" if own else "Re&member for this tool")
        self.remember.setToolTip(
            "Allow it from now on without asking (Settings → Tools & MCP turns it off)."
            if own
            else f"Answer {request.tool} on “{request.server}” the same way from now on "
            "(Settings → Tools & MCP can forget it)."
        )
        self.allow_button = QPushButton("&Allow")
        self.deny_button = QPushButton("&Deny")
        self.allow_button.clicked.connect(lambda: self._answer(True))
        self.deny_button.clicked.connect(lambda: self._answer(False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        text = QVBoxLayout()
        text.addWidget(self.label)
        text.addWidget(self.arguments)
        layout.addLayout(text, 1)
        layout.addWidget(self.remember, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.allow_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.deny_button, 0, Qt.AlignmentFlag.AlignTop)

    def _answer(self, approve: bool) -> None:
        self.answered.emit(self.request, approve, self.remember.isChecked())

    def paintEvent(self, event) -> None:
        paint_card(self)


class ApprovalStack(QWidget):
    """The prompts waiting for an answer, oldest first."""

    answered = Signal(object, bool, bool)  # the ApprovalRequested, approve, remember

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._prompts: dict[str, ApprovalPrompt] = {}
        self.hide()

    def ask(self, request: ApprovalRequested) -> ApprovalPrompt:
        self.close_prompt(request.request_id)
        prompt = ApprovalPrompt(request, self)
        prompt.answered.connect(self._answered)
        self._prompts[request.request_id] = prompt
        self._layout.addWidget(prompt)
        self.show()  # focus stays where it is: the push-to-talk key must keep working
        return prompt

    def prompt(self, request_id: str) -> ApprovalPrompt | None:
        return self._prompts.get(request_id)

    def pending(self) -> list[str]:
        return list(self._prompts)

    def close_prompt(self, request_id: str) -> None:
        prompt = self._prompts.pop(request_id, None)
        if prompt is not None:
            prompt.hide()
            prompt.deleteLater()
        self.setVisible(bool(self._prompts))

    def _answered(self, request: ApprovalRequested, approve: bool, remember: bool) -> None:
        self.close_prompt(request.request_id)
        self.answered.emit(request, approve, remember)
