"""Where the protocol reference's example events live inside the repository.

They are a copy of the reference's fixtures (one JSON event per file, a whole session per
dialect); `tests/fixtures/protocol/check.py` re-validates them against the official SDK's types
and refreshes them from a newer copy of the reference.
"""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "protocol"
