"""The Audio tab: devices, a mic test with a live meter, a test tone, echo handling and the
local voice detection.

Device listing, the mic test and the tone run on Tasks lanes (PortAudio blocks); the meter is
a ~30 Hz timer that reads the mic test's `level_dbfs`, a plain float (the same crossing the
main window's meters use: levels are polled, audio never reaches the UI thread).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from talkapp.audio import devices
from talkapp.audio.devices import DeviceInfo, DeviceKey
from talkapp.audio.probe import MicMeter, ProbeError, TonePlayer
from talkapp.settings.model import AUDIO_BLOCKS_MS, AudioSettings
from talkapp.ui.tasks import Outcome, Tasks

METER_FLOOR_DB = -60
ECHO_MODES = (
    (
        "aec",
        "&Echo cancellation",
        "For speakers: the mic hears you, not the reply, so you can talk over it to interrupt.",
    ),
    (
        "gate",
        "Echo &gate",
        (
            "Lowers the mic while the reply plays; speak up to interrupt. For when cancellation "
            "is unavailable."
        ),
    ),
    (
        "headset",
        "&Headset",
        "No processing: the reply cannot reach the mic. Best quality with headphones.",
    ),
)


AUDIO_BLOCKS = {  # AUDIO_BLOCKS_MS, as the user chooses among them
    5: "5 ms: replies start soonest (default)",
    10: "10 ms: steadier on a busy computer",
    20: "20 ms: for virtual machines and remote desktops",
}


def level_text(dbfs: float) -> str:
    return "silent" if dbfs < METER_FLOOR_DB else f"{dbfs:.0f} dBFS"


SessionRescan = Callable[[], "concurrent.futures.Future[bool] | None"]
SESSION_RESCAN_WAIT_S = 30.0  # the session re-scans once nobody talks and nothing plays


def listing(session_rescan: SessionRescan | None = None) -> tuple[list[DeviceInfo], str]:
    """On a worker thread: PortAudio's devices, re-scanned first (a re-scan is how PortAudio
    notices devices plugged in since it started). While a session holds the devices, its
    engine re-scans at its next quiet moment (`session_rescan`), and this waits for it."""
    note = ""
    try:
        devices.rescan()
    except devices.DevicesBusy:
        if not _rescanned_by_session(session_rescan):
            note = (
                "Devices plugged in since TalkApp started appear once it is not talking (and "
                "the microphone test is off); then choose Refresh."
            )
    return devices.list_devices(), note


def _rescanned_by_session(session_rescan: SessionRescan | None) -> bool:
    waiting = session_rescan() if session_rescan is not None else None
    if waiting is None:
        return False
    try:
        if waiting.result(timeout=SESSION_RESCAN_WAIT_S):
            return True
    except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
        return False
    try:  # the session ended meanwhile (its streams are closed), or the mic test is on
        return devices.rescan()
    except devices.DevicesBusy:
        return False


class AudioPage(QWidget):
    edited = Signal()
    devices_listed = Signal()
    mic_test_ended = Signal(str)  # the status line once the mic test has closed its stream
    tone_ended = Signal(str)  # the status line once the tone has played and its stream closed

    def __init__(
        self,
        audio: AudioSettings,
        tasks: Tasks,
        parent: QWidget | None = None,
        session_rescan: SessionRescan | None = None,
    ) -> None:
        """`session_rescan`: asks the running session to re-scan the devices (the
        controller's `rescan_devices`)."""
        super().__init__(parent)
        self._tasks = tasks
        self._session_rescan = session_rescan
        self._meter: MicMeter | None = None
        self._tone: TonePlayer | None = None
        self._restart = False  # the mic test stops to reopen on another device

        self.input = QComboBox()
        self.input.setAccessibleName("Microphone")
        self.input.setToolTip("The microphone TalkApp listens to.")
        self.output = QComboBox()
        self.output.setAccessibleName("Speaker")
        self.output.setToolTip("Where replies are played.")
        for combo, key in ((self.input, audio.input_device), (self.output, audio.output_device)):
            combo.addItem("System default", None)
            if key is not None:
                combo.addItem(str(key), key)
                combo.setCurrentIndex(1)
            combo.currentIndexChanged.connect(self._device_changed)
        self.refresh_button = QPushButton("Re&fresh")
        self.refresh_button.setToolTip(
            "Look again for microphones and speakers (after plugging one in)."
        )
        self.refresh_button.clicked.connect(self.list_devices)
        self.block = QComboBox()
        self.block.setAccessibleName("Audio block")
        for ms in AUDIO_BLOCKS_MS:
            self.block.addItem(AUDIO_BLOCKS[ms], ms)
        self.block.setCurrentIndex(max(0, self.block.findData(audio.block_ms)))
        self.block.setToolTip(
            "How much audio moves at a time. Smaller blocks let you hear the reply sooner; "
            "larger ones ride out a busy or virtual machine without crackles."
        )
        self.block.currentIndexChanged.connect(self.edited)
        self.keep_speaker_open = QCheckBox("Keep the spea&ker open between replies")
        self.keep_speaker_open.setChecked(audio.keep_speaker_open)
        self.keep_speaker_open.setToolTip(
            "Plays silence between replies, so that Bluetooth headphones that doze off do not "
            "cut off the first word of a reply. Costs a little battery while you wait."
        )
        self.keep_speaker_open.toggled.connect(self.edited)
        self.device_note = QLabel("Looking for audio devices…")
        self.device_note.setWordWrap(True)

        self.mic_button = QPushButton("&Test microphone")
        self.mic_button.setCheckable(True)
        self.mic_button.setToolTip(
            "Listen to the microphone here: the level bar beside moves as you speak."
        )
        self.mic_button.toggled.connect(self._mic_toggled)
        self.meter = QProgressBar()
        self.meter.setRange(METER_FLOOR_DB, 0)
        self.meter.setValue(METER_FLOOR_DB)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Microphone level")
        self.meter_label = QLabel(level_text(float("-inf")))
        self.meter_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("-60 dBFS  "))
        self.mic_status = QLabel("Start the test and speak: the bar should move.")
        self.mic_status.setWordWrap(True)
        self.tone_button = QPushButton("&Play test tone")
        self.tone_button.setToolTip("Play a short tone on the speaker chosen above.")
        self.tone_button.clicked.connect(self._play_tone)
        self.tone_status = QLabel()
        self.tone_status.setWordWrap(True)
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._poll_level)

        devices_box = QGroupBox("Devices")
        grid = QGridLayout(devices_box)
        label_in, label_out = QLabel("&Microphone:"), QLabel("&Speaker:")
        label_in.setBuddy(self.input)
        label_out.setBuddy(self.output)
        grid.addWidget(label_in, 0, 0)
        grid.addWidget(self.input, 0, 1)
        grid.addWidget(self.refresh_button, 0, 2)
        meter_row = QHBoxLayout()
        meter_row.addWidget(self.mic_button)
        meter_row.addWidget(self.meter, 1)
        meter_row.addWidget(self.meter_label)
        grid.addLayout(meter_row, 1, 1, 1, 2)
        grid.addWidget(self.mic_status, 2, 1, 1, 2)
        grid.addWidget(label_out, 3, 0)
        grid.addWidget(self.output, 3, 1)
        tone_row = QHBoxLayout()
        tone_row.addWidget(self.tone_button)
        tone_row.addWidget(self.tone_status, 1)
        grid.addLayout(tone_row, 4, 1, 1, 2)
        label_block = QLabel("Audio &block:")
        label_block.setBuddy(self.block)
        grid.addWidget(label_block, 5, 0)
        grid.addWidget(self.block, 5, 1)
        grid.addWidget(self.keep_speaker_open, 6, 1, 1, 2)
        grid.addWidget(self.device_note, 7, 0, 1, 3)
        grid.setColumnStretch(1, 1)

        echo_box = QGroupBox("When the reply plays on speakers")
        echo_layout = QVBoxLayout(echo_box)
        self.echo = QButtonGroup(self)
        self.echo_buttons: dict[str, QRadioButton] = {}
        for value, text, explanation in ECHO_MODES:
            button = QRadioButton(text)
            button.setToolTip(explanation)
            note = QLabel(explanation)
            note.setWordWrap(True)
            note.setIndent(24)
            self.echo.addButton(button)
            self.echo_buttons[value] = button
            echo_layout.addWidget(button)
            echo_layout.addWidget(note)
        self.echo_buttons.get(audio.echo, self.echo_buttons["aec"]).setChecked(True)
        self.echo.buttonToggled.connect(self._echo_toggled)

        vad_box = QGroupBox("TalkApp's own voice detection (hands-free with local VAD)")
        vad_form = QFormLayout(vad_box)
        vad_form.setFieldGrowthPolicy(
            QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint
        )  # short numbers
        self.aggressiveness = QSpinBox()
        self.aggressiveness.setRange(0, 3)
        self.aggressiveness.setValue(audio.vad_aggressiveness)
        self.aggressiveness.setToolTip("0 hears the most as speech; 3 ignores the most noise.")
        vad_form.addRow("&Aggressiveness (0–3):", self.aggressiveness)
        self.silence = QSpinBox()
        self.silence.setRange(100, 5000)
        self.silence.setSingleStep(50)
        self.silence.setSuffix(" ms")
        self.silence.setValue(audio.silence_ms)
        self.silence.setToolTip("How long you pause before your turn ends.")
        vad_form.addRow("Silence that ends a tur&n:", self.silence)
        self.aggressiveness.valueChanged.connect(self.edited)
        self.silence.valueChanged.connect(self.edited)

        layout = QVBoxLayout(self)
        layout.addWidget(devices_box)
        layout.addWidget(echo_box)
        layout.addWidget(vad_box)
        layout.addStretch(1)
        self._listed_once = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._listed_once:  # PortAudio is only asked once someone looks at this tab
            self._listed_once = True
            self.list_devices()

    # ---- what the dialog reads ----

    def settings(self) -> AudioSettings:
        echo = next(v for v, b in self.echo_buttons.items() if b.isChecked())
        return AudioSettings(
            input_device=self.input.currentData(),
            output_device=self.output.currentData(),
            echo=echo,
            vad_aggressiveness=self.aggressiveness.value(),
            silence_ms=self.silence.value(),
            block_ms=self.block.currentData(),
            keep_speaker_open=self.keep_speaker_open.isChecked(),
        )

    def stop(self) -> None:
        """The dialog is closing: end the checks (their worker closes the streams)."""
        self._timer.stop()
        for probe in (self._meter, self._tone):
            if probe is not None:
                probe.stop()

    def _echo_toggled(self, _button, checked: bool) -> None:
        if checked:
            self.edited.emit()

    # ---- devices ----

    def list_devices(self) -> None:
        self.refresh_button.setEnabled(False)
        self._tasks.run(lambda: listing(self._session_rescan), self._listed, lane="devices")

    def _listed(self, outcome: Outcome) -> None:
        self.refresh_button.setEnabled(True)
        if outcome.error is not None:
            message = (
                str(outcome.error)
                if isinstance(outcome.error, devices.AudioUnavailable)
                else (f"The audio devices could not be listed ({outcome.error}).")
            )
            self.device_note.setText(message)
            return
        found, note = outcome.value
        for combo, kind in ((self.input, "input"), (self.output, "output")):
            self._fill(combo, [d for d in found if d.channels(kind) > 0], kind)
        self.device_note.setText(
            note or ("No audio devices found: is a sound server running?" if not found else "")
        )
        self.device_note.setVisible(bool(self.device_note.text()))
        self.devices_listed.emit()

    def _fill(self, combo: QComboBox, usable: list[DeviceInfo], kind: str) -> None:
        chosen: DeviceKey | None = combo.currentData()
        blocked = combo.blockSignals(True)
        combo.clear()
        default = next(
            (d for d in usable if (d.is_default_input if kind == "input" else d.is_default_output)),
            None,
        )
        label = "System default"
        if default is not None and default.name.lower() != "default":  # ALSA's is called "default"
            label = f"System default — {default.name}"
        combo.addItem(label, None)
        for d in usable:
            combo.addItem(str(d.key), d.key)
        if chosen is not None and combo.findData(chosen) < 0:
            combo.addItem(f"{chosen} — not connected", chosen)  # keep the choice until it returns
        combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
        combo.blockSignals(blocked)

    def _device_changed(self) -> None:
        self.edited.emit()
        if (
            self.mic_button.isChecked()
            and self._meter is not None
            and self._meter.key != self.input.currentData()
        ):
            self._meter.stop()  # its end restarts the test on the new device
            self._restart = True

    # ---- mic test ----

    def _mic_toggled(self, on: bool) -> None:
        self._restart = False
        if on:
            self._start_meter()
        elif self._meter is not None:
            self._meter.stop()

    def _start_meter(self) -> None:
        meter = self._meter = MicMeter(self.input.currentData())
        self.mic_button.setText("Stop microphone &test")
        self.mic_status.setText("Speak: the bar should move.")
        self._timer.start()
        self._tasks.run(meter.run, lambda outcome: self._meter_ended(meter, outcome), lane="mic")

    def _meter_ended(self, meter: MicMeter, outcome: Outcome) -> None:
        if meter is not self._meter:
            return
        self._meter = None
        self._timer.stop()
        self._show_level(float("-inf"))
        if outcome.error is not None:
            status = (
                str(outcome.error)
                if isinstance(outcome.error, (ProbeError, devices.AudioUnavailable))
                else (f"The microphone test failed ({outcome.error}).")
            )
            blocked = self.mic_button.blockSignals(True)
            self.mic_button.setChecked(False)
            self.mic_button.blockSignals(blocked)
        elif self._restart and self.mic_button.isChecked():
            self._restart = False
            self._start_meter()
            return
        else:
            status = f"Microphone test ended ({outcome.value})."
        self.mic_button.setText("&Test microphone")
        self.mic_status.setText(status)
        self.mic_test_ended.emit(status)

    def _poll_level(self) -> None:
        if self._meter is not None:
            self._show_level(self._meter.level_dbfs)

    def _show_level(self, dbfs: float) -> None:
        self.meter.setValue(
            max(METER_FLOOR_DB, min(0, round(dbfs))) if dbfs > METER_FLOOR_DB else METER_FLOOR_DB
        )
        self.meter_label.setText(level_text(dbfs))

    # ---- tone ----

    def _play_tone(self) -> None:
        tone = self._tone = TonePlayer(self.output.currentData())
        self.tone_button.setEnabled(False)
        self.tone_status.setText("Playing a one-second tone…")
        self._tasks.run(tone.run, lambda outcome: self._tone_ended(tone, outcome), lane="tone")

    def _tone_ended(self, tone: TonePlayer, outcome: Outcome) -> None:
        self._tone = None
        self.tone_button.setEnabled(True)
        if outcome.error is not None:
            status = (
                str(outcome.error)
                if isinstance(outcome.error, (ProbeError, devices.AudioUnavailable))
                else (f"The test tone failed ({outcome.error}).")
            )
        else:
            status = f"Played on {outcome.value}. Heard it? Then this speaker works."
        self.tone_status.setText(status)
        self.tone_ended.emit(status)
