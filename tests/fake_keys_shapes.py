"""A fake credential of every shape TalkApp redacts, made at run time (see fake_keys.py: the
repository holds no key-shaped literal). Each comes with the fragment a leak scan looks for."""

from __future__ import annotations

import base64
import json
import random

from fake_keys import fake_key

_rng = random.Random(22)


def _chars(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def shapes() -> dict[str, str]:
    """name -> a fake credential in the form it would appear in text."""
    jwt = ".".join(
        [
            _b64({"alg": "HS256", "typ": "JWT"}),
            _b64({"sub": "talkapp-test"}),
            _chars(ALNUM + "-_", 43),
        ]
    )
    return {
        "openai": fake_key("proj-" + _chars(ALNUM, 40)),
        "openai_ephemeral": "ek" + "-" + _chars(ALNUM, 30),
        "openai_restricted": "rk" + "-" + _chars(ALNUM, 30),
        "xai": "xai" + "-" + _chars(ALNUM, 60),
        "google": "AI" + "za" + _chars(ALNUM + "-_", 35),
        "azure_hex": _chars("0123456789abcdef", 32),
        "azure_84": _chars(ALNUM, 84),
        "jwt": jwt,
    }


def secret_part(text: str) -> str:
    """A recognisable inner part of a credential (what must not survive anywhere)."""
    return text[8:28] if len(text) > 28 else text[4:]
