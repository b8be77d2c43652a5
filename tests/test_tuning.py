"""Live-audio tuning is process-wide, so it is applied only where a composition root asks for
it, and taken back when that root is done."""

import gc
import sys

from talkapp.threads.tuning import UNTUNED, tuned_for_live_audio


def test_the_tuning_holds_inside_its_block_and_is_taken_back_after():
    before = sys.getswitchinterval()
    gc.unfreeze()  # whatever an earlier test froze: count from nothing
    kept = [object() for _ in range(1000)]  # survivors for the freeze to keep
    with tuned_for_live_audio() as tuning:
        assert sys.getswitchinterval() == 0.001
        tuning.settle_heap()
        assert gc.get_freeze_count() >= len(kept)
    assert sys.getswitchinterval() == before
    assert gc.get_freeze_count() == 0


def test_untuned_hooks_change_nothing():
    before = sys.getswitchinterval()
    gc.unfreeze()
    UNTUNED.settle_heap()
    UNTUNED.freeze_heap()
    assert sys.getswitchinterval() == before and gc.get_freeze_count() == 0
