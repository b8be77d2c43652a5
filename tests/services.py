"""What to do when a real service a test needs (sound server, keyring, display, speech tools)
is missing here: skip, saying what to install -- or fail, under TALKAPP_REQUIRE_SERVICES=1,
which CI sets so that a lost install step cannot pass as a skip."""

from __future__ import annotations

import os

import pytest

REQUIRE = "TALKAPP_REQUIRE_SERVICES"


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"a real service is required ({REQUIRE}=1): {reason}", pytrace=False)
    pytest.skip(reason)
