"""What the window says about the conversation: the state line, the connection chip and the
title word, from the engine's state, the turn-taking mode and the hotkey. Pure (no widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from talkapp.session.engine_events import State

LIVE = (State.LISTENING, State.USER_SPEAKING, State.WAITING, State.ASSISTANT_SPEAKING)


@dataclass(frozen=True)
class Status:
    line: str  # the state line: what is happening and, when stuck, what to do
    chip: str  # the connection chip in the header
    kind: str  # "ok" | "busy" | "off" | "error": the chip's colour
    title: str  # one or two words for the window title


def describe(state: State, hands_free: bool, hotkey: str) -> Status:
    hold = f"hold {hotkey} or the button" if hotkey else "hold the button"
    match state:
        case State.IDLE:
            return Status(
                "Disconnected — press Connect to start talking.",
                "Disconnected",
                "off",
                "Disconnected",
            )
        case State.CONNECTING:
            return Status("Connecting…", "Connecting…", "busy", "Connecting")
        case State.LISTENING if hands_free:
            return Status("Listening — just start speaking.", "Connected", "ok", "Listening")
        case State.LISTENING:
            return Status(f"Listening — {hold} to talk.", "Connected", "ok", "Listening")
        case State.USER_SPEAKING if hands_free:
            return Status("You are speaking…", "Connected", "ok", "You are speaking")
        case State.USER_SPEAKING:
            return Status(
                "You are speaking — release to send.", "Connected", "ok", "You are speaking"
            )
        case State.WAITING:
            return Status("Thinking…", "Connected", "ok", "Thinking")
        case State.ASSISTANT_SPEAKING if hands_free:
            return Status("Speaking — talk over it to interrupt.", "Connected", "ok", "Speaking")
        case State.ASSISTANT_SPEAKING:
            return Status(f"Speaking — {hold} to interrupt.", "Connected", "ok", "Speaking")
        case State.ERROR:  # the banner above has the details and the buttons
            return Status(
                "Not connected — Reconnect, or check the profile in Settings.",
                "Error",
                "error",
                "Error",
            )
    return Status(state.value, state.value, "off", state.value)


def interrupted(heard_ms: int | None) -> str:
    heard = f" after {heard_ms / 1000:.1f} s" if heard_ms is not None else ""
    return f"Reply interrupted{heard}."


def needs_key(profile: str) -> Status:
    return Status(
        f"Not connected — “{profile}” needs an API key. Add one, or switch to the Offline "
        "simulator.",
        "No API key",
        "error",
        "No API key",
    )
