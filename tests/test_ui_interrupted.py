"""An interrupted reply shows what the user heard, and the rest struck out as not heard: the
split (pure) and the transcript view drawing it (real widgets, offscreen). The engine's measure
of what was heard, the same for every turn-detection mode (one `Engine._interrupted`), is
checked against real audio in test_engine_audio."""

import time

from talkapp.session.transcript import Turn, heard_markdown, heard_split
from talkapp.ui.main.transcript_view import TranscriptView

REPLY = "The weather today is sunny with a light breeze and a high of twenty degrees."


def interrupted(heard_ms: int, spoken_ms: int | None) -> Turn:
    return Turn(
        "a1", "assistant", REPLY, final=True, interrupted=True, heard_ms=heard_ms,
        spoken_ms=spoken_ms, at=time.monotonic(),
    )  # fmt: skip


def test_the_heard_share_of_the_audio_is_the_heard_share_of_the_text_at_a_word_boundary():
    heard, rest = heard_split(interrupted(2000, 5000))  # two fifths of the audio played
    assert heard + " " + rest == REPLY
    assert heard == "The weather today is sunny with"  # 30 of 76 characters, then the word's end
    assert heard_split(interrupted(5000, 5000)) == (REPLY, "")  # played to the end
    assert heard_split(interrupted(0, 5000)) == ("", REPLY)


def test_without_the_audio_length_the_cut_is_estimated_from_the_text():
    heard, rest = heard_split(interrupted(3000, None))  # 15 characters a second: 45 of 76
    assert heard == "The weather today is sunny with a light breeze"
    assert rest == "and a high of twenty degrees."


def test_a_reply_not_interrupted_is_all_heard():
    turn = Turn("a1", "assistant", REPLY, final=True)
    assert heard_split(turn) == (REPLY, "") and heard_markdown(turn) == REPLY


def test_markdown_strikes_out_what_was_not_heard():
    assert heard_markdown(interrupted(2000, 5000)) == (
        "The weather today is sunny with ~~a light breeze and a high of twenty degrees.~~ "
        "_(interrupted after 2.0 s; struck out: not heard)_"
    )


def test_the_view_shows_the_heard_part_and_strikes_out_the_rest(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    view.show_turn(interrupted(2000, 5000))
    shown = view.toPlainText()
    assert "interrupted after 2.0 s; the struck-out rest was not heard" in shown
    document = view.document()
    struck, plain = [], []
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            (struck if fragment.charFormat().fontStrikeOut() else plain).append(fragment.text())
            fragments += 1
        block = block.next()
    assert "".join(struck).strip() == "a light breeze and a high of twenty degrees."
    assert any(t.startswith("The weather today is sunny with") for t in plain)
    assert "~~a light breeze" in view.as_markdown()
