"""Fake API keys for tests, made when the tests run.

Tests need strings shaped like real keys (`sk-…`): the redaction, the service's way of quoting
part of a rejected key, and the key-leak scan all look for that shape. None of them is a key to
anything. They are put together here rather than written out, so the repository holds no
key-shaped string that a secret scanner (or a person) would have to stop and check.
"""

PREFIX = "sk" + "-"


def fake_key(body: str) -> str:
    """A key-shaped string: the `sk-` prefix and `body`."""
    return PREFIX + body
