"""TalkApp: talk to realtime voice models in both OpenAI Realtime dialects."""

__version__ = "0.1.0"
