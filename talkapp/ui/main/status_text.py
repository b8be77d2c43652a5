"""What the window says about the conversation: the state line, the connection chip and the
title word, from the engine's state, the turn-taking mode and the hotkey, in words a person who
is not an engineer understands. Pure (no widgets)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from talkapp.session.engine_events import State

LIVE = (State.LISTENING, State.USER_SPEAKING, State.WAITING, State.ASSISTANT_SPEAKING)


@dataclass(frozen=True)
class Status:
    line: str  # the state line: what is happening and, when stuck, what to do
    chip: str  # the connection chip in the header
    kind: str  # "ok" | "busy" | "off" | "error": the chip's colour
    title: str  # one or two words for the window title


def describe(
    state: State, hands_free: bool, hotkey: str, muted: bool = False, since: str = ""
) -> Status:
    """`muted`: hands-free with the microphone muted; `since`: the clock time (hh:mm) the
    connection was lost, while reconnecting."""
    hold = f"hold {hotkey} or the button" if hotkey else "hold the button"
    if muted and hands_free and state in LIVE:
        return Status(
            "Muted — nothing you say is sent. Unmute to talk.", "Connected", "ok", "Muted"
        )
    match state:
        case State.IDLE:
            return Status("Offline — press Connect to start talking.", "Offline", "off", "Offline")
        case State.CONNECTING:
            return Status("Connecting to the service…", "Connecting…", "busy", "Connecting")
        case State.RECONNECTING:
            lost = f" at {since}" if since else ""
            return Status(
                f"Connection lost{lost} — reconnecting… Your conversation is kept.",
                f"Reconnecting since {since}" if since else "Reconnecting…",
                "busy",
                "Reconnecting",
            )
        case State.LISTENING if hands_free:
            return Status("Listening — just start speaking.", "Connected", "ok", "Listening")
        case State.LISTENING:  # nothing is sent until they hold: not "listening"
            return Status(f"Ready — {hold} to talk.", "Connected", "ok", "Ready")
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
                "Not connected — the message above says what to do.",
                "Not connected",
                "error",
                "Not connected",
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


_CLI_HINT = re.compile(r" ?\(CLI: [^)]*\)")


def for_the_window(text: str) -> str:
    """A service explanation as the window shows it: the command line's flags left out (the
    window has buttons and settings for them)."""
    return _CLI_HINT.sub("", text)


def needs_ga(text: str) -> bool:
    """Whether an explanation's fix is the GA dialect (the beta one refused or retired)."""
    return "dialect to GA" in text or "choose a GA model" in text
