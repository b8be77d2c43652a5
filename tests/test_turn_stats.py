"""The numbers under the talk button: replies, tokens, the last reply's time to first audio."""

from talkapp.protocol.events import Usage
from talkapp.session.engine_events import TurnMeasured
from talkapp.ui.main.turn_stats import SessionStats


def test_a_tool_calling_step_adds_its_tokens_but_is_not_a_reply():
    stats = SessionStats()
    assert stats.lines() == ("Last reply: —", "This session: no replies yet")
    stats.add(TurnMeasured("resp_1", 310.0, 322.5, 900.0, Usage(input_audio=50, output_audio=100)))
    assert stats.lines() == (
        "Last reply: first audio 322 ms · 150 tokens",
        "This session: 1 reply · 150 tokens",
    )
    stats.add(TurnMeasured("resp_2", None, None, 200.0, Usage(input_text=40), tool_step=True))
    assert stats.lines() == (
        "Last reply: first audio 322 ms · 150 tokens",
        "This session: 1 reply · 190 tokens",
    )
    stats.add(
        TurnMeasured("resp_3", 480.0, None, 1500.0, Usage(output_audio=60))
    )  # received, not yet played
    assert stats.lines() == (
        "Last reply: first audio 480 ms · 60 tokens",
        "This session: 2 replies · 250 tokens",
    )


def test_a_reply_that_speaks_and_calls_a_tool_is_still_a_reply():
    stats = SessionStats()
    stats.add(
        TurnMeasured("resp_1", 100.0, 110.0, 800.0, None, tool_step=True)
    )  # "let me check…" then a call
    assert stats.lines() == ("Last reply: first audio 110 ms", "This session: 1 reply · 0 tokens")
