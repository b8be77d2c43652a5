"""The level meter stays cheap: it repaints only on change, at most 30 times a second, and not
at all while hidden or minimised (real widgets, offscreen Qt)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QVBoxLayout, QWidget

from talkapp.ui import level_meter
from talkapp.ui.level_meter import LevelMeter


@pytest.fixture
def meter(qtbot, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(level_meter.time, "monotonic", lambda: clock[0])
    window = QWidget()
    layout = QVBoxLayout(window)
    widget = LevelMeter("Microphone level")
    layout.addWidget(widget)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    widget.clock = clock  # type: ignore[attr-defined]
    widget.holder = window  # type: ignore[attr-defined]  # keeps the window alive
    return widget


def test_repaints_only_when_the_bar_changes(meter):
    meter.set_level(-20.0)
    assert meter.repaints == 1 and meter.value > 0
    for _ in range(5):
        meter.clock[0] += 0.1
        meter.set_level(-20.0)  # the same level: nothing to draw
    assert meter.repaints == 1
    assert meter.accessibleDescription() == "-20 dBFS"


def test_at_most_thirty_repaints_a_second(meter):
    for i in range(300):  # a second of levels polled at 300 Hz, each one different
        meter.clock[0] += 1 / 300
        meter.set_level(-50.0 + (i % 2) * 40)
    assert 25 <= meter.repaints <= 30


def test_nothing_while_hidden_or_minimised(meter, qtbot):
    meter.holder.hide()
    meter.clock[0] += 1
    meter.set_level(-10.0)
    assert meter.repaints == 0 and meter.value == 0
    meter.holder.show()
    qtbot.waitExposed(meter.holder)
    meter.holder.showMinimized()
    meter.clock[0] += 1
    meter.set_level(-10.0)
    if meter.holder.isMinimized():  # offscreen Qt may refuse to minimise: then it is shown
        assert meter.repaints == 0
    meter.holder.showNormal()
    meter.clock[0] += 1
    meter.set_level(-10.0)
    assert meter.value > 0
