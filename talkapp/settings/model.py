"""All non-secret settings, as one frozen value, and their JSON form.

Reading is forgiving: a field with a wrong type or value falls back to its default and the
problem is reported, so one bad entry never costs the user the rest of their settings.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from talkapp.audio.devices import DeviceKey
from talkapp.protocol.commands import FunctionTool, SessionConfig, TurnDetection
from talkapp.settings.profile import SIMULATOR_PROFILE, ProviderProfile, simulator_profile

MODES = ("ptt", "server_vad", "semantic_vad", "local_vad")
ECHO_MODES = ("aec", "gate", "headset")
APPEARANCES = ("system", "light", "dark")  # the app's colours: the OS's scheme, or one fixed
AUDIO_BLOCKS_MS = (5, 10, 20)  # PortAudio block: lower latency, or more room for a busy machine
APPROVAL_POLICIES = ("always", "never")  # MCP: ask the user before every call, or never


@dataclass(frozen=True)
class AudioSettings:
    input_device: DeviceKey | None = None  # None: follow the system default
    output_device: DeviceKey | None = None
    echo: str = "aec"
    vad_aggressiveness: int = 2
    silence_ms: int = 500  # local VAD: the silence that ends a turn
    block_ms: int = 5  # one of AUDIO_BLOCKS_MS
    # The output stream runs all session instead of only while a reply plays: for Bluetooth
    # headphones that doze off between sounds and clip a reply's first word when woken
    keep_speaker_open: bool = False


@dataclass(frozen=True)
class HotkeySettings:
    push_to_talk: str = "Space"  # in the window (a Qt key sequence)
    global_push_to_talk: str = ""  # anywhere, e.g. "<ctrl>+<alt>+space"; "" = off


@dataclass(frozen=True)
class RecordingSettings:
    enabled: bool = False  # off by default: recordings hold the user's voice
    folder: str = ""  # "" = the default folder (default_recordings_folder())
    capture_wire: bool = False  # a wire capture per connection, for a bug report (no audio in it)


@dataclass(frozen=True)
class McpServerSettings:
    """A remote MCP server (GA sessions only). Its auth header's *value* is a secret: it lives in
    the OS keyring under `secret_name` (made once, when the server is added, so renaming the
    server keeps it), never here."""

    label: str = ""
    url: str = ""
    allowed_tools: tuple[str, ...] = ()  # empty: every tool the server offers
    approval: str = "always"  # APPROVAL_POLICIES
    auth_header: str = ""  # e.g. "Authorization"; "" = no auth header
    secret_name: str = ""  # keyring entry of the header's value
    enabled: bool = True


@dataclass(frozen=True)
class RememberedApproval:
    """ "Remember for this tool": the answer given automatically next time it asks. It holds for
    the server's URL, not its label: a server renamed keeps it, another server given the same
    label does not get it. (An answer saved before URLs were kept has none and is not used.)"""

    server: str = ""  # the label, for showing
    tool: str = ""
    approve: bool = False
    url: str = ""


@dataclass(frozen=True)
class ToolSettings:
    clock: bool = True  # built-in: current date and time
    calculator: bool = True  # built-in: arithmetic, evaluated safely
    clipboard: bool = True  # built-in: declared; it reads only once `clipboard_allowed`
    clipboard_allowed: bool = False  # always, without asking (off by default: it may hold anything)
    clipboard_ask: bool = True  # when not always allowed: ask at each call (False: refuse)
    timeout_s: float = 8.0  # a tool that takes longer answers the model with an error
    mcp_servers: tuple[McpServerSettings, ...] = ()
    remembered: tuple[RememberedApproval, ...] = ()

    def declared(self) -> tuple[object, ...]:
        """What the session is configured with: changing it needs a new session; the clipboard
        permission and remembered answers apply to the session that runs."""
        return (self.clock, self.calculator, self.clipboard, self.mcp_servers)

    def remember(self, server: str, tool: str, approve: bool) -> ToolSettings:
        """Remember the answer for `tool` on the server labelled `server` (kept by its URL)."""
        url = next((s.url for s in self.mcp_servers if s.label == server), "")
        kept = tuple(r for r in self.remembered if (r.url, r.tool) != (url, tool))
        answer = RememberedApproval(server, tool, approve, url)
        return dataclasses.replace(self, remembered=(*kept, answer))

    def forget(self, answer: RememberedApproval) -> ToolSettings:
        kept = tuple(r for r in self.remembered if r != answer)
        return dataclasses.replace(self, remembered=kept)


@dataclass(frozen=True)
class HistorySettings:
    enabled: bool = True  # conversations are kept (talkapp/history/), transcripts and costs only
    monthly_budget_usd: float | None = None  # None: no budget
    keep_days: int | None = None  # None: keep forever; N: delete conversations older than N days


def default_recordings_folder() -> str:
    return str(Path(platformdirs.user_documents_dir()) / "TalkApp recordings")


@dataclass(frozen=True)
class Settings:
    profiles: tuple[ProviderProfile, ...] = field(default_factory=lambda: (simulator_profile(),))
    active: str = SIMULATOR_PROFILE
    mode: str = "ptt"
    audio: AudioSettings = field(default_factory=AudioSettings)
    hotkeys: HotkeySettings = field(default_factory=HotkeySettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    tools: ToolSettings = field(default_factory=ToolSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    appearance: str = "system"  # one of APPEARANCES

    def recordings_folder(self) -> Path | None:
        """Where sessions are recorded, or None when recording is off."""
        if not self.recording.enabled:
            return None
        return Path(self.recording.folder or default_recordings_folder()).expanduser()

    def capture_file(self, now: float | None = None) -> Path | None:
        """Where this connection's wire capture goes (in the recordings folder), or None."""
        if not self.recording.capture_wire:
            return None
        folder = Path(self.recording.folder or default_recordings_folder()).expanduser()
        return folder / f"capture-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}.jsonl"

    def active_profile(self) -> ProviderProfile:
        return next((p for p in self.profiles if p.name == self.active), self.profiles[0])

    def with_profile(self, profile: ProviderProfile, replacing: str | None = None) -> Settings:
        """Add `profile`, or put it in the place of the one named `replacing`."""
        name = replacing or profile.name
        kept = [profile if p.name == name else p for p in self.profiles]
        if not any(p.name == name for p in self.profiles):
            kept.append(profile)
        active = profile.name if self.active == name else self.active
        return dataclasses.replace(self, profiles=tuple(kept), active=active)


