"""A dead network path mid-reply (the socket stays open, nothing arrives, pings go unanswered):
`talkapp talk --mode server_vad` notices by its own ping, opens a new session, says so, and
answers the next utterance. A real process, the private PulseAudio, the simulator's go-silent
knob over a real loopback socket."""

import os
import signal
import subprocess
import sys

import numpy as np
from fake_keys import fake_key
from speech import silence, speak
from test_cli_talk import QUESTION, wait_for_line

from talkapp.simulator import Knobs, SimulatorConfig


def test_talk_replaces_a_connection_that_went_silent_mid_reply(pulse, simulator_thread):
    sim = simulator_thread(
        SimulatorConfig(knobs=Knobs(audio_pace=1.0, go_silent_after_audio_deltas=3))
    )
    env = dict(os.environ, TALKAPP_CUSTOM_API_KEY=fake_key("custom-key-0000000000"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talkapp",
            "talk",
            "--mode",
            "server_vad",
            "--base-url",
            sim.url,
            "--echo",
            "headset",
            "--duration",
            "60",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        wait_for_line(proc, "[listening]")
        pulse.feed_mic(np.concatenate([speak(QUESTION), silence(0.3)])).wait()
        lost = wait_for_line(proc, "Connection lost", timeout=30)
        assert "went silent mid-reply" in lost[-1] and "did not answer a ping" in lost[-1]
        wait_for_line(proc, "[connected", timeout=20)
        wait_for_line(proc, "[listening]")
        pulse.feed_mic(np.concatenate([speak("Are you still there?"), silence(0.3)])).wait()
        wait_for_line(proc, "Assistant: This is the TalkApp simulator", timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert sim.connections[0].went_silent and len(sim.connections) == 2
    assert "Traceback" not in err
