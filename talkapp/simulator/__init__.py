"""The local Realtime simulator: a strict stand-in for OpenAI's Realtime service, both dialects,
and for Google's Gemini Live API (its own door: gemini_door.py, gemini_schema.py, gemini_live.py).

It speaks raw wire JSON (it never imports `talkapp.protocol`), so a codec bug in the client
cannot hide behind a simulator sharing it. Pure parts (validation, VAD, voice, usage, shapes,
the per-connection engine) do no I/O; `server.py`, `live.py` and `gemini_live.py` are the only
socket code.
"""

from talkapp.simulator.config import SIMULATOR_KEY, Knobs, SimulatorConfig
from talkapp.simulator.recorder import ConnectionRecord
from talkapp.simulator.server import Simulator, serve_forever

__all__ = [
    "SIMULATOR_KEY",
    "ConnectionRecord",
    "Knobs",
    "Simulator",
    "SimulatorConfig",
    "serve_forever",
]
