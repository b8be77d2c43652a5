"""Acoustic echo handling for the mic when the reply plays on speakers: one interface, three modes.

Contract: the asyncio loop -- and only it -- calls an `EchoCanceller`: the playback side calls
`far_end` with the 24 kHz audio it has just handed to the output device, in order (what the
output callback took from the playback ring; nothing while nothing plays); the mic pump calls
`near_end` with each 24 kHz mic block and gets the cleaned stream back, and `set_delay_ms`
whenever PortAudio's callback timestamps move (output DAC latency + input ADC latency + how long
the mic block waited on the loop). No threads of our own, no I/O. (The `aec` mode's LiveKit FFI
runtime starts a few native threads of its own when the first APM is created; calls are
synchronous.)

Streams: mono float32 at `RATE`. Every mic sample comes out of `near_end` once, in order, as soon
as its 10 ms frame is complete (`headset`: at once), so blocks that are whole multiples of 10 ms
come back whole. Sample n of the output is sample n of the mic, cleaned; the `aec` filter bank
makes its content trail by `latency_ms`. Blocks may have any size, including 0.

Far end, in lockstep: `far_end` queues what the device was handed; each 10 ms mic frame releases
10 ms of it as the reference (silence when the queue is empty, because the WebRTC APM must see
the silence between replies: fed nothing instead, it cancelled only 10-18 dB of the next
reply's first 400 ms, and the VAD fired on that).
The queue is the jitter between the two paths on the loop; its depth comes off the delay.

Barge-in onsets (`take_onset`): True once after the mic rose `margin_db` above the echo expected
from what is playing -- the user talking over the reply. AEC3 holds down the first 40-70 ms of
double talk, so the VAD on its output hears a barge-in ~80 ms late; the loud-onset test on the
raw mic hears it within a frame or two, which is enough to *pause* the reply while the VAD
makes sure. `aec` runs a gate on the raw mic just for this; `gate` reports its own openings.

Modes (`EchoMode`): `aec` -- the WebRTC audio-processing module (AEC3) through LiveKit;
`gate` -- the fallback without it: duck the mic by `attenuation_db` while reply audio can be
echoing, except frames `margin_db` above the expected echo (a barge-in); `headset` -- passthrough.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Protocol

import numpy as np

from talkapp.audio.pcm import WIRE_RATE, mean_square, to_mono

RATE = WIRE_RATE  # both streams: the mic pump and the playback feeder work at 24 kHz
FRAME = RATE // 100  # the APM's unit is exactly 10 ms; anything else aborts the process
FRAME_MS = 10
GAIN_RAMP = np.linspace(
    0.0, 1.0, FRAME // 4, dtype=np.float32
)  # 2.5 ms: a gain change never clicks
MAX_QUEUED_MS = 1000  # far-end audio ahead of the mic beyond this is dropped (a feeder bug)


class EchoMode(StrEnum):
    AEC = "aec"
    GATE = "gate"
    HEADSET = "headset"


class EchoCanceller(Protocol):
    """What the mic pump sees, whatever the mode (see the module docstring)."""

    mode: EchoMode
    latency_ms: float  # the cleaned stream's content trails the mic by this much

    def far_end(self, samples: np.ndarray) -> None: ...
    def near_end(self, samples: np.ndarray) -> np.ndarray: ...
    def set_delay_ms(self, ms: float) -> None: ...
    def reset(self) -> None: ...
    def take_onset(self) -> bool: ...


def open_echo_canceller(
    mode: EchoMode | str, delay_ms: float = 0.0, **options: Any
) -> EchoCanceller:
    """The canceller for an "echo mode" setting; `options` go to that mode's class."""
    match EchoMode(mode):
        case EchoMode.AEC:
            return ApmCanceller(delay_ms=delay_ms, **options)
        case EchoMode.GATE:
            return EchoGate(delay_ms=delay_ms, **options)
        case EchoMode.HEADSET:
            return Passthrough(**options)


# ---- the pieces the framed modes share ----


class FarEndQueue:
    """The far end in lockstep with the mic: `push` what the device was handed, `pop` 10 ms
    per 10 ms of mic (zero-padded when the device was handed less: it played silence too)."""

    def __init__(self, max_ms: int = MAX_QUEUED_MS) -> None:
        self._max = max_ms * RATE // 1000
        self.dropped = 0  # samples thrown away because the queue overflowed
        self._buffer = np.zeros(0, np.float32)
        self.clear()

    @property
    def queued_ms(self) -> float:
        return 1000.0 * len(self._buffer) / RATE

    def push(self, samples: np.ndarray) -> None:
        self._buffer = np.concatenate([self._buffer, _mono(samples)])
        excess = len(self._buffer) - self._max
        if excess > 0:  # keep the newest: it is what plays next
            self._buffer, self.dropped = self._buffer[excess:], self.dropped + excess

    def pop(self) -> np.ndarray:
        frame = np.zeros(FRAME, np.float32)
        taken = min(FRAME, len(self._buffer))
        frame[:taken], self._buffer = self._buffer[:taken], self._buffer[taken:]
        return frame

    def clear(self) -> None:
        self._buffer = np.zeros(0, np.float32)


