"""Turn-taking: every rule about when to listen, commit, ask for a reply, cancel and truncate.

This file owns those rules and nothing else. It is a pure state machine: user gestures
(press/release), local VAD decisions, the service's normalized events and clock ticks go in;
actions for the engine come out (protocol commands, mic gating, playback pause/flush, notes for
the transcript). It knows no audio, sockets, threads or dialects, so every rule is tested alone.

Barge-in, in one place: a push-to-talk press interrupts at once. In hands-free modes we hear
the user first, ~100 ms before the service's `speech_started`: a loud onset above the expected
echo (`barge_in_heard`, within a frame or two) or the local VAD on the echo-cancelled mic. We
then *pause* playback (silent within one block, queue kept) and interrupt for real — flush,
cancel, truncate to what was heard — once the service confirms or the local speech lasts long
enough. A false alarm resumes the reply where it paused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev


class Mode(StrEnum):
    PUSH_TO_TALK = "ptt"
    SERVER_VAD = "server_vad"
    SEMANTIC_VAD = "semantic_vad"
    LOCAL_VAD = "local_vad"

    @property
    def hands_free(self) -> bool:
        return self is not Mode.PUSH_TO_TALK

    @property
    def service_detects_turns(self) -> bool:
        return self in (Mode.SERVER_VAD, Mode.SEMANTIC_VAD)


class Phase(StrEnum):
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    WAITING = "waiting"  # the user's turn is committed; no reply audio yet
    ASSISTANT_SPEAKING = "assistant_speaking"


# ---- actions (what the engine must do) ----


@dataclass(frozen=True)
class Send:
    command: cmd.Command


@dataclass(frozen=True)
class StreamMic:
    """Forward mic audio to the service (`on`), starting with `preroll_ms` already captured."""

    on: bool
    preroll_ms: int = 0


@dataclass(frozen=True)
class Play:
    item_id: str
    pcm: bytes


@dataclass(frozen=True)
class PausePlayback:
    pass


@dataclass(frozen=True)
class ResumePlayback:
    pass


@dataclass(frozen=True)
class FlushPlayback:
    pass


@dataclass(frozen=True)
class Interrupt:
    """The reply `item_id` was cut off (after a `FlushPlayback`): the engine measures what
    the user heard of it where the flush landed, truncates the item there and marks it in the
    transcript. The policy knows no audio, so it names the item and nothing more."""

    item_id: str


@dataclass(frozen=True)
class EndOfItem:
    """The item's audio is complete: the speaker plays out its tail."""

    item_id: str


@dataclass(frozen=True)
class Hint:
    text: str


@dataclass(frozen=True)
class PhaseChanged:
    phase: Phase


@dataclass(frozen=True)
class SetTurnDetection:
    """Reconfigure the service's turn detection (None: we commit turns ourselves)."""

    turn_detection: cmd.TurnDetection | None


Action = (
    Send
    | StreamMic
    | Play
    | PausePlayback
    | ResumePlayback
    | FlushPlayback
    | Interrupt
    | EndOfItem
    | Hint
    | PhaseChanged
    | SetTurnDetection
)


@dataclass(frozen=True)
class TurnSettings:
    min_press_ms: int = 150  # shorter push-to-talk presses are dropped with a hint
    min_segment_ms: int = 200  # shorter local-VAD segments are noise, not a turn
    confirm_ms: int = 250  # local speech this long confirms a barge-in without the service
    # ... and only if the VAD still hears voice this long after the pause: by then the reply's
    # echo has died away (output block + device + room), so what is left is the user. (The
    # VAD's "speaking" state outlives the last voiced frame by its hangover: alone it would
    # confirm any echo that fooled it for 30 ms.)
    echo_tail_ms: int = 150
    resume_after_ms: int = 500  # an unconfirmed pause resumes the reply after this long
    preroll_ms: int = 300  # audio before the local VAD onset that belongs to the turn
    server_vad: cmd.TurnDetection = field(default_factory=cmd.TurnDetection)
    semantic_vad: cmd.TurnDetection = field(
        default_factory=lambda: cmd.TurnDetection(kind="semantic_vad")
    )


SHORT_PRESS_HINT = "Hold the talk button while you speak — that press was too short to send."
# Service errors this policy answers itself, so they are not shown as errors:
HANDLED_ERRORS = {
    "response_cancel_not_active",  # our cancel raced the service's own (turn_detected): benign
    "conversation_already_has_active_response",  # asked again once the active one is done
    "input_audio_buffer_commit_empty",  # a hint instead
}