# ---- JSON ----


def to_json(settings: Settings) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(settings)
    return plain


def from_json(data: Any, problems: list[str]) -> Settings:
    """Settings from parsed JSON; each unusable part is replaced by its default and noted."""
    if not isinstance(data, dict):
        problems.append("the settings file does not hold a settings object")
        return Settings()
    profiles = tuple(
        p for p in (_profile(d, problems) for d in _list(data, "profiles", problems)) if p
    )
    if not any(p.provider == "simulator" for p in profiles):
        profiles = (simulator_profile(), *profiles)  # the offline profile is always there
    settings = Settings(
        profiles=profiles,
        active=_value(data, "active", str, SIMULATOR_PROFILE, problems),
        mode=_choice(data, "mode", MODES, "ptt", problems),
        audio=_audio(data.get("audio"), problems),
        hotkeys=_build(HotkeySettings, data.get("hotkeys"), problems, "hotkeys"),
        recording=_build(RecordingSettings, data.get("recording"), problems, "recording"),
        tools=_tools(data.get("tools"), problems),
        history=_history(data.get("history"), problems),
        appearance=_choice(data, "appearance", APPEARANCES, "system", problems),
    )
    if settings.active not in {p.name for p in profiles}:
        settings = dataclasses.replace(settings, active=profiles[0].name)
    return settings


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _profile(data: Any, problems: list[str]) -> ProviderProfile | None:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        problems.append("a profile without a name was dropped")
        return None
    session = _session(data.get("session"), problems, data["name"])
    profile = _build(
        ProviderProfile,
        {k: v for k, v in data.items() if k != "session"},
        problems,
        f"profile {data['name']}",
    )
    return dataclasses.replace(profile, session=session)


def _session(data: Any, problems: list[str], where: str) -> SessionConfig:
    if not isinstance(data, dict):
        return SessionConfig()
    td = data.get("turn_detection")
    tools = tuple(
        _build(FunctionTool, t, problems, where)
        for t in data.get("tools") or ()
        if isinstance(t, dict)
    )
    # MCP servers are app settings (`tools`), filled in at connect time: never read from a profile.
    fields = {k: v for k, v in data.items() if k not in ("turn_detection", "tools", "mcp_servers")}
    config = _build(SessionConfig, fields, problems, f"{where} session")
    turn = None if td is None else _build(TurnDetection, td, problems, f"{where} turn detection")
    return dataclasses.replace(config, turn_detection=turn, tools=tools)