class FrameSplitter:
    """Cuts a stream into whole 10 ms frames, keeping the incomplete tail for the next block."""

    def __init__(self) -> None:
        self._tail = np.zeros(0, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The frames now complete, shape (k, FRAME)."""
        self._tail = np.concatenate([self._tail, _mono(samples)])
        whole = len(self._tail) // FRAME * FRAME
        frames, self._tail = self._tail[:whole], self._tail[whole:]
        return frames.reshape(-1, FRAME)

    def clear(self) -> None:
        self._tail = np.zeros(0, np.float32)


class _Framed:
    """The shared shell of `aec` and `gate`: lockstep far end, 10 ms framing, the delay."""

    def __init__(self, delay_ms: float) -> None:
        self._far, self._near = FarEndQueue(), FrameSplitter()
        self._onset = False
        self.set_delay_ms(delay_ms)

    def take_onset(self) -> bool:
        onset, self._onset = self._onset, False
        return onset

    def far_end(self, samples: np.ndarray) -> None:
        self._far.push(samples)

    def near_end(self, samples: np.ndarray) -> np.ndarray:
        frames = self._near.push(samples)
        cleaned = np.empty_like(frames)
        for i, frame in enumerate(frames):
            cleaned[i] = self._clean(frame, self._far.pop())
        return cleaned.reshape(-1)

    def set_delay_ms(self, ms: float) -> None:
        self.delay_ms = max(0.0, float(ms))

    def _reference_delay_ms(self) -> float:
        """From the far frame just released to its echo: it waited in the queue a while after
        the device got it, so that much less than the round trip."""
        return max(0.0, self.delay_ms - self._far.queued_ms)

    def reset(self) -> None:
        """Forget both streams and everything learnt about the room."""
        self._far.clear()
        self._near.clear()

    def _clean(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# ---- aec: the WebRTC audio-processing module ----

# Measured on livekit 1.2.1 at 24 kHz (tests/test_echo.py checks it): AEC3's filter bank delays
# the capture path by 222 samples; noise suppression adds 144 more.
APM_LATENCY_MS = 222 / 24
APM_NS_LATENCY_MS = 366 / 24
APM_MAX_DELAY_MS = 500  # it refuses more with "Failed to set stream delay" (a RuntimeError)
# An echo this far below what plays is below the room's noise and any voice over it
QUIET_ROOM_DB = -45.0
QUIET_ROOM_HYSTERESIS_DB = 5.0


class ApmCanceller(_Framed):
    """WebRTC AEC3 via `livekit.rtc.AudioProcessingModule`, at 24 kHz directly (it takes any
    rate in 10 ms frames and resamples inside, so we do not).

    While a reply plays, its output is also ducked by the gate judged on the *raw* mic: AEC3
    converges in a few hundred ms on a clean echo path, but on a drifting one (separate input
    and output clocks, a sound server resampling in between) it leaks bursts of the reply at
    -12 dB for seconds, enough for a VAD to take the reply for the user -- and a gate learning
    from AEC3's own output opened on those bursts (measured; tests/test_echo.py). So the user
    talking over the reply must be `margin_db` above its echo, as in `gate` mode; what AEC3
    adds is a clean voice underneath (the echo removed while the gate is open), and a cleaner
    mic whenever nothing plays.

    Echo cancellation always; the rest are the APM's own switches. Noise suppression is off by
    default: the service has its own, and ours would add 6 ms and reshape what it hears.
    """

    mode = EchoMode.AEC

    def __init__(
        self,
        delay_ms: float = 0.0,
        *,
        noise_suppression: bool = False,
        high_pass_filter: bool = True,
        auto_gain_control: bool = False,
    ) -> None:
        self._switches = {
            "echo_cancellation": True,
            "noise_suppression": noise_suppression,
            "high_pass_filter": high_pass_filter,
            "auto_gain_control": auto_gain_control,
        }
        self.latency_ms = APM_NS_LATENCY_MS if noise_suppression else APM_LATENCY_MS
        self._may_rest = not (noise_suppression or auto_gain_control)  # else it always has work
        self._apm = _new_apm(self._switches)
        self._applied_delay_ms: int | None = None  # what the APM was last told
        self._near_frame, self._far_frame = _ApmFrame(), _ApmFrame()
        self._gate = EchoGate(delay_ms)  # judges the raw mic against the expected echo
        self.quiet_room = False  # the gate starts from a loud echo path: the APM runs
        super().__init__(delay_ms)

    def reset(self) -> None:
        super().reset()
        self._gate.reset()
        self._apm = _new_apm(self._switches)  # the APM has no reset of its own
        self._applied_delay_ms = None
        self.quiet_room = False  # the gate starts from a loud echo path: the APM runs

    def _clean(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        delay = self._reference_delay_ms()  # the gate aligns like the APM
        self._gate.set_delay_ms(delay)
        gain = self._gate.judge(near, far)
        self._onset = self._onset or self._gate.take_onset()
        self._follow_the_room()
        if self.quiet_room:
            return self._gate.apply(near, gain)
        self._apm.process_reverse_stream(self._far_frame.holding(far))
        self._tell_delay(round(min(delay, APM_MAX_DELAY_MS)))
        self._apm.process_stream(self._near_frame.holding(near))  # cleaned in place
        return self._gate.apply(self._near_frame.as_float(), gain)

    def _follow_the_room(self) -> None:
        """Idle the APM while the gate has learnt that what plays comes back `QUIET_ROOM_DB`
        below itself or less (a headset, a muted speaker): there is no echo worth removing
        under a voice, and the APM is most of what a reply costs. It runs again once the
        coupling rises `QUIET_ROOM_HYSTERESIS_DB` above that, with what it learnt before, as
        after the rest between replies. The gate, which decides barge-ins, runs throughout.
        (The switch happens on a frame taken for echo alone, which the gate ducks by 40 dB,
        so the APM's own delay coming or going is not heard.) With noise suppression or gain
        control on, it always runs."""
        if not self._may_rest:
            return
        coupling = self._gate.coupling_db
        if self.quiet_room:
            self.quiet_room = coupling < QUIET_ROOM_DB + QUIET_ROOM_HYSTERESIS_DB
        else:
            self.quiet_room = coupling < QUIET_ROOM_DB

    def _tell_delay(self, ms: int) -> None:
        """Each FFI call costs ~7 us of Python (protobuf both ways), and the APM keeps the last
        delay it was told (AEC3 takes it as a hint and tracks the echo itself): tell it only
        what changed. (bench/echo.py: the same ERLE and double-talk onsets as telling it every
        frame.)"""
        if ms != self._applied_delay_ms:
            self._apm.set_stream_delay_ms(ms)
            self._applied_delay_ms = ms


def _new_apm(switches: dict[str, bool]) -> Any:
    from livekit import rtc  # lazily: a 30 MB native library only the aec mode needs

    return rtc.AudioProcessingModule(**switches)


class _ApmFrame:
    """One reusable 10 ms `rtc.AudioFrame`: samples are written into its bytes in place, so a
    frame costs no new Python objects, and the APM cleans the near end right there."""

    def __init__(self) -> None:
        from livekit import rtc

        self.frame = rtc.AudioFrame(bytearray(2 * FRAME), RATE, 1, FRAME)
        self._pcm = np.frombuffer(self.frame.data, np.int16)  # a writable view of its bytes
        self._scaled = np.empty(FRAME, np.float32)

    def holding(self, samples: np.ndarray) -> Any:
        """The frame, now holding `samples` (float, 10 ms) as PCM16."""
        np.multiply(samples, 32768.0, out=self._scaled)
        np.round(self._scaled, out=self._scaled)
        np.clip(self._scaled, -32768, 32767, out=self._scaled)
        self._pcm[:] = self._scaled  # the cast truncates, but the values are whole already
        return self.frame

    def as_float(self) -> np.ndarray:
        return self._pcm.astype(np.float32) / 32768.0


# ---- gate: the fallback ----


class EchoGate(_Framed):
    """Ducks the mic while the reply can be echoing, unless the mic is well above the echo.

    The far end's level is followed by a peak hold that decays over `tail_ms` (60 dB, like a
    room's reverb). The expected echo of a mic frame is the highest such level that can reach
    it -- played `delay_ms` ago, give or take `slack_ms` -- times the coupling. The coupling is
    learnt on ducked frames as the upper envelope of mic/far: up at `RISE_DB` and down at
    `FALL_DB` per frame, both slowly, so neither a quiet frame nor a rising voice moves it
    much. It starts at `coupling_db` (0 dB: echo as loud as what was played), so an unlearnt
    room errs towards ducking. A mic frame `margin_db` above the expected echo opens the gate,
    for `hold_ms` more, so the dips within a word do not chop it.
    """

    mode = EchoMode.GATE
    latency_ms = 0.0
    RISE_DB = 0.2  # 20 dB/s: a louder echo path is learnt in a second; a voice onset is not
    FALL_DB = 0.1  # 10 dB/s: from the 0 dB start to a typical -10 dB room in a second
    PLAYING_DBFS = -70.0  # far levels below this are silence: nothing to duck
    MAX_DELAY_MS = 1000  # longer than any PortAudio round trip we have seen (40-60 ms each way)

    def __init__(
        self,
        delay_ms: float = 0.0,
        *,
        attenuation_db: float = 40.0,
        margin_db: float = 8.0,
        coupling_db: float = 0.0,
        tail_ms: int = 200,
        slack_ms: int = 30,
        hold_ms: int = 150,
    ) -> None:
        self.margin_db, self.initial_coupling_db = margin_db, coupling_db
        self._duck: float = 10.0 ** (-attenuation_db / 20.0)
        self._decay = 10.0 ** (-6.0 / max(1, _frames(tail_ms)))  # energy factor: 60 dB per tail
        self._slack, self._hold_frames = _frames(slack_ms), _frames(hold_ms)
        self._span = _frames(self.MAX_DELAY_MS) + self._slack + 1
        super().__init__(delay_ms)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._far_level = np.zeros(self._span)  # decaying peak energy per frame, newest last
        self.coupling_db = self.initial_coupling_db
        self._gain = 1.0  # the gain at the end of the last frame
        self._hold = 0  # frames the gate stays open for

    def judge(self, near: np.ndarray, far: np.ndarray) -> float:
        """Follow one 10 ms frame pair; return the gain for the mic frame."""
        level = max(mean_square(far), self._decay * self._far_level[-1])
        self._far_level[:-1] = self._far_level[1:]
        self._far_level[-1] = level
        return self._gain_for(mean_square(near), self._echo_reference())

    def _clean(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return self.apply(near, self.judge(near, far))

    def apply(self, frame: np.ndarray, gain: float) -> np.ndarray:
        """`frame` at `gain`, ramped from the last frame's gain over 2.5 ms so it never clicks."""
        out = frame * np.float32(gain)
        if gain != self._gain:
            ramp = len(GAIN_RAMP)
            out[:ramp] = frame[:ramp] * (self._gain + (gain - self._gain) * GAIN_RAMP)
            self._gain = gain
        return out

    def _echo_reference(self) -> float:
        """The highest far level whose echo can be in the current mic frame."""
        delay = min(_frames(self._reference_delay_ms()), _frames(self.MAX_DELAY_MS))
        newest = self._span - max(0, delay - self._slack)  # ages count back from the end
        return float(self._far_level[newest - 2 * self._slack - 1 : newest].max())

    def _gain_for(self, near_energy: float, far_energy: float) -> float:
        if _db(far_energy) < self.PLAYING_DBFS:
            self._hold = 0
            return 1.0  # nothing is playing that could echo
        excess_db = _db(near_energy) - _db(far_energy) - self.coupling_db
        if excess_db > self.margin_db:
            self._onset = self._onset or self._hold == 0  # a new opening, not a held one
            self._hold = self._hold_frames  # a barge-in: let it through
            return 1.0
        if self._hold:
            self._hold -= 1
            return 1.0
        self._learn(excess_db)
        return self._duck

    def _learn(self, excess_db: float) -> None:
        """Follow the upper envelope of mic/far on the frames we take for echo alone."""
        step = min(excess_db, self.RISE_DB) if excess_db > 0 else max(excess_db, -self.FALL_DB)
        self.coupling_db = min(20.0, max(-60.0, self.coupling_db + step))


def _frames(ms: float) -> int:
    return math.ceil(ms / FRAME_MS)


def _db(energy: float) -> float:
    return 10.0 * math.log10(energy) if energy > 1e-20 else -200.0


# ---- headset: nothing to cancel ----


class Passthrough:
    """No echo path (a headset): the mic comes back untouched, at once."""

    mode = EchoMode.HEADSET
    latency_ms = 0.0

    def far_end(self, samples: np.ndarray) -> None:
        pass  # nothing leaks from headphones into the mic

    def near_end(self, samples: np.ndarray) -> np.ndarray:
        return _mono(samples).copy()  # a copy: the caller reuses its block buffers

    def set_delay_ms(self, ms: float) -> None:
        pass

    def reset(self) -> None:
        pass

    def take_onset(self) -> bool:
        return False  # the VAD on the untouched mic is as fast as it gets


def _mono(samples: np.ndarray) -> np.ndarray:
    return to_mono(np.asarray(samples, dtype=np.float32)).reshape(-1)
