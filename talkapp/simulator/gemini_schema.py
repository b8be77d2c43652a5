"""What the Gemini door accepts from a client, strictly (pure; the simulator's own table).

Google's API rejects a field it does not know with a 1007 close whose reason names it
(`Invalid JSON payload received. Unknown name "x" at 'setup': Cannot find field.`), and so does
this. The table lists the members of Google's `BidiGenerateContent*` messages that TalkApp or
Google's SDK send; the tests check both sides against the `google-genai` types independently.
"""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]  # member -> nested Spec, a type, or a tuple of allowed values
ANY = object  # a member whose content is not checked (a JSON Schema, a function's response)

_BLOB: Spec = {"data": str, "mimeType": str}
_PART: Spec = {"text": str, "inlineData": _BLOB, "thought": bool}
_CONTENT: Spec = {"role": ("user", "model"), "parts": [_PART]}
_DECLARATION: Spec = {
    "name": str,
    "description": str,
    "parameters": ANY,
    "parametersJsonSchema": ANY,
    "behavior": ("BLOCKING", "NON_BLOCKING"),
}
_SENSITIVITY_START = ("START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW")
_SENSITIVITY_END = ("END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW")

SETUP: Spec = {
    "model": str,
    "generationConfig": {
        "candidateCount": int,
        "maxOutputTokens": int,
        "temperature": float,
        "topP": float,
        "topK": int,
        "presencePenalty": float,
        "frequencyPenalty": float,
        "seed": int,
        "responseModalities": [("AUDIO", "TEXT")],
        "speechConfig": {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": str}},
            "languageCode": str,
        },
        "mediaResolution": str,
        "enableAffectiveDialog": bool,
        "thinkingConfig": {"thinkingBudget": int, "includeThoughts": bool},
    },
    "systemInstruction": _CONTENT,
    "tools": [{"functionDeclarations": [_DECLARATION]}],
    "realtimeInputConfig": {
        "automaticActivityDetection": {
            "disabled": bool,
            "startOfSpeechSensitivity": _SENSITIVITY_START,
            "endOfSpeechSensitivity": _SENSITIVITY_END,
            "prefixPaddingMs": int,
            "silenceDurationMs": int,
        },
        "activityHandling": ("START_OF_ACTIVITY_INTERRUPTS", "NO_INTERRUPTION"),
        "turnCoverage": ("TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT"),
    },
    "sessionResumption": {"handle": str, "transparent": bool},
    "contextWindowCompression": {"triggerTokens": int, "slidingWindow": {"targetTokens": int}},
    "inputAudioTranscription": {},
    "outputAudioTranscription": {},
    "proactivity": {"proactiveAudio": bool},
}
REALTIME_INPUT: Spec = {
    "audio": _BLOB,
    "video": _BLOB,
    "mediaChunks": [_BLOB],
    "text": str,
    "activityStart": {},
    "activityEnd": {},
    "audioStreamEnd": bool,
}
CLIENT_CONTENT: Spec = {"turns": [_CONTENT], "turnComplete": bool}
TOOL_RESPONSE: Spec = {
    "functionResponses": [
        {"id": str, "name": str, "response": ANY, "willContinue": bool, "scheduling": str}
    ]
}
MESSAGES: Spec = {
    "setup": SETUP,
    "realtimeInput": REALTIME_INPUT,
    "clientContent": CLIENT_CONTENT,
    "toolResponse": TOOL_RESPONSE,
}
_SNAKE = {"setup": "setup", "realtimeInput": "realtime_input", "clientContent": "client_content"}


def problem(message: object) -> str | None:
    """Google's 1007 reason for a message it would refuse, or None when it is acceptable."""
    if not isinstance(message, dict) or len(message) != 1:
        return (
            "Invalid JSON payload received. A message carries exactly one of setup, "
            "clientContent, realtimeInput, toolResponse."
        )
    ((given, body),) = message.items()
    name = _camel(given)
    if name not in MESSAGES:
        return f'Invalid JSON payload received. Unknown name "{given}": Cannot find field.'
    return _check(body, MESSAGES[name], _SNAKE.get(name, name))


def _check(value: object, spec: object, where: str) -> str | None:
    if spec is ANY:
        return None
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"Invalid value at '{where}': expected an object."
        for given, inner in value.items():
            key = _camel(given)  # protobuf's JSON takes either spelling (Google's SDK mixes them)
            if key not in spec:
                return (
                    f"Invalid JSON payload received. Unknown name \"{given}\" at '{where}': "
                    "Cannot find field."
                )
            found = _check(inner, spec[key], f"{where}.{_snake(key)}")
            if found:
                return found
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"Invalid value at '{where}': expected a list."
        for n, entry in enumerate(value):
            found = _check(entry, spec[0], f"{where}[{n}]")
            if found:
                return found
        return None
    if isinstance(spec, tuple):
        return None if value in spec else f"Invalid value at '{where}' ({value!r})"
    if spec is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif spec is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, spec)  # type: ignore[arg-type]
    return None if ok else f"Invalid value at '{where}' ({type(value).__name__})"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def normalized(value: Any, spec: Any = MESSAGES) -> Any:
    """A valid message with its members in lowerCamelCase, as the door reads it; what the
    table does not look into (a JSON Schema, a function's response) is kept as it came."""
    if spec is ANY:
        return value
    if isinstance(spec, dict) and isinstance(value, dict):
        return {_camel(k): normalized(v, spec.get(_camel(k), ANY)) for k, v in value.items()}
    if isinstance(spec, list) and isinstance(value, list):
        return [normalized(v, spec[0]) for v in value]
    return value


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
