"""Tools in the desktop app, on real widgets (offscreen) and real parts: the app with its built-in
simulator over a real socket and a private PulseAudio; gnome-keyring's Secret Service for MCP
header values. The approval prompt answers and a remembered choice applies next time; the
clipboard tool reads only once allowed; tool calls show as cards; the Tools & MCP tab keeps
servers in the settings and their header values in the keyring only."""

from __future__ import annotations

import dataclasses
import json

import test_ui_main
import test_ui_settings
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from test_ui_main import WAIT, replies, wait_live
from test_ui_settings import all_texts

from talkapp.session.engine_events import ApprovalRequested
from talkapp.session.transcript import ToolCard
from talkapp.settings.model import McpServerSettings, RememberedApproval, Settings, ToolSettings
from talkapp.settings.store import SettingsStore
from talkapp.tools.mcp import forget_header_value, has_header_value, store_header_value
from talkapp.ui.main.approval import ApprovalPrompt
from talkapp.ui.main.transcript_view import TranscriptView

DOCS = McpServerSettings("docs", "https://mcp.example.invalid/mcp", approval="always")
desktop = (
    test_ui_main.desktop
)  # fixtures shared with the main window's and the settings pane's tests
open_dialog = test_ui_settings.open_dialog


def type_message(qtbot, window, text: str) -> None:
    message = window.transcript.message.edit
    qtbot.keyClicks(message, text)
    qtbot.keyClick(message, Qt.Key.Key_Return)


def said_times(window, words: str) -> int:
    return sum(words in r for r in replies(window))


def wait_said_and_ended(qtbot, window, words: str, times: int) -> None:
    """The reply saying `words` (the `times`-th) is in the transcript and has finished playing:
    typing on while it plays would interrupt it, racing the next turn against its end."""
    qtbot.waitUntil(lambda: said_times(window, words) == times, timeout=WAIT)
    qtbot.waitUntil(lambda: window.state.value == "listening", timeout=WAIT)


# ---- cards ----


