"""Text from the network is shown as text: a banner, the state line and the transcript never
turn what the service sends into links or formatting, and the terminal never obeys escape
sequences in it."""

from __future__ import annotations

import io
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt

from talkapp.session import engine_events as out
from talkapp.session.transcript import ToolCard, Turn
from talkapp.terminal import TerminalPrinter, printable
from talkapp.ui.main.banner import Banner
from talkapp.ui.main.transcript_view import TranscriptView
from talkapp.ui.main.window import plain_tooltip

SPOOF = '<a href="https://evil.example/">Your key expired: <b>paste it here</b></a>'


def anchors(view: TranscriptView) -> list[str]:
    found, block = [], view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.isValid() and fragment.charFormat().isAnchor():
                found.append(fragment.text())
            it += 1
        block = block.next()
    return found


def test_a_banner_shows_service_text_as_written(qtbot):
    banner = Banner("error", SPOOF, [])
    qtbot.addWidget(banner)
    assert banner.label.textFormat() == Qt.TextFormat.PlainText and banner.label.text() == SPOOF


def test_the_transcript_shows_service_text_as_written(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    view.show_turn(Turn("item_1", "assistant", SPOOF, final=True))
    card = ToolCard("c1", "function", "calc", arguments=SPOOF, status="failed", error=SPOOF)
    view.show_card(card)
    assert anchors(view) == [] and view.toPlainText().count(SPOOF) >= 2


def test_a_tooltip_with_service_text_is_escaped():
    assert plain_tooltip(SPOOF) == (
        "<p>&lt;a href=&quot;https://evil.example/&quot;&gt;Your key expired: "
        "&lt;b&gt;paste it here&lt;/b&gt;&lt;/a&gt;</p>"
    )
    assert plain_tooltip("") == ""


def test_the_terminal_prints_service_text_without_its_control_characters():
    hostile = (
        "fine\x1b]0;pwned\x07 \x1b[2J\x1b[1;31mred\x1b[0m\r\x08over\u202eevil\x9b2J\tend\nnext"
    )
    assert printable(hostile) == "fine]0;pwned [2J[1;31mred[0mover" + "evil2J\tend\nnext"
    stream = io.StringIO()
    printer = TerminalPrinter(stream)
    printer(out.Notice("error", "The service said: \x1b[1A\x1b[2K[listening]"))
    link = "refused\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"  # an OSC 8 hyperlink
    printer(out.StateChanged(out.State.ERROR, link))
    written = stream.getvalue()
    assert "\x1b" not in written and "\x07" not in written
    assert written.splitlines() == [
        "[error] The service said: [1A[2K[listening]",
        "[error] refused]8;;https://evil.exampleclick]8;;",
    ]
