"""Server-generated ids in the service's format: a prefix plus 21 base62 characters.

Seeded per connection so a test that replays the same conversation sees the same ids.
"""

from __future__ import annotations

import random
import string

_BASE62 = string.digits + string.ascii_letters
_BODY = 21
_CALL_BODY = 16  # call ids are shorter: call_ + 16 characters


class Ids:
    def __init__(self, seed: int, connection_no: int = 0) -> None:
        self._rng = random.Random(f"{seed}:{connection_no}")

    def _body(self, n: int) -> str:
        return "".join(self._rng.choice(_BASE62) for _ in range(n))

    def event(self) -> str:
        return "event_" + self._body(_BODY)

    def session(self) -> str:
        return "sess_" + self._body(_BODY)

    def item(self) -> str:
        return "item_" + self._body(_BODY)

    def response(self) -> str:
        return "resp_" + self._body(_BODY)

    def conversation(self) -> str:
        return "conv_" + self._body(_BODY)

    def call(self) -> str:
        return "call_" + self._body(_CALL_BODY)
