"""Every turn-taking rule, without audio or sockets: inputs in, actions out."""

import pytest

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.session.turns import (
    SHORT_PRESS_HINT,
    EndOfItem,
    FlushPlayback,
    Hint,
    Interrupt,
    Mode,
    PausePlayback,
    Phase,
    PhaseChanged,
    Play,
    ResumePlayback,
    Send,
    StreamMic,
    TurnPolicy,
    TurnSettings,
)


def policy(mode=Mode.PUSH_TO_TALK, **settings):
    return TurnPolicy(mode, settings=TurnSettings(**settings))


def sent(actions):
    return [a.command for a in actions if isinstance(a, Send)]


def speak_reply(p, response="resp_1", item="item_a"):
    """The service starts a reply and its first audio arrives."""
    p.on_event(ev.ResponseStarted(response))
    return p.on_event(ev.AudioDelta(response, item, b"\x00\x00" * 480))


# ---- push-to-talk ----


def test_push_to_talk_means_manual_turns_and_a_closed_mic():
    p = policy()
    assert p.turn_detection() is None and p.start() == [StreamMic(False)]


def test_press_clears_and_streams_release_commits_and_asks_for_a_reply():
    p = policy()
    pressed = p.press(0.0)
    assert sent(pressed) == [cmd.ClearAudio()] and StreamMic(True) in pressed
    assert p.phase is Phase.USER_SPEAKING
    released = p.release(1.2)
    assert released[0] == StreamMic(False)
    assert sent(released) == [cmd.CommitAudio(), cmd.CreateResponse()]
    assert p.phase is Phase.WAITING


def test_a_too_short_press_is_dropped_with_a_hint_not_sent():
    p = policy()
    p.press(0.0)
    released = p.release(0.05)
    assert sent(released) == [cmd.ClearAudio()]
    assert Hint(SHORT_PRESS_HINT) in released
    assert p.phase is Phase.LISTENING


def test_a_press_while_the_assistant_speaks_barges_in():
    p = policy()
    p.press(0.0), p.release(1.0)
    assert Play("item_a", b"\x00\x00" * 480) in speak_reply(p)
    assert p.phase is Phase.ASSISTANT_SPEAKING
    pressed = p.press(2.0)
    # silence first, then tell the service; the engine measures what was heard where the flush
    # landed and truncates the item there (the policy knows no audio)
    assert pressed[:3] == [FlushPlayback(), Send(cmd.CancelResponse("resp_1")), Interrupt("item_a")]
    assert sent(pressed) == [cmd.CancelResponse("resp_1"), cmd.ClearAudio()]
    assert p.phase is Phase.USER_SPEAKING


def test_the_end_of_an_items_audio_goes_to_the_speaker_unless_it_was_interrupted():
    p = policy()
    speak_reply(p)
    assert p.on_event(ev.AudioDone("resp_1", "item_a")) == [EndOfItem("item_a")]
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    speak_reply(p, "resp_2", "item_b")
    p.press(1.0)  # flushed: nothing of it is left to end
    assert p.on_event(ev.AudioDone("resp_2", "item_b")) == []


def test_late_audio_of_an_interrupted_reply_is_not_played():
    p = policy()
    speak_reply(p)
    p.press(1.0)
    assert p.on_event(ev.AudioDelta("resp_1", "item_a", b"\x01\x00")) == []


def test_no_truncate_when_the_reply_had_finished_playing():
    p = policy()
    speak_reply(p)
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    p.playback_drained()
    assert p.phase is Phase.LISTENING
    pressed = p.press(5.0)
    assert sent(pressed) == [cmd.ClearAudio()]


def test_a_new_reply_waits_for_the_active_one_to_finish():
    p = policy()
    p.on_event(ev.ResponseStarted("resp_1"))  # e.g. text reply still generating, nothing audible
    p.press(0.0)  # cancels it
    released = p.release(1.0)
    assert sent(released) == [cmd.CommitAudio()]  # no response.create while one is active
    after = p.on_event(ev.ResponseDone("resp_1", "cancelled", reason="client_cancelled"))
    assert sent(after) == [cmd.CreateResponse()]


