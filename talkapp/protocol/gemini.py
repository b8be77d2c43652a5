"""The Gemini Live dialect (Google's `BidiGenerateContent` WebSocket): not an OpenAI dialect.

What differs from OpenAI's event stream, and where it is handled here:
- the URL is `…/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`
  and the key travels in `x-goog-api-key` (never `?key=`: URLs end up in logs);
- the client speaks first: `setup` (model, generation config, tools, turn detection,
  transcriptions, resumption, compression) and the service answers `setupComplete`;
- messages are objects with one member each (`realtimeInput`, `serverContent`, `toolCall` …),
  camelCase, with no event type, item or response ids: `GeminiCodec` (gemini_codec.py)
  numbers turns itself;
- input audio goes as 16 kHz blobs (`audio/pcm;rate=16000`, resampled by the codec), replies come as
  24 kHz `inlineData` parts, which is TalkApp's wire rate;
- with automatic activity detection off the client marks the user's turn with
  `activityStart` / `activityEnd`; the reply needs no request;
- there is no truncate and no cancel: the service stops a reply itself when it hears the
  user (`interrupted`), and keeps no record of how much of it was heard;
- errors are close codes with a reason (1007, 1008, 1011), not error events (see
  `explain_close`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from talkapp.protocol import commands as cmd
from talkapp.protocol.dialect import Dialect, Query
from talkapp.protocol.gemini_codec import GeminiCodec

API_VERSION = "v1beta"  # the version Google's Live API docs and the google-genai SDK use
METHOD_PATH = "/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"


def gemini_url(base_url: str, model: str, query: Query | None = None) -> str:
    """`https://generativelanguage.googleapis.com` -> the Live WebSocket URL. A base URL that
    already names a `/ws/…` path is kept as given; one ending in `/v1` or `/v1beta` picks that
    version. The model goes in `setup`, not in the URL."""
    parts = urlsplit(base_url.strip())
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if "/ws/" not in path:
        version = API_VERSION
        last = path.rsplit("/", 1)[-1]
        if re.fullmatch(r"v1(alpha|beta)?", last):
            version, path = last, path[: -len(last) - 1]
        path += METHOD_PATH.format(version=version)
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def model_name(model: str) -> str:
    model = model.strip()
    return model if model.startswith("models/") else f"models/{model}"


# ---- setup ----


def setup_shape(config: cmd.SessionConfig, model: str | None = None) -> dict[str, Any]:
    """The `setup` object for a configuration (without the resumption handle)."""
    setup: dict[str, Any] = {"model": model_name(model or "")}
    generation: dict[str, Any] = {
        "responseModalities": ["AUDIO" if config.output == "audio" else "TEXT"]
    }
    speech: dict[str, Any] = {}
    if config.voice:
        speech["voiceConfig"] = {"prebuiltVoiceConfig": {"voiceName": config.voice}}
    if config.speech_language:
        speech["languageCode"] = config.speech_language
    if speech and config.output == "audio":
        generation["speechConfig"] = speech
    if config.max_output_tokens is not None:
        generation["maxOutputTokens"] = config.max_output_tokens
    setup["generationConfig"] = generation
    if config.instructions:
        setup["systemInstruction"] = {"parts": [{"text": config.instructions}]}
    if config.tools:
        setup["tools"] = [{"functionDeclarations": [_declaration(t) for t in config.tools]}]
    setup["realtimeInputConfig"] = _input_config(config.turn_detection)
    if config.transcription_model is not None:
        setup["inputAudioTranscription"] = {}  # Gemini picks the transcriber: only on or off
    if config.output == "audio":
        setup["outputAudioTranscription"] = {}
    setup["sessionResumption"] = {}  # ask for handles from the start, to resume after a drop
    if config.context_compression_tokens:
        trigger = config.context_compression_tokens
        setup["contextWindowCompression"] = {
            "triggerTokens": trigger,
            "slidingWindow": {"targetTokens": trigger // 2},
        }
    return setup


def _declaration(tool: cmd.FunctionTool) -> dict[str, Any]:
    # JSON Schema as the registry writes it (lowercase types): `parametersJsonSchema`, not
    # `parameters`, which is Google's OpenAPI subset.
    return {
        "name": tool.name,
        "description": tool.description,
        "parametersJsonSchema": tool.parameters,
    }


_DEFAULT_VAD = cmd.TurnDetection()


def _input_config(td: cmd.TurnDetection | None) -> dict[str, Any]:
    if td is None:
        return {"automaticActivityDetection": {"disabled": True}}  # we mark the turns
    detection: dict[str, Any] = {"disabled": False}
    if td.kind == "server_vad":
        if td.threshold != _DEFAULT_VAD.threshold:  # a lower threshold hears speech sooner
            detection["startOfSpeechSensitivity"] = (
                "START_SENSITIVITY_HIGH" if td.threshold < 0.5 else "START_SENSITIVITY_LOW"
            )
        detection["prefixPaddingMs"] = td.prefix_padding_ms
        detection["silenceDurationMs"] = td.silence_duration_ms
    elif td.eagerness in ("high", "low"):  # an eager turn end is a sensitive one
        detection["endOfSpeechSensitivity"] = f"END_SENSITIVITY_{td.eagerness.upper()}"
    shape: dict[str, Any] = {"automaticActivityDetection": detection}
    if not td.interrupt_response:
        shape["activityHandling"] = "NO_INTERRUPTION"
    return shape


# ---- refusals ----

KEY_HELP = "set a Gemini key (keyring set talkapp gemini, or GEMINI_API_KEY for one session)"


def explain_close(code: int, reason: str, model: str) -> str | None:
    """A close from Gemini in one line, with what to do; None for a close that is not Google's
    refusal shape (the generic message then applies)."""
    said = reason.strip().rstrip(".")
    lowered = said.lower()
    if code == 1008 and ("api key" in lowered or "permission" in lowered):
        return f"Gemini refused the key: {KEY_HELP}."
    if code == 1008 and ("not found" in lowered or "not supported" in lowered):
        return (
            f"Gemini has no Live model {model}: pick a Live model such as "
            "gemini-2.5-flash-native-audio-preview-12-2025 (only Live models take "
            "bidiGenerateContent)."
        )
    if code == 1007:
        return (
            f"Gemini rejected the session setup ({said or 'invalid argument'}): check the "
            "profile's voice, language and tools."
        )
    if code == 1011:
        return f"Gemini had an internal error ({said or 'no reason given'}): reconnect."
    if code == 1008:
        return f"Gemini refused the session ({said or 'policy violation'})."
    return None


DIALECT = Dialect(
    name="gemini",
    label="Gemini",
    extra_headers={},
    session_shape=setup_shape,
    decoders={},
    assistant_text="text",
    url_builder=gemini_url,
    auth="x-goog-api-key",
    client_speaks_first=True,
    codec=GeminiCodec,
)
