"""The microphone's open/close policy and the output's adaptive block, without audio."""

from __future__ import annotations

from talkapp.session.stream_policy import BLOCK_STEPS_MS, BlockChange, BlockSizer, MicPolicy


def test_push_to_talk_opens_on_press_lingers_after_release_then_closes() -> None:
    mic = MicPolicy(linger_s=4.0)
    assert not mic.wanted  # push-to-talk: nothing open before the user asks
    assert mic.press(10.0)
    assert mic.release(11.0)  # kept open: the next press finds it running
    assert mic.tick(14.9)
    assert not mic.tick(15.0)
    assert not mic.tick(100.0)


def test_a_press_while_lingering_keeps_it_open_and_restarts_the_linger() -> None:
    mic = MicPolicy(linger_s=4.0)
    mic.press(0.0)
    mic.release(1.0)
    assert mic.press(4.0)
    assert mic.tick(50.0)  # held: never closes under the user's finger
    mic.release(50.0)
    assert mic.tick(53.9)
    assert not mic.tick(54.0)


def test_hands_free_keeps_it_open_until_switched_off() -> None:
    mic = MicPolicy(hands_free=True, linger_s=2.0)
    assert mic.wanted
    assert mic.tick(1000.0)
    assert mic.set_hands_free(False, 1000.0)
    assert not mic.tick(1002.0)
    assert mic.set_hands_free(True, 1003.0)


def test_mute_closes_at_once_and_unmute_reopens() -> None:
    mic = MicPolicy(hands_free=True)
    assert not mic.set_muted(True, 5.0)
    assert mic.muted
    assert not mic.press(6.0)  # muted is muted
    assert not mic.tick(7.0)
    assert mic.set_muted(False, 8.0)


def test_stop_closes_whatever_was_asked() -> None:
    mic = MicPolicy(hands_free=False)
    mic.press(0.0)
    mic.stop()
    assert not mic.wanted
    assert not mic.tick(0.1)


def test_the_block_grows_after_a_dry_reply_and_stops_at_the_largest() -> None:
    sizer = BlockSizer(5.0)
    assert sizer.reply_ended(0) is None
    assert sizer.reply_ended(2) == BlockChange(10.0, True)
    assert sizer.reply_ended(1) == BlockChange(20.0, True)
    assert sizer.reply_ended(3) is None
    assert sizer.block_ms == BLOCK_STEPS_MS[-1]


def test_the_block_steps_back_after_calm_replies_but_never_below_its_floor() -> None:
    sizer = BlockSizer(5.0, calm_replies=3)
    sizer.reply_ended(1)
    sizer.reply_ended(1)
    assert sizer.block_ms == 20.0
    assert [sizer.reply_ended(0) for _ in range(3)] == [None, None, BlockChange(10.0, False)]
    sizer.reply_ended(0), sizer.reply_ended(1)  # a dry reply resets the calm count
    assert sizer.block_ms == 20.0
    for _ in range(6):
        sizer.reply_ended(0)
    assert sizer.block_ms == 5.0
    assert all(sizer.reply_ended(0) is None for _ in range(10))  # the floor holds


def test_a_chosen_larger_block_is_the_floor() -> None:
    sizer = BlockSizer(10.0, calm_replies=1)
    assert sizer.reply_ended(1) == BlockChange(20.0, True)
    assert sizer.reply_ended(0) == BlockChange(10.0, False)
    assert sizer.reply_ended(0) is None