def test_the_service_refusing_a_second_response_is_retried_after_the_first():
    p = policy()
    p.on_event(ev.ServerError("conversation_already_has_active_response", "busy"))
    p.on_event(ev.ResponseStarted("resp_9"))
    assert sent(p.on_event(ev.ResponseDone("resp_9", "completed"))) == [cmd.CreateResponse()]


# ---- hands-free ----


@pytest.mark.parametrize(
    "mode, kind", [(Mode.SERVER_VAD, "server_vad"), (Mode.SEMANTIC_VAD, "semantic_vad")]
)
def test_service_vad_modes_stream_all_the_time(mode, kind):
    p = policy(mode)
    assert p.turn_detection().kind == kind and p.start() == [StreamMic(True)]


def test_local_barge_in_pauses_at_once_and_the_service_confirms_it():
    p = policy(Mode.SERVER_VAD)
    speak_reply(p)
    # silent within a block (queue kept); the mic, held back while the reply played, opens again
    assert p.local_speech_started(1.00) == [PausePlayback(), StreamMic(True, 300)]
    confirmed = p.on_event(ev.SpeechStarted("item_u", 900))
    assert confirmed[0] == FlushPlayback()
    assert Interrupt("item_a") in confirmed
    assert p.phase is Phase.USER_SPEAKING


def test_local_barge_in_is_confirmed_by_sustained_speech_without_the_service():
    p = policy(Mode.SERVER_VAD, confirm_ms=250)
    speak_reply(p)
    p.local_speech_started(1.0)
    p.heard_voice(1.1)
    assert p.tick(1.1) == []
    p.heard_voice(1.25)  # still talking after the reply's echo has died away
    assert FlushPlayback() in p.tick(1.26)


def test_echo_that_fools_the_vad_for_a_moment_does_not_confirm_and_the_reply_resumes():
    """The VAD's state outlives the last voiced frame by its hangover; only voice heard after
    the pause's echo tail counts as the user."""
    p = policy(Mode.SERVER_VAD, confirm_ms=250, resume_after_ms=500, echo_tail_ms=150)
    speak_reply(p)
    p.local_speech_started(1.0)  # residual echo judged speech: pause at once
    p.heard_voice(1.06)  # voiced frames only while the echo lasted
    assert (
        p.tick(1.3) == [] and p.tick(1.45) == []
    )  # the VAD still "speaks" (hangover): not the user
    assert p.tick(1.5) == [ResumePlayback(), StreamMic(False)]
    assert p.phase is Phase.ASSISTANT_SPEAKING


def test_a_local_false_alarm_resumes_the_reply():
    p = policy(Mode.SERVER_VAD, resume_after_ms=500)
    speak_reply(p)
    p.local_speech_started(1.0)
    p.local_speech_stopped(1.1)  # a cough, 100 ms
    assert p.tick(1.3) == []
    assert p.tick(1.6) == [ResumePlayback(), StreamMic(False)]  # the mic is held back again
    assert p.phase is Phase.ASSISTANT_SPEAKING


def test_local_vad_mode_drops_a_segment_that_was_the_replys_echo():
    p = policy(Mode.LOCAL_VAD, resume_after_ms=500, echo_tail_ms=150)
    speak_reply(p)
    started = p.local_speech_started(1.0)  # residual echo opened a segment and paused the reply
    assert PausePlayback() in started and p.phase is Phase.USER_SPEAKING
    p.heard_voice(1.05)
    resumed = p.tick(1.5)  # nothing voiced after the echo tail: it was not the user
    assert (
        resumed[0] == ResumePlayback()
        and StreamMic(False) in resumed
        and sent(resumed) == [cmd.ClearAudio()]
    )
    assert p.phase is Phase.ASSISTANT_SPEAKING
    assert p.local_speech_stopped(1.6) == []  # its end (after the hangover) commits nothing
    assert p.phase is Phase.ASSISTANT_SPEAKING
    started = p.local_speech_started(3.0)  # the user, later: a real segment again
    p.heard_voice(3.29)
    assert cmd.CancelResponse("resp_1") in sent(p.tick(3.3))