def test_tool_cards_show_in_the_transcript_and_in_its_export(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    card = ToolCard("call_1", "function", "get_weather", arguments='{"city": "Par', at=1.0)
    view.show_card(card)
    assert "get_weather" in view.toPlainText() and "asking…" in view.toPlainText()
    view.show_card(
        dataclasses.replace(
            card,
            arguments='{"city": "Paris"}',
            status="done",
            result='{"temp_c": 18}',
            duration_ms=42.0,
        )
    )
    view.show_card(
        ToolCard(
            "mcp_1", "mcp", "search", "docs", "{}", "failed", error="http error 502: bad gateway"
        )
    )
    view.show_card(
        ToolCard("mcpl_1", "mcp_list", "docs", "docs", status="done", result="search, fetch")
    )
    text = view.toPlainText()
    assert text.count("get_weather") == 1  # changed in place, not appended
    assert (
        'get_weather({"city": "Paris"})' in text and '→ {"temp_c": 18}' in text and "42 ms" in text
    )
    assert "docs · search" in text and "✗ http error 502: bad gateway" in text
    assert "MCP server “docs” offers search, fetch" in text
    exported = view.as_markdown()
    assert '> 🔧 `get_weather({"city": "Paris"})` — done, 42 ms: {"temp_c": 18}' in exported
    assert [c.name for c in view.cards()] == [
        "get_weather",
        "search",
        "docs",
    ] and view.turns() == []


# ---- the app ----


def test_an_approval_prompt_answers_and_a_remembered_choice_applies_next_time(
    qtbot, pulse, desktop, tmp_path
):
    app = desktop(Settings(tools=ToolSettings(mcp_servers=(DOCS,))))
    window = app.window
    wait_live(qtbot, window)

    type_message(qtbot, window, "Search the docs for the release notes")
    qtbot.waitUntil(lambda: bool(window.approvals.pending()), timeout=WAIT)
    (request_id,) = window.approvals.pending()
    prompt = window.approvals.prompt(request_id)
    assert "“docs” wants to run search with" in prompt.label.text() and window.approvals.isVisible()
    assert json.loads(prompt.arguments.toPlainText()) == json.loads(
        next(c for c in window.transcript.view.cards() if c.kind == "mcp_approval").arguments
    )
    # Non-blocking: the reply that asked ends (its response.done may land just after the
    # prompt shows) and the conversation goes on while the question waits.
    qtbot.waitUntil(lambda: window.state.value == "listening", timeout=WAIT)
    assert window.approvals.pending() == [request_id]
    qtbot.mouseClick(prompt.allow_button, Qt.MouseButton.LeftButton)
    assert window.approvals.pending() == [] and not window.approvals.isVisible()
    wait_said_and_ended(qtbot, window, "The search tool of the docs MCP server returned", 1)
    statuses = {c.kind: c.status for c in window.transcript.view.cards()}
    assert statuses == {"mcp_list": "done", "mcp_approval": "approved", "mcp": "done"}

    type_message(qtbot, window, "Search the docs once more")
    qtbot.waitUntil(lambda: len(window.approvals.pending()) == 1, timeout=WAIT)
    prompt = window.approvals.prompt(window.approvals.pending()[0])
    qtbot.mouseClick(prompt.remember, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(prompt.deny_button, Qt.MouseButton.LeftButton)
    wait_said_and_ended(qtbot, window, "was not approved", 1)
    remembered = (RememberedApproval("docs", "search", False, DOCS.url),)
    assert window.settings.tools.remembered == remembered
    assert (
        SettingsStore(tmp_path / "config").load().settings.tools.remembered == remembered
    )  # saved

    type_message(qtbot, window, "And search the docs a third time")
    wait_said_and_ended(qtbot, window, "was not approved", 2)
    assert window.approvals.pending() == []  # answered without asking
    approvals = [c for c in window.transcript.view.cards() if c.kind == "mcp_approval"]
    assert [(c.status, c.note) for c in approvals] == [
        ("approved", ""),
        ("denied", "remembered from now on"),
        ("denied", "remembered"),
    ]


def test_the_clipboard_tool_asks_at_each_call_until_always_allowed(qtbot, pulse, desktop):
    QGuiApplication.clipboard().setText("the shopping list: milk, eggs")
    window = desktop().window
    wait_live(qtbot, window)

    # A new install asks at each call: a prompt, not a dialog; denied, nothing is read.
    type_message(qtbot, window, "What is on my clipboard? Use read_clipboard.")
    qtbot.waitUntil(lambda: len(window.approvals.pending()) == 1, timeout=WAIT)
    prompt = window.approvals.prompt(window.approvals.pending()[0])
    assert "read your clipboard" in prompt.label.text()
    assert prompt.remember.text() == "Al&ways allow"
    qtbot.mouseClick(prompt.deny_button, Qt.MouseButton.LeftButton)
    wait_said_and_ended(qtbot, window, "declined to share the clipboard", 1)
    assert "milk" not in window.transcript.view.as_markdown()

    # Allowed this once: read this once, and asked again next time.
    type_message(qtbot, window, "Try read_clipboard again.")
    qtbot.waitUntil(lambda: len(window.approvals.pending()) == 1, timeout=WAIT)
    prompt = window.approvals.prompt(window.approvals.pending()[0])
    qtbot.mouseClick(prompt.allow_button, Qt.MouseButton.LeftButton)
    wait_said_and_ended(qtbot, window, "milk, eggs", 1)
    assert not window.settings.tools.clipboard_allowed

    # "Always allow": the standing permission, kept in the settings; no prompt after it.
    type_message(qtbot, window, "And read_clipboard once more.")
    qtbot.waitUntil(lambda: len(window.approvals.pending()) == 1, timeout=WAIT)
    prompt = window.approvals.prompt(window.approvals.pending()[0])
    qtbot.mouseClick(prompt.remember, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(prompt.allow_button, Qt.MouseButton.LeftButton)
    wait_said_and_ended(qtbot, window, "milk, eggs", 2)
    assert window.settings.tools.clipboard_allowed
    type_message(qtbot, window, "Last time: read_clipboard.")
    qtbot.waitUntil(lambda: said_times(window, "milk, eggs") == 3, timeout=WAIT)
    assert window.approvals.pending() == []
    last = window.transcript.view.cards()[-1]
    assert last.status == "done" and json.loads(last.result) == {
        "text": "the shopping list: milk, eggs"
    }
    assert window.transcript.view.as_markdown().count("session started") == 1  # no new session


def test_an_unanswered_clipboard_prompt_goes_away_at_the_time_limit(qtbot, pulse, desktop):
    window = desktop(Settings(tools=ToolSettings(timeout_s=1.0))).window
    wait_live(qtbot, window)
    type_message(qtbot, window, "What is on my clipboard? Use read_clipboard.")
    qtbot.waitUntil(lambda: len(window.approvals.pending()) == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: said_times(window, "did not finish within 1 s") == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.approvals.pending() == [], timeout=WAIT)  # not left behind


def test_a_clipboard_not_allowed_and_not_asked_for_is_refused(qtbot, pulse, desktop):
    QGuiApplication.clipboard().setText("secret")
    tools = ToolSettings(clipboard_ask=False)
    window = desktop(Settings(tools=tools)).window
    wait_live(qtbot, window)
    type_message(qtbot, window, "What is on my clipboard? Use read_clipboard.")
    refused = "has not allowed TalkApp to read the clipboard"
    qtbot.waitUntil(lambda: said_times(window, refused) == 1, timeout=WAIT)
    (card,) = window.transcript.view.cards()
    assert card.status == "failed" and "Settings → Tools & MCP" in card.error
    assert window.approvals.pending() == []


# ---- the Tools & MCP tab ----


def test_the_tools_tab_keeps_servers_in_the_settings_and_header_values_in_the_keyring(
    qtbot, open_dialog, secret_service
):
    dialog = open_dialog(Settings(), page="tools")
    page = dialog.tools
    assert dialog.tabs.currentWidget() is page
    assert any("only GA-dialect sessions can use them" in t for t in all_texts(page))
    assert (
        page.clock.isChecked()
        and page.calculator.isChecked()
        and not page.clipboard_allowed.isChecked()
    )
    page.clipboard_allowed.setChecked(True)
    page.calculator.setChecked(False)

    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    server = page.dialog
    ok = server.buttons.button(server.buttons.StandardButton.Ok)
    assert not ok.isEnabled()  # no label, no URL yet
    qtbot.keyClicks(server.label, "docs")
    qtbot.keyClicks(server.url, "http://mcp.example.invalid/mcp")
    assert not ok.isEnabled() and "https://" in server.problem.text()
    server.url.setText("https://mcp.example.invalid/mcp")
    qtbot.keyClicks(server.allowed, "search, fetch")
    qtbot.keyClicks(server.header, "Authorization")
    qtbot.keyClicks(server.value, "Bearer ui-s3cret")
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert (
        page.servers.count() == 1
        and "docs — https://mcp.example.invalid/mcp" in page.servers.item(0).text()
    )

    with qtbot.waitSignal(dialog.settings_saved, timeout=WAIT) as saved:
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Apply), Qt.MouseButton.LeftButton
        )
    tools = saved.args[0].tools
    (docs,) = tools.mcp_servers
    assert (docs.label, docs.allowed_tools, docs.approval, docs.auth_header) == (
        "docs",
        ("search", "fetch"),
        "always",
        "Authorization",
    )
    assert tools.clipboard_allowed and not tools.calculator
    assert has_header_value(docs.secret_name) and "ui-s3cret" not in json.dumps(
        dataclasses.asdict(tools)
    )
    assert not any(
        "ui-s3cret" in t for t in all_texts(dialog)
    )  # typed, stored, and gone from the widgets

    page.servers.setCurrentRow(0)
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "stored in the keyring" in page.dialog.value.placeholderText(), timeout=WAIT
    )
    page.dialog.reject()
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.settings_saved, timeout=WAIT) as saved:
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    assert saved.args[0].tools.mcp_servers == ()
    assert not has_header_value(docs.secret_name)  # a removed server's value is forgotten