class TurnPolicy:
    def __init__(self, mode: Mode, settings: TurnSettings | None = None):
        self.mode = mode
        self.settings = settings or TurnSettings()
        self.phase = Phase.LISTENING
        self._response: str | None = None  # the response being generated
        self._cancelled: set[str] = set()  # responses whose late audio must not play
        # assistant items whose audio is queued or playing, in play order; the first is the one
        # playing (as far as `item_audible` told): a reply can have several, or queue behind another
        self._queued: list[str] = []
        self._playing = False
        self._create_pending = False
        self._requested = False  # a response.create is on its way: neither started nor refused yet
        self._tool_round = False  # a reply asked for tools: the turn goes on once they answered
        self._reply_owed = (
            False  # tools answered while the user spoke: the reply waits for their turn
        )
        self._pressed_at: float | None = None
        self._speech_since: float | None = None  # local VAD: the user is speaking since
        self._paused_at: float | None = None  # barge-in heard locally, not yet confirmed
        self._voiced_at: float | None = None  # the end of the last voiced frame the local VAD heard
        self._echo_segment = (
            False  # local VAD: the segment in progress turned out to be the reply's echo
        )
        self._mic_gated = False  # service-VAD modes: the mic is held back while the reply plays

    # ---- inputs ----

    def turn_detection(self) -> cmd.TurnDetection | None:
        """What the session must be configured with for the current mode."""
        return {
            Mode.SERVER_VAD: self.settings.server_vad,
            Mode.SEMANTIC_VAD: self.settings.semantic_vad,
        }.get(self.mode)

    def start(self) -> list[Action]:
        """The session (configured with `turn_detection()`) is ready: set the mic for the mode."""
        return [StreamMic(self.mode.service_detects_turns)]

    def set_mode(self, mode: Mode) -> list[Action]:
        out: list[Action] = []
        if self.phase is Phase.USER_SPEAKING:
            out += [StreamMic(False), Send(cmd.ClearAudio())]  # drop the half-said turn
            self._go(out, Phase.LISTENING)
        self.mode, self._pressed_at, self._speech_since, self._mic_gated = mode, None, None, False
        self._echo_segment = False
        return out + [SetTurnDetection(self.turn_detection()), *self.start()]

    def press(self, now: float) -> list[Action]:
        if self.mode is not Mode.PUSH_TO_TALK or self._pressed_at is not None:
            return []
        out = self._interrupt()
        self._pressed_at = now
        out += [Send(cmd.ClearAudio()), StreamMic(True)]
        self._go(out, Phase.USER_SPEAKING)
        return out

    def release(self, now: float) -> list[Action]:
        if self._pressed_at is None:
            return []
        held_ms, self._pressed_at = 1000 * (now - self._pressed_at), None
        out: list[Action] = [StreamMic(False)]
        if held_ms < self.settings.min_press_ms:
            out += [Send(cmd.ClearAudio()), Hint(SHORT_PRESS_HINT)]
            self._go(out, Phase.LISTENING)
            return out
        return out + self._end_user_turn()

    def typed(self, text: str) -> list[Action]:
        """A typed message: it interrupts any reply and asks for a new one -- unless the user is
        speaking: then the reply to their spoken turn answers both."""
        out = self._interrupt() + [Send(cmd.SendText(text))]
        if self.phase is Phase.USER_SPEAKING:
            self._reply_owed = (
                True  # asked for when listening resumes, if the turn comes to nothing
            )
            return out
        out += self._create_response()
        self._go(out, Phase.WAITING)
        return out

    def local_speech_started(self, now: float) -> list[Action]:
        if not self.mode.hands_free:
            return []
        self._speech_since, self._echo_segment = now, False
        out: list[Action] = []
        if self._playing and self._paused_at is None:
            self._paused_at = now
            out += [PausePlayback(), *self._ungate_mic()]
        if self.mode is Mode.LOCAL_VAD:
            out += [Send(cmd.ClearAudio()), StreamMic(True, self.settings.preroll_ms)]
            self._go(out, Phase.USER_SPEAKING)
        return out

    def barge_in_heard(self, now: float) -> list[Action]:
        """The mic rose well above the expected echo while the reply plays: very likely the
        user talking over it, heard before the VAD can be sure. Pause; the VAD or the service
        confirms, or the reply resumes."""
        if not self.mode.hands_free or not self._playing or self._paused_at is not None:
            return []
        self._paused_at = now
        return [PausePlayback(), *self._ungate_mic()]

    def local_speech_stopped(self, now: float) -> list[Action]:
        if self._speech_since is None:
            return []
        spoke_ms, self._speech_since = 1000 * (now - self._speech_since), None
        if self.mode is not Mode.LOCAL_VAD:
            return []
        if self._echo_segment:  # already dropped when the reply resumed
            self._echo_segment = False
            return []
        out: list[Action] = [StreamMic(False)]
        if spoke_ms < self.settings.min_segment_ms:
            out.append(Send(cmd.ClearAudio()))
            self._go(out, Phase.ASSISTANT_SPEAKING if self._playing else Phase.LISTENING)
            return out
        return out + self._interrupt_if_pending() + self._end_user_turn()

    def heard_voice(self, at: float) -> None:
        """The local VAD judged a frame voiced, ending at `at` (raw frames, no hangover)."""
        self._voiced_at = at if self._voiced_at is None else max(self._voiced_at, at)

    def tick(self, now: float) -> list[Action]:
        """Called every block or so: confirms or abandons a pending barge-in."""
        if self._paused_at is None:
            return []
        voice_outlived_echo = (
            self._voiced_at is not None
            and 1000 * (self._voiced_at - self._paused_at) >= self.settings.echo_tail_ms
        )
        if (
            self._speech_since is not None
            and voice_outlived_echo
            and 1000 * (now - self._speech_since) >= self.settings.confirm_ms
        ):
            cut = self._interrupt()
            if self.phase is Phase.ASSISTANT_SPEAKING:  # service VAD: listening until it hears them
                self._go(cut, Phase.LISTENING)
            return cut
        if (
            not voice_outlived_echo
            and 1000 * (now - self._paused_at) >= self.settings.resume_after_ms
        ):
            self._paused_at = None
            out: list[Action] = [ResumePlayback(), *self._gate_mic()]
            if self.mode is Mode.LOCAL_VAD and self._speech_since is not None:
                # the segment the VAD opened is echo: drop it now, ignore its end when it comes
                self._echo_segment = True
                out += [StreamMic(False), Send(cmd.ClearAudio())]
                self._go(out, Phase.ASSISTANT_SPEAKING if self._playing else Phase.LISTENING)
            return out
        return []

    def connection_lost(self) -> list[Action]:
        """The session is gone: nothing in flight will be answered. Audio already received
        keeps playing; the half-said turn is dropped (a new session starts with an empty buffer)."""
        self._response, self._create_pending, self._cancelled = None, False, set()
        self._requested = False
        self._tool_round = self._reply_owed = False
        self._pressed_at = self._speech_since = self._paused_at = None
        self._echo_segment = False
        self._mic_gated = False
        out: list[Action] = [StreamMic(False), ResumePlayback()]
        self._go(out, Phase.ASSISTANT_SPEAKING if self._playing else Phase.LISTENING)
        return out

    def item_audible(self, item_id: str) -> list[Action]:
        """The output has reached `item_id`: the items queued before it have played in full."""
        if item_id in self._queued:
            del self._queued[: self._queued.index(item_id)]
        return []

    def playback_drained(self) -> list[Action]:
        """The output has played everything queued."""
        self._playing = False
        self._queued.clear()
        out: list[Action] = self._ungate_mic(preroll_ms=0)  # the preroll would hold the echo tail
        if self.phase is Phase.ASSISTANT_SPEAKING and self._response is None:
            self._go(out, Phase.LISTENING)
        return out

    def tools_answered(self) -> list[Action]:
        """Tool outputs (or an answer to an approval request) are in the conversation: ask for
        the one reply that goes on with the turn, once no other reply is active. While the user
        is speaking it waits: their turn's own reply will see the outputs; if their turn comes
        to nothing, the reply is asked for when listening resumes."""
        self._tool_round = False
        if self.phase is Phase.USER_SPEAKING:
            self._reply_owed = True
            return []
        out = self._create_response()
        if self.phase is Phase.LISTENING:
            self._go(out, Phase.WAITING)
        return out

    def tools_abandoned(self) -> list[Action]:
        """The reply that asked for tools was cut off (or the session is gone): no reply follows."""
        self._tool_round = False
        out: list[Action] = []
        if (
            self.phase is Phase.WAITING
            and self._response is None
            and not self._playing
            and not self._create_pending
            and not self._requested
        ):
            self._go(out, Phase.LISTENING)
        return out

    def on_event(self, event: ev.ServerEvent) -> list[Action]:
        match event:
            case ev.ToolCallRequested():
                self._tool_round = True  # stay WAITING after its response.done: a reply follows
                return []
            case ev.AudioDelta(response_id=response_id, item_id=item_id, pcm=pcm):
                return self._reply_audio(response_id, item_id, pcm)
            case ev.AudioDone(response_id=response_id, item_id=item_id):
                # an interrupted reply's audio was flushed: nothing of it is left to end
                return [] if response_id in self._cancelled else [EndOfItem(item_id)]
            case ev.ResponseStarted(response_id=response_id):
                self._response, self._requested = response_id, False
                self._reply_owed = False  # this reply sees the tool outputs already sent
                return []
            case ev.ResponseDone(response_id=response_id):
                return self._response_done(response_id)
            case ev.SpeechStarted():
                return self._service_heard_speech()
            case ev.SpeechStopped():
                out: list[Action] = []
                if self.mode.service_detects_turns:
                    self._go(out, Phase.WAITING)
                return out
            case ev.ServerError(code=code) if code == "conversation_already_has_active_response":
                self._requested = False
                self._create_pending = True  # ask again when the active one is done
                return []
            case ev.ServerError(code=code) if code == "input_audio_buffer_commit_empty":
                return [Hint("Nothing was heard to send; speak a little longer.")]
            case ev.ServerError(code=code) if code != "response_cancel_not_active":
                self._requested = (
                    False  # it may be our response.create that failed: never wait forever
                )
        return []

    # ---- rules ----

    def _end_user_turn(self) -> list[Action]:
        out: list[Action] = [Send(cmd.CommitAudio())]
        out += self._create_response()
        self._go(out, Phase.WAITING)
        return out

    def _create_response(self) -> list[Action]:
        if self._response is not None or self._requested:
            self._create_pending = True  # one response at a time: ask when this one is done
            return []
        self._requested = True
        return [Send(cmd.CreateResponse())]

    def _reply_audio(self, response_id: str, item_id: str, pcm: bytes) -> list[Action]:
        if response_id in self._cancelled:
            return []  # late audio of a reply the user already interrupted
        out: list[Action] = [] if self._playing or self._paused_at is not None else self._gate_mic()
        if item_id not in self._queued:
            self._queued.append(item_id)
        self._playing = True
        out.append(Play(item_id, pcm))
        if self.phase is not Phase.USER_SPEAKING:
            self._go(out, Phase.ASSISTANT_SPEAKING)
        return out

    def _response_done(self, response_id: str) -> list[Action]:
        if self._response == response_id:
            self._response = None
        self._cancelled.discard(response_id)  # no audio can follow its response.done
        out: list[Action] = []
        if self._create_pending:
            self._create_pending = False
            out += self._create_response()
        if self._playing or self.phase not in (Phase.WAITING, Phase.ASSISTANT_SPEAKING):
            return out  # the reply plays on (its end is the drain), or the user has the turn
        # nothing left to play: a reply with no audio (text, cancelled), or one whose audio
        # drained before its response.done arrived
        more = self._requested or self._tool_round or self._response is not None
        self._go(out, Phase.WAITING if more else Phase.LISTENING)
        return out

    def _service_heard_speech(self) -> list[Action]:
        out = self._interrupt() if (self._paused_at is not None or self._playing) else []
        if self.mode.service_detects_turns:
            self._go(out, Phase.USER_SPEAKING)
        return out

    def _interrupt_if_pending(self) -> list[Action]:
        return self._interrupt() if self._paused_at is not None else []

    def _interrupt(self) -> list[Action]:
        """Stop the reply now: drop queued audio (silent within a block: first), stop generation,
        keep only what was heard (the engine measures it after the flush)."""
        out: list[Action] = self._ungate_mic()
        self._paused_at = None
        if self._response is not None and self._response not in self._cancelled:
            self._cancelled.add(self._response)
            out.append(Send(cmd.CancelResponse(self._response)))
        if self._playing and self._queued:
            # the item playing is cut where the user stopped hearing it; any queued after it
            # were not heard at all (the engine measures both: 0 ms for those)
            out = [FlushPlayback(), *out, *(Interrupt(item) for item in self._queued)]
        self._playing, self._queued = False, []
        return out

    def _reply_coming(self) -> bool:
        generating = self._response is not None and self._response not in self._cancelled
        return self._requested or self._create_pending or self._tool_round or generating

    def _gate_mic(self) -> list[Action]:
        """Service-VAD modes: hold the mic back while the reply plays, so its echo (whatever
        echo cancellation leaves) can never reach the service's VAD and cut the reply off.
        Our own barge-in detection keeps listening and opens the mic again, with preroll."""
        if not self.mode.service_detects_turns or self._mic_gated:
            return []
        self._mic_gated = True
        return [StreamMic(False)]

    def _ungate_mic(self, preroll_ms: int | None = None) -> list[Action]:
        if not self._mic_gated:
            return []
        self._mic_gated = False
        return [StreamMic(True, self.settings.preroll_ms if preroll_ms is None else preroll_ms)]

    def _go(self, out: list[Action], phase: Phase) -> None:
        if phase is Phase.LISTENING and self._reply_owed:  # the user's turn came to nothing
            self._reply_owed = False
            out += self._create_response()
            phase = Phase.WAITING
        if phase is Phase.LISTENING and self._reply_coming():
            phase = Phase.WAITING  # not "your turn": a reply is on its way
        if phase is not self.phase:
            self.phase = phase
            out.append(PhaseChanged(phase))
