"""The settings' device list during a session, with the real window and settings pane
(offscreen) and the private PulseAudio: Refresh finds a device plugged in since the session
started (the engine re-scans at a quiet moment), and the conversation goes on in the same
session with its transcript."""

from PySide6.QtCore import Qt
from test_ui_main import WAIT, desktop, replies, wait_live  # noqa: F401  (fixture, helpers)

from talkapp.session.engine_events import State

NEW_PCM = "talkapp_new_headset"


def type_message(qtbot, window, text: str) -> None:
    message = window.transcript.message.edit
    qtbot.keyClicks(message, text)
    qtbot.keyClick(message, Qt.Key.Key_Return)


def session_notes(window) -> int:
    return window.transcript.view.toPlainText().count("session started")


def test_refresh_during_a_session_lists_a_new_device_and_the_conversation_goes_on(
    qtbot,
    pulse,
    desktop,  # noqa: F811
):
    window = desktop().window
    wait_live(qtbot, window)
    type_message(qtbot, window, "Remember the number seven.")
    qtbot.waitUntil(lambda: len(replies(window)) == 1, timeout=WAIT)
    wait_live(qtbot, window)
    asoundrc = pulse.dir / "home" / ".asoundrc"
    original = asoundrc.read_text()
    asoundrc.write_text(original + f"pcm.{NEW_PCM} {{ type pulse device speaker }}\n")
    try:
        window.open_settings("audio")
        page = window.settings_dialog.audio
        qtbot.waitUntil(lambda: page.refresh_button.isEnabled(), timeout=WAIT)
        qtbot.waitUntil(lambda: page.output.findText("talkapp_speaker (ALSA)") >= 0, timeout=WAIT)
        assert page.output.findText(f"{NEW_PCM} (ALSA)") >= 0  # seen: PortAudio re-scanned
        assert page.device_note.isHidden()  # no "appear once it is not talking"
        asoundrc.write_text(original)  # unplugged again: Refresh forgets it
        qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.output.findText(f"{NEW_PCM} (ALSA)") < 0, timeout=WAIT)
        window.settings_dialog.reject()
    finally:
        asoundrc.write_text(original)
    type_message(qtbot, window, "And now?")
    qtbot.waitUntil(lambda: len(replies(window)) == 2, timeout=WAIT)
    assert session_notes(window) == 1  # the same session: no reconnect
    shown = window.transcript.view.toPlainText()
    assert "Remember the number seven." in shown and "And now?" in shown
    qtbot.waitUntil(lambda: window.state is State.LISTENING, timeout=WAIT)
