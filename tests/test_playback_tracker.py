"""What the user heard of each reply item, from ring positions (device frames)."""

from talkapp.session.playback import PlaybackTracker


def test_heard_is_what_the_output_callback_consumed_of_the_item():
    t = PlaybackTracker(device_rate=48000)
    t.wrote("a", ring_position_before=0, wire_ms=100)
    t.wrote("a", ring_position_before=4800, wire_ms=100)
    assert t.received_ms("a") == 200
    assert t.heard_ms("a", played_position=2400) == 50
    assert t.heard_ms("a", played_position=48000) == 200  # never past what was received


def test_the_resampler_delay_is_not_counted_as_heard():
    t = PlaybackTracker(device_rate=48000, latency_frames=48)  # 1 ms of filter look-ahead
    t.wrote("a", 0, 100)
    assert t.heard_ms("a", 48) == 0
    assert t.heard_ms("a", 48 + 480) == 10


def test_a_second_item_starts_where_it_was_written():
    t = PlaybackTracker(device_rate=24000)
    t.wrote("a", 0, 500)
    t.wrote("b", 12000, 300)
    assert t.heard_ms("b", 12000 + 2400) == 100
    assert t.heard_ms("b", 6000) == 0  # still playing "a"
    assert t.heard_ms("unknown", 99999) == 0


def test_heard_is_rounded_to_the_nearest_millisecond_but_never_past_what_arrived():
    t = PlaybackTracker(device_rate=48000)
    t.wrote("a", 0, 100.6)
    assert t.heard_ms("a", 2423) == 50  # 50.48 ms
    assert t.heard_ms("a", 2425) == 51  # 50.52 ms: flooring said 50
    assert t.heard_ms("a", 4830) == 100  # 100.63 ms played, but only 100.6 ms arrived


def test_the_item_at_a_position_is_the_one_the_output_was_playing_there():
    t = PlaybackTracker(device_rate=24000, latency_frames=24)
    assert t.item_at(0) is None
    t.wrote("a", 0, 500)
    t.wrote("b", 12000, 300)
    assert t.item_at(0) is None  # the resampler's delay: nothing of "a" handed over yet
    assert [t.item_at(p) for p in (24, 12023, 12024, 99999)] == ["a", "a", "b", "b"]