def test_an_approval_prompt_shows_the_whole_arguments_as_plain_text(qtbot):
    long = {"query": "x" * 3000, "link": '<a href="https://evil.example/">ok</a>', "n": 2}
    request = ApprovalRequested("req_1", "docs", "search", json.dumps(long))
    prompt = ApprovalPrompt(request)
    qtbot.addWidget(prompt)
    shown = prompt.arguments.toPlainText()
    assert json.loads(shown) == long and "\n" in shown  # all of it, pretty-printed
    assert prompt.arguments.isReadOnly()
    odd = ApprovalPrompt(ApprovalRequested("req_2", "docs", "search", "not json {"))
    qtbot.addWidget(odd)
    assert odd.arguments.toPlainText() == "not json {"


def test_each_remembered_answer_is_listed_with_its_url_and_can_be_forgotten(qtbot, open_dialog):
    answers = (
        RememberedApproval("docs", "search", True, DOCS.url),
        RememberedApproval("docs", "fetch", False, DOCS.url),
    )
    dialog = open_dialog(
        Settings(tools=ToolSettings(mcp_servers=(DOCS,), remembered=answers)), page="tools"
    )
    page = dialog.tools
    items = [page.remembered_list.item(i).text() for i in range(page.remembered_list.count())]
    assert items == [f"Allow search on “docs” ({DOCS.url})", f"Deny fetch on “docs” ({DOCS.url})"]
    assert not page.forget_one_button.isEnabled()  # nothing chosen yet
    page.remembered_list.setCurrentRow(0)
    qtbot.mouseClick(page.forget_one_button, Qt.MouseButton.LeftButton)
    assert dialog.current_settings().tools.remembered == answers[1:]
    assert page.remembered_list.count() == 1 and "(1)" in page.forget_button.text()


def test_remembered_answers_can_be_forgotten(qtbot, open_dialog):
    tools = ToolSettings(remembered=(RememberedApproval("docs", "search", True),))
    dialog = open_dialog(Settings(tools=tools), page="tools")
    forget = dialog.tools.forget_button
    assert forget.isEnabled() and "(1)" in forget.text()
    qtbot.mouseClick(forget, Qt.MouseButton.LeftButton)
    assert not forget.isEnabled() and dialog.current_settings().tools.remembered == ()


def test_a_cancelled_server_dialog_stores_nothing(qtbot, open_dialog, secret_service):
    dialog = open_dialog(Settings(), page="tools")
    page = dialog.tools
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    page.dialog.label.setText("docs")
    page.dialog.url.setText("https://mcp.example.invalid/mcp")
    page.dialog.header.setText("X-Key")
    page.dialog.value.setText("never-stored")
    name = page.dialog.server().secret_name
    assert page.dialog.server().secret_name == name  # one keyring entry per server, made once
    page.dialog.reject()
    dialog.reject()
    assert page.servers.count() == 0 and not has_header_value(name)
    store_header_value(name, "x")  # the check itself can see a stored value
    assert has_header_value(name)
    forget_header_value(name)