def test_local_vad_mode_commits_each_segment_itself():
    p = policy(Mode.LOCAL_VAD)
    assert p.turn_detection() is None and p.start() == [StreamMic(False)]
    started = p.local_speech_started(0.0)
    assert StreamMic(True, 300) in started and sent(started) == [cmd.ClearAudio()]
    stopped = p.local_speech_stopped(1.5)
    assert stopped[0] == StreamMic(False)
    assert sent(stopped) == [cmd.CommitAudio(), cmd.CreateResponse()]
    assert p.phase is Phase.WAITING


def test_local_vad_mode_drops_blips():
    p = policy(Mode.LOCAL_VAD, min_segment_ms=200)
    p.local_speech_started(0.0)
    assert sent(p.local_speech_stopped(0.1)) == [cmd.ClearAudio()]
    assert p.phase is Phase.LISTENING


def test_local_vad_mode_barge_in_then_the_new_turn():
    p = policy(Mode.LOCAL_VAD)
    speak_reply(p)
    assert PausePlayback() in p.local_speech_started(2.0)
    p.heard_voice(2.29)
    interrupted = p.tick(2.3)
    assert cmd.CancelResponse("resp_1") in sent(interrupted) and Interrupt("item_a") in interrupted
    assert sent(p.local_speech_stopped(3.0)) == [
        cmd.CommitAudio()
    ]  # the cancelled reply is still active


def test_push_to_talk_ignores_the_local_vad():
    p = policy(Mode.PUSH_TO_TALK)
    speak_reply(p)
    assert p.local_speech_started(1.0) == [] and p.tick(2.0) == []


def test_switching_mode_mid_turn_drops_the_half_said_turn_and_reconfigures():
    p = policy(Mode.PUSH_TO_TALK)
    p.press(0.0)
    switched = p.set_mode(Mode.SERVER_VAD)
    assert sent(switched) == [cmd.ClearAudio()]
    assert switched[-2].turn_detection.kind == "server_vad" and switched[-1] == StreamMic(True)
    assert p.release(1.0) == []  # the press belonged to the old mode


def test_a_reply_with_no_audio_returns_to_listening():
    p = policy()
    p.press(0.0), p.release(1.0)
    p.on_event(ev.ResponseStarted("resp_t"))
    p.on_event(ev.ResponseDone("resp_t", "completed"))
    assert p.phase is Phase.LISTENING


def test_the_assistant_keeps_speaking_until_playback_drains():
    p = policy()
    speak_reply(p)
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    assert p.phase is Phase.ASSISTANT_SPEAKING  # the service is faster than real time
    p.playback_drained()
    assert p.phase is Phase.LISTENING


def test_a_typed_message_interrupts_the_reply_and_asks_for_a_new_one():
    p = policy(Mode.SERVER_VAD)
    speak_reply(p)
    typed = p.typed("Actually, in Celsius please")
    assert typed[0] == FlushPlayback()
    assert Interrupt("item_a") in typed
    assert sent(typed) == [
        cmd.CancelResponse("resp_1"),
        cmd.SendText("Actually, in Celsius please"),
    ]  # create waits for the cancel
    assert sent(p.on_event(ev.ResponseDone("resp_1", "cancelled"))) == [cmd.CreateResponse()]


def test_a_loud_onset_over_the_reply_pauses_it_until_the_vad_decides():
    p = policy(Mode.SERVER_VAD, confirm_ms=250, resume_after_ms=500)
    speak_reply(p)
    assert p.barge_in_heard(1.00) == [PausePlayback(), StreamMic(True, 300)]
    assert p.local_speech_started(1.03) == []  # already paused
    p.heard_voice(1.29)
    assert FlushPlayback() in p.tick(1.30)  # the VAD heard 270 ms of speech: confirmed


