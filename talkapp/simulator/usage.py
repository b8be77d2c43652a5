"""Token accounting for `response.done`, input transcription and `rate_limits.updated` (pure).

Rules of thumb from the reference (§4.1, §6.1): user audio ≈ 1 token per 100 ms, assistant
audio ≈ 1 token per 50 ms, text ≈ 1 token per 4 characters. Each response re-reads the whole
conversation as input; the part an earlier response already read is reported as cached, in
64-token blocks. input = text + audio (+ image), total = input + output, cached ≤ input.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from talkapp.simulator.conversation import Item

USER_AUDIO_MS_PER_TOKEN = 100.0
ASSISTANT_AUDIO_MS_PER_TOKEN = 50.0
CACHE_BLOCK = 64
_BASE_PROMPT_TOKENS = 24  # the service's own framing around every prompt


@dataclass(frozen=True)
class Tokens:
    text: int = 0
    audio: int = 0

    @property
    def total(self) -> int:
        return self.text + self.audio

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(self.text + other.text, self.audio + other.audio)


def text_tokens(text: str | None) -> int:
    return math.ceil(len(text) / 4) if text else 0


def audio_tokens(ms: float, *, assistant: bool) -> int:
    per = ASSISTANT_AUDIO_MS_PER_TOKEN if assistant else USER_AUDIO_MS_PER_TOKEN
    return math.ceil(ms / per) if ms > 0 else 0


def item_tokens(item: Item) -> Tokens:
    total = Tokens(text=text_tokens(json.dumps(item.fields)) if item.fields else 0)
    for part in item.parts:
        spoken = part.kind in ("audio", "input_audio")
        audio = audio_tokens(part.audio_ms, assistant=part.kind == "audio") if spoken else 0
        total += Tokens(text=0 if spoken else text_tokens(part.text), audio=audio)
    return total


def context_tokens(instructions: str, tools: list, items: list[Item]) -> Tokens:
    """What a response reads: framing, instructions, tool definitions and the items."""
    framing = (
        _BASE_PROMPT_TOKENS
        + text_tokens(instructions)
        + text_tokens(json.dumps(tools) if tools else "")
    )
    total = Tokens(text=framing)
    for item in items:
        total += item_tokens(item)
    return total


def cached(previous: Tokens | None, current: Tokens) -> Tokens:
    """The prefix an earlier response already read, in whole cache blocks."""
    if previous is None:
        return Tokens()
    return Tokens(_blocks(previous.text, current.text), _blocks(previous.audio, current.audio))


def _blocks(before: int, now: int) -> int:
    return (min(before, now) // CACHE_BLOCK) * CACHE_BLOCK


def response_usage(inp: Tokens, hit: Tokens, out: Tokens, *, image_tokens: bool) -> dict:
    """The `usage` object of `response.done` (GA adds the image counters)."""
    image = {"image_tokens": 0} if image_tokens else {}
    return {
        "total_tokens": inp.total + out.total,
        "input_tokens": inp.total,
        "output_tokens": out.total,
        "input_token_details": {
            "text_tokens": inp.text,
            "audio_tokens": inp.audio,
            **image,
            "cached_tokens": hit.total,
            "cached_tokens_details": {"text_tokens": hit.text, "audio_tokens": hit.audio, **image},
        },
        "output_token_details": {"text_tokens": out.text, "audio_tokens": out.audio},
    }


def transcription_usage(audio_ms: float, transcript: str) -> dict:
    audio = audio_tokens(audio_ms, assistant=False)
    out = text_tokens(transcript)
    return {
        "type": "tokens",
        "total_tokens": audio + out,
        "input_tokens": audio,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio},
        "output_tokens": out,
    }


def rate_limits(names: tuple[str, ...], limit: int, used_tokens: int, requests: int) -> list[dict]:
    """Remaining budget after a response (beta also reports a request budget)."""
    tokens = {
        "name": "tokens",
        "limit": limit,
        "remaining": max(0, limit - used_tokens),
        "reset_seconds": round(60.0 * min(used_tokens, limit) / limit, 3),
    }
    request = {
        "name": "requests",
        "limit": 5000,
        "remaining": max(0, 5000 - requests),
        "reset_seconds": 0.012,
    }
    return [request if name == "requests" else tokens for name in names]
