"""A stored conversation as context for a new session: the same `AddHistory` replay a reconnect
sends (session/keeper.py), bounded the same way (the most recent turns), and one line saying
what was left out when the conversation is longer than that."""

from __future__ import annotations

from dataclasses import dataclass

from talkapp.history.store import Conversation
from talkapp.protocol.commands import AddHistory

# As many turns as a reconnect re-sends (session/engine.py RESEND_TURNS; a test checks they agree):
# older turns cost tokens on every reply.
CONTEXT_TURNS = 20
CONTEXT_CHARS = 24_000  # and no more text than this (~6k tokens), newest kept


@dataclass(frozen=True)
class Context:
    items: tuple[AddHistory, ...]
    left_out: int  # earlier turns not sent

    def note(self) -> str:
        """What a person is told: empty when everything was sent."""
        sent = len(self.items)
        if not self.left_out:
            return f"Continuing with the {sent} earlier turns as context." if sent else ""
        return (
            f"Continuing with the most recent {sent} turns as context; the {self.left_out} earlier "
            "ones are kept in the history but not sent."
        )


def context_for(
    conversation: Conversation, max_turns: int = CONTEXT_TURNS, max_chars: int = CONTEXT_CHARS
) -> Context:
    spoken = [t for t in conversation.turns if t.role in ("user", "assistant") and t.text.strip()]
    kept: list[AddHistory] = []
    chars = 0
    for turn in reversed(spoken):
        if len(kept) == max_turns or (kept and chars + len(turn.text) > max_chars):
            break
        kept.append(AddHistory(turn.role, turn.text))  # type: ignore[arg-type]
        chars += len(turn.text)
    kept.reverse()
    return Context(tuple(kept), len(spoken) - len(kept))
