"""The transcript follows the conversation while the reader is at the bottom, always after their
own turn, and offers "Jump to latest" when they scrolled up. Real widgets (offscreen); the
end-to-end test (eight typed turns to the simulator through the real app) is in test_ui_main."""

import time

from PySide6.QtCore import Qt

from talkapp.session.transcript import Turn
from talkapp.ui.main.transcript_view import TranscriptView

WAIT = 30_000


def on_screen(view: TranscriptView, text: str) -> bool:
    """Whether the last block holding `text` lies inside the visible part of the view."""
    document, top = view.document(), view.verticalScrollBar().value()
    block, found = document.begin(), None
    while block.isValid():
        if text in block.text():
            found = block
        block = block.next()
    if found is None:
        return False
    rect = document.documentLayout().blockBoundingRect(found)
    return rect.top() >= top and rect.bottom() <= top + view.viewport().height()


def reply(n: int, words: int = 40) -> Turn:
    text = f"reply {n} " + "word " * words
    return Turn(f"a{n}", "assistant", text, final=True, at=time.monotonic())


def test_the_view_follows_until_the_reader_scrolls_up_then_offers_to_jump(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    for n in range(12):
        view.show_turn(reply(n))
    qtbot.waitUntil(lambda: on_screen(view, "reply 11"), timeout=WAIT)
    assert not view.jump_button.isVisible()

    view.verticalScrollBar().setValue(0)  # the reader scrolls up to read
    assert view.jump_button.isVisible()
    view.show_turn(reply(12))
    qtbot.wait(50)  # nothing to wait for: the view must *not* move (checked just below)
    assert view.verticalScrollBar().value() == 0 and not on_screen(view, "reply 12")

    view.show_turn(Turn("u1", "user", "my own turn", final=True, at=time.monotonic()))
    qtbot.waitUntil(lambda: on_screen(view, "my own turn"), timeout=WAIT)  # always after theirs
    assert not view.jump_button.isVisible()

    view.verticalScrollBar().setValue(0)
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: on_screen(view, "my own turn"), timeout=WAIT)
    view.show_turn(reply(13))
    qtbot.waitUntil(lambda: on_screen(view, "reply 13"), timeout=WAIT)
    view.verticalScrollBar().setValue(0)
    assert view.jump_button.isVisible()
    view.clear_entries()  # nothing left to scroll: nothing to jump to
    assert view.following and not view.jump_button.isVisible()
