"""One turn-detection setting per profile, shown and changed in one place: the main window's
switch writes the hands-free VAD into the active profile (the settings pane then shows it), the
profile's "None" is push-to-talk, and each mode is explained in one line under the switch.
Real widgets (offscreen), the real Controller (not connected) and the real settings pane."""

import pytest
from PySide6.QtCore import Qt

from talkapp.controller import Controller
from talkapp.settings.model import Settings
from talkapp.ui.main.mode_switch import PUSH_TO_TALK_MEANS, VAD_KINDS
from talkapp.ui.main.window import MainWindow


@pytest.fixture
def window(qtbot):
    controller = Controller(Settings(), lambda _event: None)
    window = MainWindow(Settings(), controller)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    controller.shutdown()


def profile_turn(settings: Settings) -> str | None:
    turn = settings.active_profile().session.turn_detection
    return turn.kind if turn is not None else None


def test_the_windows_switch_edits_the_profile_and_explains_each_mode(qtbot, window):
    modes = window.talk.modes
    assert modes.explanation.text() == PUSH_TO_TALK_MEANS
    assert modes.vad.currentData() == profile_turn(window.settings) == "server_vad"

    qtbot.mouseClick(modes.hands_free, Qt.MouseButton.LeftButton)
    modes.vad.setFocus()
    qtbot.keyClick(modes.vad, Qt.Key.Key_Down)  # Semantic VAD
    assert window.settings.mode == "semantic_vad"
    assert profile_turn(window.settings) == "semantic_vad"  # the profile says the same
    assert profile_turn(window._controller.settings) == "semantic_vad"
    assert modes.explanation.text() == VAD_KINDS[1][2]
    qtbot.keyClick(modes.vad, Qt.Key.Key_Down)  # Local VAD: TalkApp's own, the profile stays
    assert window.settings.mode == "local_vad" and profile_turn(window.settings) == "semantic_vad"
    assert modes.explanation.text() == VAD_KINDS[2][2]

    window.open_settings("profiles")
    form = window.settings_dialog.profiles.form
    assert form.turn.currentData() == "semantic_vad"  # shown in the settings pane alike
    window.settings_dialog.reject()


def test_the_profiles_turn_detection_sets_the_windows_switch(qtbot, window):
    qtbot.mouseClick(window.talk.modes.hands_free, Qt.MouseButton.LeftButton)
    assert window.settings.mode == "server_vad"
    window.open_settings("profiles")
    dialog = window.settings_dialog
    form = dialog.profiles.form
    form.turn.setCurrentIndex(form.turn.findData(None))  # "None — you end each turn"
    with qtbot.waitSignal(dialog.settings_saved):
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    modes = window.talk.modes
    assert window.settings.mode == "ptt" and modes.push_to_talk.isChecked()
    assert window._controller.settings.mode == "ptt"

    window.open_settings("profiles")
    dialog = window.settings_dialog
    form = dialog.profiles.form
    form.turn.setCurrentIndex(form.turn.findData("semantic_vad"))
    with qtbot.waitSignal(dialog.settings_saved):
        qtbot.mouseClick(
            dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    assert window.settings.mode == "ptt"  # a VAD kind chosen does not open the microphone
    assert modes.vad.currentData() == "semantic_vad"  # but hands-free will use it
    qtbot.mouseClick(modes.hands_free, Qt.MouseButton.LeftButton)
    assert window.settings.mode == "semantic_vad"
