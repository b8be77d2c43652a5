"""Gemini Live messages checked against Google's `google-genai` types (a test-only dependency).

The SDK's `LiveClientSetup` type has no `realtimeInputConfig` member although the SDK's own
converters put the `realtime_input_config` of a `LiveConnectConfig` at `setup.realtimeInputConfig`
on the wire (google/genai/_live_converters.py); that member is checked against the SDK's
`RealtimeInputConfig`, the rest of the setup against `LiveClientSetup`. The types forbid unknown
fields, so a misspelt or invented field fails.
"""

from __future__ import annotations

import json
from typing import Any

from google.genai import types


def validate_client_message(text: str) -> dict[str, Any]:
    """One client frame: exactly one of setup, clientContent, realtimeInput, toolResponse."""
    wire = json.loads(text)
    assert isinstance(wire, dict) and len(wire) == 1, f"one member per message: {text[:200]}"
    if "setup" in wire:
        setup = dict(wire["setup"])
        realtime = setup.pop("realtimeInputConfig", None)
        if realtime is not None:
            types.RealtimeInputConfig.model_validate(realtime)
        types.LiveClientSetup.model_validate_json(json.dumps(setup))
        assert str(setup.get("model", "")).startswith("models/"), setup.get("model")
    else:
        types.LiveClientMessage.model_validate_json(text)
    return wire


def validate_server_message(text: str) -> types.LiveServerMessage:
    return types.LiveServerMessage.model_validate_json(text)
