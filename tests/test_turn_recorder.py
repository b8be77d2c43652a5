"""The bookkeeping of one turn, without sockets: events and times in, the turn's facts out."""

from talkapp.protocol import events as ev
from talkapp.session.client import SessionEnded
from talkapp.session.one_turn import TurnRecorder


def _recorded(*timed_events, committed_at=10.0):
    recorder = TurnRecorder(committed_at=committed_at)
    for at, event in timed_events:
        recorder.add(event, at, explain=lambda e: f"explained {e.code}")
    return recorder


def test_timings_count_from_the_commit_and_keep_the_first_of_each_kind():
    r = _recorded(
        (10.05, ev.TranscriptDelta("assistant", "i", "Hel")),
        (10.06, ev.AudioDelta("r", "i", b"\x00\x00" * 10)),
        (10.07, ev.AudioDelta("r", "i", b"\x00\x00" * 10)),
        (10.20, ev.TranscriptDelta("user", "u", "hi")),
        (10.90, ev.ResponseDone("r", "completed", usage=ev.Usage(input_audio=5, output_audio=40))),
    )
    t = r.timings(connect_s=0.0123)
    assert (t.connect, t.first_transcript, t.first_audio, t.first_input_transcript, t.done) == (
        12.3,
        50.0,
        60.0,
        200.0,
        900.0,
    )
    assert len(r.audio) == 40
    assert r.reply_finished and r.failure is None


def test_final_transcripts_replace_the_deltas():
    r = _recorded(
        (10.1, ev.TranscriptDelta("user", "u", "helo")),
        (10.2, ev.TranscriptDone("user", "u", "hello")),
        (10.3, ev.TranscriptDelta("assistant", "a", "Hi ")),
        (10.4, ev.TranscriptDelta("assistant", "a", "there")),
    )
    assert r.user_transcript == "hello"
    assert r.assistant_transcript == "Hi there"
    r.add(ev.TranscriptDone("assistant", "a", "Hi there."), 10.5)
    assert r.assistant_transcript == "Hi there."


def test_errors_failed_responses_and_drops_become_one_readable_failure():
    assert _recorded((10.1, ev.ServerError("boom", "m"))).failure == "explained boom"
    failed = _recorded((10.1, ev.ResponseDone("r", "failed", error_code="rate_limit_exceeded")))
    assert failed.failure == "The response failed: rate_limit_exceeded"
    dropped = _recorded((10.1, SessionEnded(1006, "", True, "The connection dropped.")))
    assert dropped.failure == "The connection dropped." and dropped.reply_finished


def test_nothing_measured_before_it_happens():
    t = _recorded().timings(connect_s=0.5)
    assert t.connect == 500.0 and t.first_audio is None and t.done is None
