"""One redaction for every credential shape, wherever TalkApp writes or prints: each shape on
its own, in headers, in URLs, and in a logged traceback."""

from __future__ import annotations

import logging

import pytest
from fake_keys_shapes import secret_part, shapes

from talkapp.logs import start_logging
from talkapp.redaction import redact

SHAPES = shapes()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_key_shape_is_redacted_alone_and_in_a_sentence(name):
    key = SHAPES[name]
    said = (key, f"Incorrect API key provided: {key}.", f'{{"key": "{key}"}}', f"key={key}&x=1")
    for text in said:
        out = redact(text)
        assert key not in out and secret_part(key) not in out, (name, out)


@pytest.mark.parametrize(
    "text, kept",
    [
        ("Authorization: Bearer opaque.token/with+chars=", "Authorization: Bearer [redacted]"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic [redacted]"),
        ("api-key: 0pAque-Value_1", "api-key: [redacted]"),
        ('{"x-api-key": "0pAque-Value_1"}', '{"x-api-key": "[redacted]"}'),
        ("Cookie: session=abc123", "Cookie: [redacted]"),
        ("wss://user:pa55word@proxy.example/v1", "wss://[redacted]@proxy.example/v1"),
        ("https://token@example.com/x", "https://[redacted]@example.com/x"),
        ("wss://h/r?model=m&api-key=opaque1&x=2", "wss://h/r?model=m&api-key=[redacted]&x=2"),
        ("wss://host/realtime?token=abc&model=m", "wss://host/realtime?token=[redacted]&model=m"),
        ("https://x.blob/y?sig=abc%2Bdef", "https://x.blob/y?sig=[redacted]"),
    ],
)
def test_credentials_after_a_name_or_in_a_url_are_redacted_keeping_the_name(text, kept):
    assert redact(text) == kept


@pytest.mark.parametrize(
    "text",
    [
        "gpt-realtime-2 · GA (auto)",
        "wss://api.openai.com/v1/realtime?model=gpt-realtime",
        "The session reached the service's time limit; starting a new one.",
        "ask-me",
        "risk-free",
        "event_id resp_CZ1 item_abc",
        "https://example.com/path?model=x&voice=marin",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_a_logged_traceback_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("TALKAPP_LOG_DIR", str(tmp_path))
    path = start_logging()
    log = logging.getLogger("talkapp.test_redaction")
    try:
        for name, key in SHAPES.items():
            try:
                raise RuntimeError(f"the service refused {key}")
            except RuntimeError:
                log.exception("while connecting with %s", name)
        log.info(
            "header Authorization: Bearer %s, url wss://u:%s@h/?api-key=%s",
            "opaque-tok3n",
            "pa55word",
            "opaque-q",
        )
    finally:
        root = logging.getLogger("talkapp")
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
    written = path.read_text()
    assert "Traceback" in written and "RuntimeError: the service refused [redacted key]" in written
    for key in SHAPES.values():
        assert secret_part(key) not in written
    for secret in ("opaque-tok3n", "pa55word", "opaque-q"):
        assert secret not in written
