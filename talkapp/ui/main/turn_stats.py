"""The numbers under the talk button: the last reply's latency and tokens, and the session's
total. Pure. (Cost needs a price table; that comes with the comparison work.)"""

from __future__ import annotations

from dataclasses import dataclass

from talkapp.session.engine_events import TurnMeasured


@dataclass
class SessionStats:
    replies: int = 0
    tokens: int = 0
    last: str = ""

    def add(self, measured: TurnMeasured) -> None:
        tokens = measured.usage.total if measured.usage is not None else 0
        self.tokens += tokens
        if measured.silent_tool_step:
            return  # its tokens count; the reply that follows is the reply
        self.replies += 1
        parts = (
            [f"first audio {first_audio_ms(measured):.0f} ms"]
            if first_audio_ms(measured) is not None
            else []
        )
        parts += [f"{tokens:,} tokens"] if measured.usage is not None else []
        self.last = "Last reply: " + (" · ".join(parts) or "no timing")

    def lines(self) -> tuple[str, str]:
        if not self.replies:
            return "Last reply: —", "This session: no replies yet"
        noun = "reply" if self.replies == 1 else "replies"
        return self.last, f"This session: {self.replies} {noun} · {self.tokens:,} tokens"


def first_audio_ms(measured: TurnMeasured) -> float | None:
    """Time to first audio as the user hears it: handed to the speaker, else received."""
    if measured.first_audio_played_ms is not None:
        return measured.first_audio_played_ms
    return measured.first_audio_received_ms