def _tools(data: Any, problems: list[str]) -> ToolSettings:
    if not isinstance(data, dict):
        return ToolSettings()
    nested = ("mcp_servers", "remembered")
    tools = _build(
        ToolSettings, {k: v for k, v in data.items() if k not in nested}, problems, "tools"
    )
    servers = tuple(
        s for s in (_mcp_server(d, problems) for d in _list(data, "mcp_servers", problems)) if s
    )
    labels = [s.label for s in servers]
    servers = tuple(
        s for i, s in enumerate(servers) if s.label not in labels[:i]
    )  # labels name them: unique
    remembered = tuple(
        _build(RememberedApproval, d, problems, "tools: remembered approval")
        for d in _list(data, "remembered", problems)
        if isinstance(d, dict) and {"server", "tool", "approve"} <= d.keys()
    )
    return dataclasses.replace(tools, mcp_servers=servers, remembered=remembered)


def _mcp_server(data: Any, problems: list[str]) -> McpServerSettings | None:
    if not isinstance(data, dict) or not isinstance(data.get("label"), str) or not data["label"]:
        problems.append("an MCP server without a label was dropped")
        return None
    where = f"MCP server {data['label']}"
    server = _build(
        McpServerSettings, {k: v for k, v in data.items() if k != "allowed_tools"}, problems, where
    )
    allowed = data.get("allowed_tools", [])
    if isinstance(allowed, list) and all(isinstance(t, str) for t in allowed):
        server = dataclasses.replace(server, allowed_tools=tuple(allowed))
    else:
        problems.append(f"{where}: allowed_tools = {allowed!r} is not usable")
    if server.approval not in APPROVAL_POLICIES:
        problems.append(f"{where}: unknown approval policy {server.approval!r}")
        server = dataclasses.replace(server, approval="always")
    return server


def _history(data: Any, problems: list[str]) -> HistorySettings:
    history: HistorySettings = _build(HistorySettings, data, problems, "history")
    budget = history.monthly_budget_usd
    if budget is not None and (isinstance(budget, (str, bool)) or not 0 <= budget < float("inf")):
        problems.append(f"history: monthly_budget_usd = {budget!r} is not usable")
        history = dataclasses.replace(history, monthly_budget_usd=None)
    days = history.keep_days
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        problems.append(f"history: keep_days = {history.keep_days!r} is not usable")
        history = dataclasses.replace(history, keep_days=None)
    return history


def _audio(data: Any, problems: list[str]) -> AudioSettings:
    if not isinstance(data, dict):
        return AudioSettings()
    devices = {k: _device(data.get(k)) for k in ("input_device", "output_device")}
    audio = _build(
        AudioSettings, {k: v for k, v in data.items() if k not in devices}, problems, "audio"
    )
    if audio.echo not in ECHO_MODES:
        problems.append(f"audio: unknown echo mode {audio.echo!r}")
        audio = dataclasses.replace(audio, echo="aec")
    if audio.block_ms not in AUDIO_BLOCKS_MS:
        problems.append(f"audio: block_ms = {audio.block_ms!r} is not one of {AUDIO_BLOCKS_MS}")
        audio = dataclasses.replace(audio, block_ms=AudioSettings.block_ms)
    return dataclasses.replace(
        audio, input_device=devices["input_device"], output_device=devices["output_device"]
    )


def _device(data: Any) -> DeviceKey | None:
    if (
        isinstance(data, dict)
        and isinstance(data.get("name"), str)
        and isinstance(data.get("hostapi"), str)
    ):
        return DeviceKey(data["name"], data["hostapi"])
    return None


_Built = TypeVar("_Built")


def _build(cls: type[_Built], data: Any, problems: list[str], where: str) -> _Built:
    """`cls` from the fields of `data` whose type matches the default's; others noted."""
    if not isinstance(data, dict):
        return cls()
    defaults = cls()
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]  # every _Built is a dataclass
        if f.name not in data:
            continue
        value, default = data[f.name], getattr(defaults, f.name)
        if (value is None and "None" in str(f.type)) or _fits(value, default):
            kwargs[f.name] = value
        else:
            problems.append(f"{where}: {f.name} = {value!r} is not usable")
    return cls(**kwargs)


def _fits(value: Any, default: Any) -> bool:
    if default is None:
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, dict):
        return isinstance(value, dict)
    return isinstance(value, type(default))


def _list(data: dict[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key} is not a list")
        return []
    return value


def _value(data: dict[str, Any], key: str, kind: type, default: Any, problems: list[str]) -> Any:
    value = data.get(key, default)
    if isinstance(value, kind):
        return value
    problems.append(f"{key} = {value!r} is not usable")
    return default


def _choice(
    data: dict[str, Any], key: str, choices: tuple[str, ...], default: str, problems: list[str]
) -> str:
    value = data.get(key, default)
    if isinstance(value, str) and value in choices:
        return value
    problems.append(f"{key}: {value!r} is not one of {', '.join(choices)}")
    return default