def test_a_loud_onset_that_no_speech_follows_resumes_the_reply():
    p = policy(Mode.LOCAL_VAD, resume_after_ms=500)
    speak_reply(p)
    p.barge_in_heard(1.0)
    assert p.tick(1.4) == [] and p.tick(1.5) == [ResumePlayback()]


def test_a_loud_onset_means_nothing_when_no_reply_plays_or_in_push_to_talk():
    assert policy(Mode.SERVER_VAD).barge_in_heard(1.0) == []
    p = policy(Mode.PUSH_TO_TALK)
    speak_reply(p)
    assert p.barge_in_heard(1.0) == []


@pytest.mark.parametrize("mode", [Mode.SERVER_VAD, Mode.SEMANTIC_VAD])
def test_service_vad_modes_hold_the_mic_back_while_the_reply_plays(mode):
    """Whatever echo cancellation leaves of the reply must not reach the service's VAD."""
    p = policy(mode)
    assert StreamMic(False) in speak_reply(p)
    assert StreamMic(False) not in p.on_event(
        ev.AudioDelta("resp_1", "item_a", b"\x00\x00")
    )  # once
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    assert p.playback_drained() == [StreamMic(True, 0), PhaseChanged(Phase.LISTENING)]


def test_push_to_talk_and_local_vad_never_gate_the_mic():
    for mode in (Mode.PUSH_TO_TALK, Mode.LOCAL_VAD):
        p = policy(mode)
        assert not any(isinstance(a, StreamMic) for a in speak_reply(p))


# ---- found by the model (tests/test_turns_model.py), kept as plain tests ----


def test_typing_twice_before_the_first_reply_starts_asks_for_one_reply_at_a_time():
    p = policy()
    assert sent(p.typed("hi")) == [cmd.SendText("hi"), cmd.CreateResponse()]
    assert sent(p.typed("hi")) == [cmd.SendText("hi")]  # the first create is still unanswered
    p.on_event(ev.ResponseStarted("resp_1"))
    assert sent(p.on_event(ev.ResponseDone("resp_1", "completed"))) == [cmd.CreateResponse()]


def test_a_refused_cancel_does_not_free_a_second_response_create():
    """`response_cancel_not_active` answers our cancel, not our create: still one at a time."""
    p = policy()
    p.typed("hi")
    p.on_event(ev.ServerError("response_cancel_not_active", "no active response"))
    assert sent(p.typed("again")) == [cmd.SendText("again")]


def test_a_failed_create_is_not_waited_for_forever():
    p = policy()
    p.typed("hi")
    p.on_event(ev.ServerError("invalid_request_error", "bad"))
    assert cmd.CreateResponse() in sent(p.typed("again"))


def test_typing_while_holding_the_button_keeps_the_users_turn_and_one_reply_answers_both():
    p = policy()
    p.press(0.0)
    typed = p.typed("and in Celsius")
    assert sent(typed) == [cmd.SendText("and in Celsius")] and p.phase is Phase.USER_SPEAKING
    assert sent(p.release(1.0)) == [cmd.CommitAudio(), cmd.CreateResponse()]
    assert p.phase is Phase.WAITING


def test_typing_while_the_service_hears_the_user_keeps_the_users_turn():
    p = policy(Mode.SERVER_VAD)
    p.on_event(ev.SpeechStarted("item_u", 0))
    assert sent(p.typed("hi")) == [cmd.SendText("hi")] and p.phase is Phase.USER_SPEAKING


def test_typing_while_holding_a_press_too_short_to_send_still_gets_its_reply():
    p = policy()
    p.press(0.0)
    p.typed("hi")
    assert sent(p.release(0.05)) == [cmd.ClearAudio(), cmd.CreateResponse()]
    assert p.phase is Phase.WAITING


