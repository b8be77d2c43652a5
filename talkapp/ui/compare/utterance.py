"""The Compare view's utterance: the bundled sample, a WAV or recording folder from disk, or a
fresh take from the microphone; and a Listen button to hear what will be sent.

Whatever the source, the result is 24 kHz mono PCM16 (what goes on the wire). Files are read on
a Tasks lane (a WAV on a network drive can take a while); the take and the playback run on their
own lanes (`talkapp.audio.takes`), polled by a ~30 Hz timer for the meter, as the settings pane
does.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QWidget,
)

from talkapp.audio import devices
from talkapp.audio.devices import DeviceKey
from talkapp.audio.pcm import duration_ms
from talkapp.audio.probe import ProbeError
from talkapp.audio.takes import MicTake, ReplyPlayer
from talkapp.audio.wav import WavError, read_wav_for_wire
from talkapp.session.one_turn import MIN_COMMIT_MS
from talkapp.ui.level_meter import LevelMeter
from talkapp.ui.tasks import Outcome, Tasks

SAMPLE, FILE, MIC = "sample", "file", "mic"


def read_utterance(path: Path) -> bytes:
    """A WAV file, or a recording folder's `input.wav`, as wire PCM (blocking: a worker's job)."""
    wav = path / "input.wav" if path.is_dir() else path
    if path.is_dir() and not wav.exists():
        raise WavError(f"{path} is not a recording folder (it has no input.wav)")
    return read_wav_for_wire(wav)


def read_sample() -> bytes:
    with resources.as_file(resources.files("talkapp.data").joinpath("hello.wav")) as path:
        return read_wav_for_wire(path)


def seconds(pcm: bytes) -> str:
    return f"{duration_ms(pcm) / 1000:.1f} s"


def audio_problem(error: BaseException, doing: str) -> str:
    if isinstance(error, (ProbeError, devices.AudioUnavailable, WavError)):
        return str(error)
    return f"{doing} failed ({type(error).__name__}: {error})."


class UtterancePicker(QWidget):
    changed = Signal()  # `pcm` changed (it may be None: nothing usable chosen)

    def __init__(
        self,
        tasks: Tasks,
        input_device: DeviceKey | None,
        output_device: DeviceKey | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._input, self._output = input_device, output_device
        self._audio: dict[str, tuple[bytes, str] | None] = {SAMPLE: None, FILE: None, MIC: None}
        self._take: MicTake | None = None
        self._player: ReplyPlayer | None = None

        self.sources = QButtonGroup(self)
        self.sample_radio = QRadioButton("Bundled &sample")
        self.file_radio = QRadioButton("&File:")
        self.mic_radio = QRadioButton("&Microphone:")
        for index, radio in enumerate((self.sample_radio, self.file_radio, self.mic_radio)):
            self.sources.addButton(radio, index)
        self.sample_label = QLabel("hello.wav")
        self.file_label = QLabel("none chosen")
        self.file_label.setWordWrap(True)
        self.file_button = QPushButton("&WAV file…")
        self.folder_button = QPushButton("Recordin&g folder…")
        self.folder_button.setToolTip(
            "A folder TalkApp recorded a session into: its input.wav is used"
        )
        self.record_button = QPushButton("● R&ecord")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Record a fresh take; press again to stop")
        self.meter = LevelMeter("Microphone level")
        self.take_label = QLabel("")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.listen_button = QPushButton("▶ L&isten")
        self.listen_button.setToolTip("Play the utterance that will be sent")
        self.listen_button.setEnabled(False)
        self._timer = QTimer(self, interval=33)
        self._timer.timeout.connect(self._poll)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.sample_radio, 0, 0)
        grid.addWidget(self.sample_label, 0, 1, 1, 3)
        grid.addWidget(self.file_radio, 1, 0)
        grid.addWidget(self.file_label, 1, 1)
        grid.addWidget(self.file_button, 1, 2)
        grid.addWidget(self.folder_button, 1, 3)
        grid.addWidget(self.mic_radio, 2, 0)
        take = QHBoxLayout()
        take.addWidget(self.meter, 1)
        take.addWidget(self.take_label)
        grid.addLayout(take, 2, 1)
        grid.addWidget(self.record_button, 2, 2, 1, 2)
        grid.addWidget(self.status, 3, 0, 1, 3)
        grid.addWidget(self.listen_button, 3, 3)
        grid.setColumnStretch(1, 1)

        self.sources.idToggled.connect(self._source_toggled)
        self.file_button.clicked.connect(self._choose_file)
        self.folder_button.clicked.connect(self._choose_folder)
        self.record_button.toggled.connect(self._record_toggled)
        self.listen_button.clicked.connect(self._listen_clicked)
        self.sample_radio.setChecked(True)
        self._tasks.run(read_sample, self._sample_read, lane="files")

    # ---- what the view reads ----

    @property
    def source(self) -> str:
        return (SAMPLE, FILE, MIC)[max(0, self.sources.checkedId())]

    @property
    def pcm(self) -> bytes | None:
        chosen = self._audio[self.source]
        return None if chosen is None or self.recording else chosen[0]

    @property
    def description(self) -> str:
        chosen = self._audio[self.source]
        return "" if chosen is None else chosen[1]

    @property
    def recording(self) -> bool:
        return self._take is not None

    def stop(self) -> None:
        """The view is closing: end the take and the playback (their workers close the streams)."""
        self._timer.stop()
        for probe in (self._take, self._player):
            if probe is not None:
                probe.stop()

    # ---- files ----

    def load(self, path: str | Path) -> None:
        """Use `path` (a WAV, or a recording folder) as the utterance; read off the main thread."""
        path = Path(path)
        self.file_radio.setChecked(True)
        self.file_label.setText(f"reading {path.name}…")
        self._audio[FILE] = None
        self._changed()
        self._tasks.run(
            lambda: read_utterance(path),
            lambda outcome: self._file_read(path, outcome),
            lane="files",
        )

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Utterance", str(Path.home()), "WAV audio (*.wav);;All files (*)"
        )
        if path:
            self.load(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Recording folder", str(Path.home()))
        if path:
            self.load(path)

    def _sample_read(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            self.sample_label.setText(audio_problem(outcome.error, "Reading the sample"))
        else:
            self._audio[SAMPLE] = (
                outcome.value,
                f"hello.wav (bundled sample, {seconds(outcome.value)})",
            )
            self.sample_label.setText(f"hello.wav · {seconds(outcome.value)}")
        self._changed()

    def _file_read(self, path: Path, outcome: Outcome) -> None:
        if outcome.error is not None:
            self.file_label.setText("none chosen")
            self._say(audio_problem(outcome.error, f"Reading {path}"))
        elif duration_ms(outcome.value) < MIN_COMMIT_MS:
            self.file_label.setText("none chosen")
            self._say(f"{path.name} holds only {seconds(outcome.value)} of audio.")
        else:
            what = f"{path.name}/input.wav" if path.is_dir() else path.name
            self._audio[FILE] = (outcome.value, f"{what} ({seconds(outcome.value)})")
            self.file_label.setText(f"{what} · {seconds(outcome.value)}")
            self.file_label.setToolTip(str(path))
            self._say("")
        self._changed()

    # ---- a take from the microphone ----

    def _record_toggled(self, on: bool) -> None:
        if on:
            self.mic_radio.setChecked(True)
            take = self._take = MicTake(self._input)
            self.record_button.setText("■ Stop r&ecording")
            self.take_label.setText("0.0 s")
            self._say("Recording: speak, then press Stop.")
            self._timer.start()
            self._tasks.run(take.run, lambda outcome: self._take_ended(take, outcome), lane="mic")
            self._changed()
        elif self._take is not None:
            self._take.stop()

    def _take_ended(self, take: MicTake, outcome: Outcome) -> None:
        if take is not self._take:
            return
        self._take = None
        self._timer.stop()
        self.meter.set_level(float("-inf"))
        blocked = self.record_button.blockSignals(True)
        self.record_button.setChecked(False)
        self.record_button.blockSignals(blocked)
        self.record_button.setText("● R&ecord")
        if outcome.error is not None:
            self._say(audio_problem(outcome.error, "Recording"))
        elif duration_ms(outcome.value) < MIN_COMMIT_MS:
            self._say("The take is too short: record at least a word.")
        else:
            self._audio[MIC] = (
                outcome.value,
                f"a take from the microphone ({seconds(outcome.value)})",
            )
            self.take_label.setText(seconds(outcome.value))
            self._say("")
        self._changed()

    def _poll(self) -> None:
        if self._take is not None:
            self.meter.set_level(self._take.level_dbfs)
            self.take_label.setText(f"{self._take.seconds:.1f} s")

    # ---- listening ----

    def _listen_clicked(self) -> None:
        if self._player is not None:
            self._player.stop()
            return
        pcm = self.pcm
        if pcm is None:
            return
        player = self._player = ReplyPlayer(self._output, pcm)
        self.listen_button.setText("■ Stop")
        self._tasks.run(player.run, lambda outcome: self._listened(player, outcome), lane="listen")

    def _listened(self, player: ReplyPlayer, outcome: Outcome) -> None:
        if player is self._player:
            self._player = None
            self.listen_button.setText("▶ L&isten")
            if outcome.error is not None:
                self._say(audio_problem(outcome.error, "Playing"))

    # ---- showing ----

    def _source_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._changed()

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _changed(self) -> None:
        self.listen_button.setEnabled(self.pcm is not None or self._player is not None)
        self.changed.emit()
