"""`talkapp talk`: a live conversation in a terminal, and the printing of engine events.

The main thread waits for the end (Ctrl-C, SIGTERM, `--duration`, or stdin closing in
push-to-talk mode); a reader thread turns Enter into press/release; the engine runs on the
loop thread and prints from there.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from collections.abc import Callable

from talkapp.session import engine_events as out
from talkapp.session.engine import Engine
from talkapp.session.handle import EngineHandle
from talkapp.session.turns import Mode
from talkapp.threads.loop import ENGINE_LOOP_PRIORITY, LoopThread

_STATE_WORDS = {
    out.State.CONNECTING: "connecting…",
    out.State.LISTENING: "listening",
    out.State.USER_SPEAKING: "you are speaking",
    out.State.WAITING: "thinking…",
    out.State.ASSISTANT_SPEAKING: "speaking",
    out.State.IDLE: "stopped",
}


class TerminalPrinter:
    """Prints what a person needs to follow the conversation, one line per fact."""

    def __init__(self, stream=None) -> None:
        self._stream = stream or sys.stdout
        self.failed: str | None = None
        # A terminal cannot put a prompt beside the conversation (stdin is push-to-talk), so an
        # MCP call that needs approval is denied, with the reason; `run_talk` sends the answer.
        self.deny_approval: Callable[[str], None] = lambda request_id: None

    def __call__(self, event: out.EngineEvent) -> None:
        line = self._line(event)
        if line:
            print(printable(line), file=self._stream, flush=True)

    def _line(self, event: out.EngineEvent) -> str | None:
        match event:
            case out.StateChanged(state=out.State.ERROR, detail=detail):
                self.failed = detail
                return f"[error] {detail}"
            case out.StateChanged(state=state):
                return f"[{_STATE_WORDS.get(state, state.value)}]"
            case out.Connected(label=label):
                return f"[connected: {label}]"
            case out.TranscriptChanged(turn=turn) if turn.final or turn.interrupted:
                who = "You" if turn.role == "user" else "Assistant"
                mark = ""
                if turn.interrupted:
                    heard = "" if turn.heard_ms is None else f" after {turn.heard_ms / 1000:.1f} s"
                    mark = f"  (interrupted{heard})"
                return f"{who}: {turn.text}{mark}"
            case out.Notice(level=level, text=text):
                return f"[{level}] {text}"
            case out.ToolCardChanged(card=card) if card.settled:
                return f"[tool] {_plain(card.as_markdown())}"
            case out.ApprovalRequested(request_id=request_id, server=server, tool=tool):
                self.deny_approval(request_id)
                return (
                    f"[tool] {server} asks to run {tool}: denied, the terminal cannot ask. Approve "
                    "it in the "
                    "desktop app, or set that server's approval to “never” in Settings → Tools & "
                    "MCP."
                )
            case out.TurnMeasured() if event.silent_tool_step:
                return None  # the reply after the tool outputs gets the timing line
            case out.TurnMeasured(first_audio_received_ms=received, first_audio_played_ms=played):
                return (
                    f"[timing] first audio received {_ms(received)}, playing {_ms(played)} "
                    "after you stopped"
                )
        return None


# Control characters (escape sequences can move the cursor, retitle or recolour the terminal,
# rewrite what was printed) and bidirectional overrides (text that reads other than it is):
# what the service sends is shown, never obeyed. Newlines and tabs stay.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


def _plain(markdown: str) -> str:
    """A tool card's Markdown line without the quote mark, icon and backticks."""
    return markdown.removeprefix("> 🔧 ").replace("`", "")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def run_talk(engine: Engine, printer: TerminalPrinter, duration: float | None) -> int:
    loop = LoopThread(realtime_priority=ENGINE_LOOP_PRIORITY).start()
    handle = EngineHandle(loop, engine, printer)
    printer.deny_approval = lambda request_id: handle.answer_approval(request_id, False)
    finished = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: finished.set())
    try:
        if not handle.start().result():
            return 1
        if engine.policy.mode is Mode.PUSH_TO_TALK:
            print("Push-to-talk: press Enter to start talking, Enter again to send.", flush=True)
            threading.Thread(target=_toggle_on_enter, args=(handle, finished), daemon=True).start()
        finished.wait(duration)
        return 0 if printer.failed is None else 1
    finally:
        handle.stop().result(timeout=10)
        loop.stop()
        print("\n--- transcript ---\n" + printable(engine.transcript.as_markdown()), flush=True)


def _toggle_on_enter(handle: EngineHandle, finished: threading.Event) -> None:
    talking = False
    for _ in sys.stdin:
        talking = not talking
        handle.press() if talking else handle.release()
    if talking:
        handle.release()