def test_a_barge_in_on_a_reply_of_two_items_cuts_the_one_playing_and_the_one_queued():
    """Both items' audio queued, the first playing: it is cut where heard, the second at 0."""
    p = policy(Mode.SERVER_VAD)
    speak_reply(p, "resp_1", "item_a")
    p.on_event(ev.AudioDelta("resp_1", "item_b", b"\x00\x00" * 480))
    interrupted = p.on_event(ev.SpeechStarted("item_u", 0))
    assert [a for a in interrupted if isinstance(a, Interrupt)] == [
        Interrupt("item_a"),
        Interrupt("item_b"),
    ]


def test_an_item_that_played_in_full_is_not_cut():
    p = policy(Mode.SERVER_VAD)
    speak_reply(p, "resp_1", "item_a")
    p.on_event(ev.AudioDelta("resp_1", "item_b", b"\x00\x00" * 480))
    assert p.item_audible("item_b") == []  # the output reached item_b: item_a played in full
    interrupted = p.on_event(ev.SpeechStarted("item_u", 0))
    assert [a for a in interrupted if isinstance(a, Interrupt)] == [Interrupt("item_b")]


# ---- the behaviours a mutation audit found untested (issue 23) ----


@pytest.mark.parametrize("spoken_ms, confirmed", [(249, False), (250, True)])
def test_a_barge_in_paused_before_the_speech_onset_is_confirmed_at_confirm_ms_not_before(
    spoken_ms, confirmed
):
    """The loud onset pauses the reply 100 ms before the VAD hears speech: voice outlives the
    echo tail long before `confirm_ms` of speech; only the speech's own length confirms."""
    p = policy(Mode.SERVER_VAD, confirm_ms=250, echo_tail_ms=150, resume_after_ms=2000)
    speak_reply(p)
    assert PausePlayback() in p.barge_in_heard(1.0)
    p.local_speech_started(1.1)
    now = 1.1 + spoken_ms / 1000
    p.heard_voice(now)  # voiced all along: 1000 * (now - 1.0) >= 150 after the pause
    ticked = p.tick(now)
    assert (FlushPlayback() in ticked) is confirmed
    assert (Interrupt("item_a") in ticked) is confirmed


@pytest.mark.parametrize("mode", [Mode.SERVER_VAD, Mode.LOCAL_VAD])
def test_a_hands_free_barge_in_on_the_second_reply_cuts_the_second_reply(mode):
    p = policy(mode)
    speak_reply(p, "resp_1", "item_a")
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    p.playback_drained()  # the first reply played in full
    speak_reply(p, "resp_2", "item_b")
    p.local_speech_started(5.0)
    p.heard_voice(5.3)
    confirmed = p.tick(5.3)
    assert [a for a in confirmed if isinstance(a, Interrupt)] == [Interrupt("item_b")]
    assert cmd.CancelResponse("resp_2") in sent(confirmed)


def phases(actions):
    return [a.phase for a in actions if isinstance(a, PhaseChanged)]


def test_the_phase_through_an_interruption_in_push_to_talk():
    p = policy()
    trace = phases(p.press(0.0)) + phases(p.release(1.0))
    trace += phases(speak_reply(p))
    trace += phases(p.press(2.0))  # talks over the reply
    # the cancelled reply's end arrives while the button is still held: still the user's turn
    trace += phases(p.on_event(ev.ResponseDone("resp_1", "cancelled", reason="client_cancelled")))
    assert p.phase is Phase.USER_SPEAKING
    trace += phases(p.release(3.0))
    trace += phases(speak_reply(p, "resp_2", "item_b"))
    trace += phases(p.on_event(ev.ResponseDone("resp_2", "completed"))) + phases(
        p.playback_drained()
    )
    assert trace == [
        Phase.USER_SPEAKING,
        Phase.WAITING,
        Phase.ASSISTANT_SPEAKING,
        Phase.USER_SPEAKING,
        Phase.WAITING,
        Phase.ASSISTANT_SPEAKING,
        Phase.LISTENING,
    ]


def test_the_phase_through_an_interruption_with_the_services_vad():
    p = policy(Mode.SERVER_VAD)
    trace = phases(p.on_event(ev.SpeechStarted("item_u1", 0)))
    trace += phases(p.on_event(ev.SpeechStopped("item_u1", 900)))
    trace += phases(speak_reply(p))
    trace += phases(p.local_speech_started(2.0))  # paused: still the reply's phase until confirmed
    trace += phases(p.on_event(ev.SpeechStarted("item_u2", 2000)))
    trace += phases(p.on_event(ev.ResponseDone("resp_1", "cancelled", reason="turn_detected")))
    assert p.phase is Phase.USER_SPEAKING  # the user is still talking
    trace += phases(p.on_event(ev.SpeechStopped("item_u2", 3000)))
    trace += phases(speak_reply(p, "resp_2", "item_b"))
    trace += phases(p.on_event(ev.ResponseDone("resp_2", "completed"))) + phases(
        p.playback_drained()
    )
    assert trace == [
        Phase.USER_SPEAKING,
        Phase.WAITING,
        Phase.ASSISTANT_SPEAKING,
        Phase.USER_SPEAKING,
        Phase.WAITING,
        Phase.ASSISTANT_SPEAKING,
        Phase.LISTENING,
    ]


def test_a_reply_whose_audio_drained_before_its_end_arrived_gives_the_turn_back():
    """Found by the model: the last audio played out before `response.done` came; the phase
    stayed 'speaking' with nothing to play."""
    p = policy()
    p.typed("hi")
    speak_reply(p)
    assert p.playback_drained() == [] and p.phase is Phase.ASSISTANT_SPEAKING  # more may come
    assert p.on_event(ev.ResponseDone("resp_1", "completed")) == [PhaseChanged(Phase.LISTENING)]


def test_a_reply_that_asked_for_a_tool_and_drained_first_waits_for_the_next_reply():
    p = policy()
    p.typed("Use get_weather")
    speak_reply(p)
    p.on_event(ev.ToolCallRequested("call_a", "get_weather", "{}", "item_c", "resp_1"))
    p.playback_drained()
    assert p.on_event(ev.ResponseDone("resp_1", "completed")) == [PhaseChanged(Phase.WAITING)]


def test_a_press_too_short_to_send_while_a_reply_is_coming_keeps_waiting_for_it():
    """Found by the model: 'listening' (your turn) while the typed message's reply was on its
    way."""
    p = policy()
    p.typed("hi")
    p.press(1.0)
    released = p.release(1.05)
    assert Hint(SHORT_PRESS_HINT) in released and p.phase is Phase.WAITING


def test_a_barge_in_confirmed_locally_in_server_vad_mode_stops_saying_speaking():
    """Found by the model: after a lost connection no service confirms; the local VAD did, and
    the phase stayed 'assistant speaking' with the reply silenced."""
    p = policy(Mode.SERVER_VAD)
    speak_reply(p)
    p.connection_lost()
    p.start()
    p.local_speech_started(2.0)
    p.heard_voice(2.3)
    confirmed = p.tick(2.3)
    assert FlushPlayback() in confirmed and p.phase is Phase.LISTENING


def test_a_lost_connection_resumes_a_paused_reply_and_closes_the_mic():
    """What was received keeps playing: a barge-in pending when the session went is void."""
    p = policy(Mode.SERVER_VAD)
    speak_reply(p)
    p.barge_in_heard(1.0)
    lost = p.connection_lost()
    assert lost[:2] == [StreamMic(False), ResumePlayback()] and p.phase is Phase.ASSISTANT_SPEAKING
    assert p.tick(5.0) == []  # no pause left to confirm or abandon
