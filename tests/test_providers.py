"""Provider presets and reasoning, end to end: every preset connects to the simulator over a real
socket with its own URL, key header and dialect and runs a whole turn; reasoning effort goes only
to the models that take it; settings saved before presets existed still load; the settings form
shows the resolved URL and dialect live for each provider."""

from __future__ import annotations

import dataclasses
import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from fake_keys import fake_key
from PySide6.QtCore import Qt

from talkapp.compare.configs import ConfigError, parse_config
from talkapp.controller import Controller
from talkapp.protocol import commands as cmd
from talkapp.protocol import ga
from talkapp.protocol.connection import RealtimeConnection
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.models import takes_reasoning
from talkapp.protocol.selection import DialectChoice, choose_dialect
from talkapp.session.client import RealtimeSession, SessionRefused
from talkapp.session.one_turn import run_one_turn
from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile, command_line_profile, simulator_profile
from talkapp.settings.providers import PRESETS, azure_endpoint, preset_for, provider_for_url
from talkapp.settings.store import SettingsStore
from talkapp.simulator import Knobs, Simulator, SimulatorConfig
from talkapp.threads.loop import LoopThread
from talkapp.ui.settings.dialog import SettingsDialog
from talkapp.ui.settings.rules import key_entry, new_key_name, problems

KEY = fake_key("test-0123456789abcdef")
MANUAL = cmd.SessionConfig(turn_detection=None)  # we commit the turn ourselves
WAIT = 20_000


@pytest.fixture
async def sim():
    config = SimulatorConfig(
        seed=3,
        knobs=Knobs(audio_pace=0),
        xai_ping_event_s=0.02,
        azure_deployments={"voice-prod": "gpt-realtime-2"},
    )
    async with Simulator(config) as running:
        yield running


def _http(sim) -> str:
    """The simulator as an Azure endpoint would be given: scheme and host, no path."""
    return f"http://{sim.host}:{sim.port}"


def _profiles(sim) -> dict[str, ProviderProfile]:
    """One profile per preset, pointed at the simulator the way a user would point it elsewhere."""
    return {
        "openai": ProviderProfile(name="OpenAI", base_url=sim.url, model="gpt-realtime"),
        "azure": ProviderProfile(
            name="Azure",
            provider="azure",
            base_url=_http(sim),
            model="gpt-realtime-2",
            deployment="voice-prod",
            key_name="azure",
        ),
        "azure_preview": ProviderProfile(
            name="Azure preview",
            provider="azure_preview",
            base_url=_http(sim),
            model="gpt-4o-realtime-preview",
            key_name="azure",
        ),
        "xai": ProviderProfile(
            name="Grok", provider="xai", base_url=sim.url, model="grok-voice-latest", key_name="xai"
        ),
        "custom": ProviderProfile(
            name="Proxy",
            provider="custom",
            base_url=sim.url,
            api="beta",
            model="gpt-4o-mini-realtime-preview",
            key_name="custom",
        ),
        "simulator": dataclasses.replace(
            simulator_profile(), base_url=sim.url, model="gpt-realtime-mini"
        ),
    }


# ---- the preset table, without a socket ----


@pytest.mark.parametrize(
    "profile, url, headers, dialect",
    [
        (
            ProviderProfile(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime",
            {"Authorization": "Bearer K"},
            "ga",
        ),
        (
            ProviderProfile(api="beta", model="gpt-4o-realtime-preview"),
            "wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview",
            {"Authorization": "Bearer K", "OpenAI-Beta": "realtime=v1"},
            "beta",
        ),
        (
            ProviderProfile(provider="azure", base_url="my-res", deployment="rt prod"),
            "wss://my-res.openai.azure.com/openai/v1/realtime?model=rt%20prod",
            {"api-key": "K"},
            "ga",
        ),
        (
            ProviderProfile(
                provider="azure",
                base_url="https://my-res.openai.azure.com/openai/v1/",
                model="gpt-realtime-2",
            ),
            "wss://my-res.openai.azure.com/openai/v1/realtime?model=gpt-realtime-2",
            {"api-key": "K"},
            "ga",
        ),
        (
            ProviderProfile(
                provider="azure_preview",
                base_url="my-res.openai.azure.com",
                model="gpt-4o-realtime-preview",
            ),
            "wss://my-res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-4o-realtime-preview",
            {"api-key": "K", "OpenAI-Beta": "realtime=v1"},
            "beta",
        ),  # the header as the SDK's Azure client sends it
        (
            ProviderProfile(
                provider="azure_preview",
                base_url="my-res",
                deployment="old",
                api_version="2024-10-01-preview",
            ),
            "wss://my-res.openai.azure.com/openai/realtime?api-version=2024-10-01-preview&deployment=old",
            {"api-key": "K", "OpenAI-Beta": "realtime=v1"},
            "beta",
        ),
        (
            ProviderProfile(
                provider="xai", base_url="https://api.x.ai/v1", model="grok-voice-latest"
            ),
            "wss://api.x.ai/v1/realtime?model=grok-voice-latest",
            {"Authorization": "Bearer K"},
            "xai",
        ),
        (
            ProviderProfile(
                provider="custom", base_url="http://127.0.0.1:8080/v1", model="gpt-realtime-2"
            ),
            "ws://127.0.0.1:8080/v1/realtime?model=gpt-realtime-2",
            {"Authorization": "Bearer K"},
            "ga",
        ),
        (
            ProviderProfile(
                provider="custom", base_url="https://proxy.example/v1", model="grok-voice-latest"
            ),
            "wss://proxy.example/v1/realtime?model=grok-voice-latest",
            {"Authorization": "Bearer K"},
            "xai",
        ),
    ],
    ids=[
        "openai",
        "openai-beta",
        "azure-name",
        "azure-url",
        "azure-preview",
        "azure-preview-version",
        "xai",
        "custom",
        "custom-grok",
    ],
)
def test_each_preset_builds_its_url_header_and_dialect(profile, url, headers, dialect):
    endpoint = profile.endpoint()
    assert (endpoint.url, endpoint.headers("K"), endpoint.choice.dialect.name) == (
        url,
        headers,
        dialect,
    )


@pytest.mark.parametrize(
    "provider, api, dialect",
    [
        ("azure", "beta", "beta"),
        ("xai", "ga", "ga"),
        ("azure_preview", "ga", "ga"),
        ("openai", "xai", "xai"),
    ],
)
def test_an_explicit_dialect_still_wins_over_the_presets(provider, api, dialect):
    profile = ProviderProfile(provider=provider, base_url="my-res", api=api)
    assert (
        profile.choice().dialect.name == dialect
        and profile.choice().describe() == profile.choice().dialect.label
    )
    assert (
        profile.endpoint().auth == preset_for(provider).auth
    )  # the key still travels the provider's way


def test_azure_endpoints_accept_a_name_a_host_or_a_url():
    assert azure_endpoint("res") == "https://res.openai.azure.com"
    assert azure_endpoint("res.openai.azure.com/") == "https://res.openai.azure.com"
    assert (
        azure_endpoint("https://res.cognitiveservices.azure.com/openai/realtime?x=1")
        == "https://res.cognitiveservices.azure.com"
    )
    assert (
        azure_endpoint("https://gateway.example/aoai/openai/v1") == "https://gateway.example/aoai"
    )
    assert azure_endpoint("  ") == ""


def test_each_provider_has_its_own_key_entry():
    stems = {p: PRESETS[p].key_name for p in PRESETS}
    assert stems == {
        "openai": "openai",
        "azure": "azure",
        "azure_preview": "azure",
        "xai": "xai",
        "gemini": "gemini",
        "custom": "custom",
        "simulator": "",
    }
    assert (
        new_key_name({"xai"}, "xai") == "xai-2" and new_key_name(set(), "azure_preview") == "azure"
    )
    openai = ProviderProfile(key_name="openai-2")
    as_xai = dataclasses.replace(openai, provider="xai", base_url="https://api.x.ai/v1")
    assert (
        key_entry(as_xai, openai, {"openai", "openai-2", "xai"}) == "xai-2"
    )  # the OpenAI key is not xAI's
    named = dataclasses.replace(openai, key_name="work")
    assert (
        key_entry(dataclasses.replace(named, provider="azure"), named, {"work"}) == "work"
    )  # the user's name
    azure = ProviderProfile(provider="azure", key_name="azure")
    assert (
        key_entry(dataclasses.replace(azure, provider="azure_preview"), azure, {"azure"}) == "azure"
    )


def test_an_unknown_provider_from_a_newer_version_behaves_as_a_custom_server():
    profile = ProviderProfile(
        provider="someday", base_url="https://gw.example/v1", model="gpt-realtime"
    )  # type: ignore[arg-type]
    assert (
        profile.needs_key
        and profile.endpoint().url == "wss://gw.example/v1/realtime?model=gpt-realtime"
    )


def test_address_problems_are_per_preset():
    found = problems(
        [
            ProviderProfile(name="A", provider="azure", base_url=""),
            ProviderProfile(name="B", provider="azure", base_url="my res"),
            ProviderProfile(
                name="C", provider="azure_preview", base_url="res", api_version="last week"
            ),
            ProviderProfile(name="D", provider="azure", base_url="ftp://res"),
            ProviderProfile(name="E", provider="xai", base_url=""),
            ProviderProfile(name="F", provider="azure", base_url="res"),
        ]
    )
    assert [(p.index, p.field) for p in found] == [
        (0, "base_url"),
        (1, "base_url"),
        (2, "api_version"),
        (3, "base_url"),
        (4, "base_url"),
    ]
    assert "Azure resource name or endpoint is empty" in found[0].message
    assert "is not an Azure resource name" in found[1].message
    assert "not a date like 2025-04-01-preview" in found[2].message
    assert "endpoint must start with https://" in found[3].message
    assert "xAI's is https://api.x.ai/v1" in found[4].message


# ---- every preset, a whole turn over a real socket ----


@pytest.mark.parametrize(
    "preset, path, dialect, model",
    [
        ("openai", "/v1/realtime?model=gpt-realtime", "ga", "gpt-realtime"),
        ("azure", "/openai/v1/realtime?model=voice-prod", "ga", "gpt-realtime-2"),
        (
            "azure_preview",
            "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-4o-realtime-preview",
            "beta",
            "gpt-4o-realtime-preview",
        ),
        ("xai", "/v1/realtime?model=grok-voice-latest", "xai", "grok-voice-latest"),
        (
            "custom",
            "/v1/realtime?model=gpt-4o-mini-realtime-preview",
            "beta",
            "gpt-4o-mini-realtime-preview",
        ),
        ("simulator", "/v1/realtime?model=gpt-realtime-mini", "ga", "gpt-realtime-mini"),
    ],
)
async def test_each_preset_runs_a_whole_turn_with_its_url_header_and_dialect(
    sim, utterance_pcm, preset, path, dialect, model
):
    profile = _profiles(sim)[preset]
    endpoint = profile.endpoint()
    assert endpoint.choice.dialect.name == dialect
    result = await run_one_turn(endpoint, KEY, MANUAL, utterance_pcm, pace=0)
    assert result.status == "completed" and result.reply_ms > 500 and result.assistant_transcript
    (record,) = sim.connections
    assert record.path == path
    assert (record.dialect, record.model) == (dialect, model)
    headers = record.headers
    if preset.startswith("azure"):
        assert headers["api-key"] == "sk-…cdef" and "authorization" not in headers
    else:
        assert headers["authorization"] == "Bearer sk-…cdef" and "api-key" not in headers
    assert ("openai-beta" in headers) == (dialect == "beta")
    assert headers.get("openai-beta", "realtime=v1") == "realtime=v1"
    assert (
        record.received[0]["type"] == "session.update" and record.errors == []
    )  # the shape fit the door


async def test_the_xai_session_is_the_hybrid_and_its_extra_events_stay_below_the_protocol(
    sim, utterance_pcm
):
    profile = dataclasses.replace(
        _profiles(sim)["xai"],
        session=dataclasses.replace(
            MANUAL, voice="Eve", instructions="Be brief.", reasoning_effort="low", speed=1.2
        ),
    )
    seen = []

    class Tap:
        def sent(self, command):
            pass

        def received(self, event):
            seen.append(type(event).__name__)

    await run_one_turn(profile.endpoint(), KEY, profile.session, utterance_pcm, pace=0, tap=Tap())
    (record,) = sim.connections
    assert record.sent_types()[:2] == ["conversation.created", "session.created"]
    assert "ping" in record.sent_types()
    session = record.received[0]["session"]
    assert session == {
        "turn_detection": None,
        "voice": "Eve",
        "instructions": "Be brief.",
        "tools": [],
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}},
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "speed": 1.2},
        },
        "reasoning": {"effort": "none"},
    }  # xAI takes high or none: low thinks not
    assert (
        seen[0] == "SessionStarted" and "Unrecognized" not in seen and "MalformedEvent" not in seen
    )


def test_xai_gets_its_own_vad_defaults_unless_the_profile_set_numbers():
    def turn(td, model="grok-voice-latest"):
        config = cmd.SessionConfig(turn_detection=td)
        wire = RealtimeConnection(choose_dialect("auto", model).dialect).send(
            cmd.ConfigureSession(config)
        )
        return json.loads(wire)["session"]["turn_detection"]

    assert turn(cmd.TurnDetection()) == {"type": "server_vad"}
    assert turn(cmd.TurnDetection(kind="semantic_vad")) == {"type": "server_vad"}
    assert turn(cmd.TurnDetection(threshold=0.85)) == {
        "type": "server_vad",
        "threshold": 0.85,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
    }


@pytest.mark.parametrize(
    "model, effort, sent",
    [
        ("grok-voice-latest", "high", {"effort": "high"}),
        ("grok-voice-think-fast-1.0", "minimal", {"effort": "none"}),
        ("grok-voice-think-fast-1.0", "medium", None),
        ("grok-voice-fast-1.0", "high", None),
    ],
)
def test_xai_reasoning_is_high_or_none_on_the_models_that_take_it(model, effort, sent):
    config = cmd.SessionConfig(reasoning_effort=effort)
    wire = RealtimeConnection(choose_dialect("auto", model).dialect).send(
        cmd.ConfigureSession(config)
    )
    assert json.loads(wire)["session"].get("reasoning") == sent


async def test_a_wrong_header_scheme_is_refused_at_the_door(sim):
    """Azure's door wants its key header, OpenAI's door a bearer token: the preset decides which."""
    azure = _profiles(sim)["azure"]
    as_bearer = dataclasses.replace(azure.endpoint(), auth="bearer")
    async with await RealtimeSession.open(
        as_bearer, KEY, MANUAL
    ):  # an Entra token is a bearer token
        pass
    openai = _profiles(sim)["openai"].endpoint()
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(dataclasses.replace(openai, auth="api-key"), KEY, MANUAL)
    assert refused.value.closed.code == 3000 and "No API key was sent" in str(refused.value)


# ---- reasoning effort: only where the model takes it ----


@pytest.mark.parametrize(
    "model, sent",
    [
        ("gpt-realtime-2", True),
        ("gpt-realtime-2.1", True),
        ("gpt-realtime-2.1-mini", True),
        ("gpt-realtime-2-2026-05-07", True),
        ("gpt-realtime", False),
        ("gpt-realtime-2025-08-28", False),
        ("gpt-realtime-mini", False),
        ("gpt-realtime-1.5", False),
        ("gpt-4o-realtime-preview", False),
        ("grok-voice-latest", False),
    ],
)
def test_the_encoder_sends_reasoning_only_to_the_gpt_realtime_2_family(model, sent):
    config = cmd.SessionConfig(reasoning_effort="medium")
    for setting in ("auto", "ga"):
        wire = json.loads(
            RealtimeConnection(choose_dialect(setting, model).dialect).send(
                cmd.ConfigureSession(config)
            )
        )
        assert ("reasoning" in wire["session"]) == (
            sent and wire["session"].get("type") == "realtime"
        )
    assert takes_reasoning(model) == sent


@pytest.mark.parametrize("model, sent", [("gpt-realtime-2", True), ("gpt-realtime", False)])
async def test_reasoning_reaches_the_service_only_where_allowed(sim, utterance_pcm, model, sent):
    config = dataclasses.replace(MANUAL, reasoning_effort="low")
    endpoint = ProviderProfile(base_url=sim.url, model=model).endpoint()
    result = await run_one_turn(endpoint, KEY, config, utterance_pcm, pace=0)
    (record,) = sim.connections
    assert result.status == "completed" and record.errors == []
    assert record.received[0]["session"].get("reasoning") == ({"effort": "low"} if sent else None)


async def test_the_service_refuses_reasoning_on_other_models(sim):
    """A client that sent the effort regardless (a dialect not bound to its model) is refused."""
    unbound = Endpoint(sim.url, "gpt-realtime", DialectChoice(ga.DIALECT, "ga"))
    with pytest.raises(SessionRefused) as refused:
        await RealtimeSession.open(
            unbound, KEY, dataclasses.replace(MANUAL, reasoning_effort="low")
        )
    error = refused.value.error
    assert (error.code, error.param, error.caused_by) == (
        "unknown_parameter",
        "session.reasoning",
        "ConfigureSession",
    )


def test_comparison_configs_follow_the_same_rule():
    base = ProviderProfile(name="base")
    assert (
        parse_config("gpt-realtime-2,reasoning=low", [], base).profile.session.reasoning_effort
        == "low"
    )
    azure = ProviderProfile(
        name="Azure 2", provider="azure", base_url="res", model="gpt-realtime-2"
    )
    assert (
        parse_config("Azure 2,reasoning=high", [azure], base).profile.session.reasoning_effort
        == "high"
    )
    with pytest.raises(ConfigError, match="gpt-realtime takes no reasoning effort"):
        parse_config("gpt-realtime,reasoning=low", [], base)
    with pytest.raises(ConfigError, match="use one of minimal, low, medium, high, xhigh"):
        parse_config("gpt-realtime-2,reasoning=lots", [], base)


# ---- settings files ----

PRE_PRESET_FILE = {  # a settings file as TalkApp wrote it before provider presets existed
    "profiles": [
        {
            "name": "Offline simulator",
            "provider": "simulator",
            "base_url": "",
            "api": "auto",
            "model": "gpt-realtime",
            "session": {
                "instructions": None,
                "voice": None,
                "output": "audio",
                "turn_detection": None,
                "transcription_model": "gpt-4o-mini-transcribe",
                "transcription_language": None,
                "noise_reduction": None,
                "tools": [],
                "max_output_tokens": None,
                "speed": None,
                "reasoning_effort": None,
            },
            "key_name": "",
            "allow_insecure": False,
        },
        {
            "name": "Work",
            "provider": "openai",
            "base_url": "https://api.openai.com/v1",
            "api": "ga",
            "model": "gpt-realtime-2",
            "session": {"voice": "marin", "reasoning_effort": "low"},
            "key_name": "openai",
            "allow_insecure": False,
        },
        {
            "name": "Lab",
            "provider": "custom",
            "base_url": "http://127.0.0.1:8765/v1",
            "api": "beta",
            "model": "gpt-4o-realtime-preview",
            "key_name": "openai-2",
        },
    ],
    "active": "Work",
    "mode": "ptt",
}


def test_a_settings_file_from_before_presets_loads_and_connects_as_before(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps(PRE_PRESET_FILE))
    loaded = SettingsStore(tmp_path).load()
    assert loaded.notices == ()
    work, lab = loaded.settings.profiles[1:]
    assert (work.deployment, work.api_version, work.session.reasoning_effort) == ("", "", "low")
    assert work.endpoint().url == "wss://api.openai.com/v1/realtime?model=gpt-realtime-2"
    assert work.endpoint().headers("K") == {"Authorization": "Bearer K"}
    assert lab.endpoint().url == "ws://127.0.0.1:8765/v1/realtime?model=gpt-4o-realtime-preview"
    assert lab.endpoint().choice.describe() == "beta" and lab.key_name == "openai-2"


def test_preset_profiles_survive_a_restart(tmp_path):
    profiles = [
        ProviderProfile(
            name="Azure",
            provider="azure_preview",
            base_url="res",
            deployment="old",
            api_version="2024-10-01-preview",
            key_name="azure",
        ),
        ProviderProfile(
            name="Grok",
            provider="xai",
            base_url="https://api.x.ai/v1",
            api="xai",
            model="grok-voice-latest",
            key_name="xai",
        ),
    ]
    settings = Settings()
    for profile in profiles:
        settings = settings.with_profile(profile)
    SettingsStore(tmp_path).save(settings)
    loaded = SettingsStore(tmp_path).load()
    assert loaded.notices == () and loaded.settings == settings


# ---- the settings form: provider picker, fields, resolved URL and dialect, live ----


class NoController:
    def test_connection(self, profile, api_key):
        raise AssertionError("no connection test expected here")


@pytest.fixture
def dialog(qtbot):
    def make(settings, controller=None) -> SettingsDialog:
        shown = SettingsDialog(settings, controller or NoController())
        qtbot.addWidget(shown)
        shown.show()
        names = [p.name for p in shown.profiles.profiles()]
        shown.profiles.list.setCurrentRow(names.index(settings.active))
        return shown

    return make


def retype(qtbot, field, text: str) -> None:
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    qtbot.keyClicks(field, text)


def pick(form, provider: str) -> None:
    form.provider.setCurrentIndex(form.provider.findData(provider))


def test_the_form_shows_each_providers_fields_url_and_dialect_live(qtbot, dialog):
    work = ProviderProfile(name="Work", model="gpt-realtime-2", key_name="openai")
    shown = dialog(dataclasses.replace(Settings().with_profile(work), active="Work"))
    page, form = shown.profiles, shown.profiles.form
    visible = lambda widget: form.layout_.isRowVisible(widget)
    assert [form.provider.itemData(i) for i in range(form.provider.count())] == list(PRESETS)
    assert form.resolved.text() == "→ GA for gpt-realtime-2"
    assert (
        form.connects.text()
        == "→ wss://api.openai.com/v1/realtime?model=gpt-realtime-2 · Authorization: Bearer <key>"
    )
    assert not visible(form.deployment) and not visible(form.api_version)

    pick(form, "azure")  # the OpenAI URL gives way to Azure's resource field; the model stays
    assert form.base_url.text() == "" and form.model.currentText() == "gpt-realtime-2"
    assert form.layout_.labelForField(form.base_url).text() == "Re&source or endpoint:"
    assert visible(form.deployment) and not visible(form.api_version)
    assert "Azure resource name or endpoint is empty" in form.connects.text()
    qtbot.keyClicks(form.base_url, "my-res")
    qtbot.keyClicks(form.deployment, "voice-prod")
    assert (
        form.connects.text()
        == "→ wss://my-res.openai.azure.com/openai/v1/realtime?model=voice-prod · api-key: <key>"
    )
    assert form.resolved.text() == "→ GA for gpt-realtime-2" and form.reasoning.isEnabled()
    assert page.profiles()[1].key_name == "azure"  # its own key entry, not OpenAI's
    assert (
        "transcription deployment" in form.transcription.toolTip()
    )  # Azure wants its deployment's name
    assert visible(form.sign_in) and not visible(form.sign_in_note)  # API key by default
    form.sign_in.setCurrentIndex(form.sign_in.findData("entra"))
    assert page.profiles()[1].sign_in == "entra" and visible(form.sign_in_note)
    assert form.connects.text().endswith(
        "Authorization: Bearer <key>"
    )  # an Entra token travels as a bearer
    assert "azure-identity" in form.sign_in_note.text()
    form.sign_in.setCurrentIndex(form.sign_in.findData("key"))
    form.transcription.setCurrentText("my-transcribe")
    assert page.profiles()[1].session.transcription_model == "my-transcribe"
    qtbot.mouseClick(
        form.api_buttons["beta"], Qt.MouseButton.LeftButton
    )  # explicit wins, with a reason
    assert form.resolved.text() == "→ beta, as chosen (Auto would pick GA)"
    assert "GA only" in form.warning.text() and form.warning.isVisible()
    qtbot.mouseClick(form.api_buttons["auto"], Qt.MouseButton.LeftButton)

    pick(form, "azure_preview")  # same resource; a preview model; the API version appears
    assert (
        form.base_url.text() == "my-res" and form.model.currentText() == "gpt-4o-realtime-preview"
    )
    assert visible(form.api_version) and form.api_version.currentText() == "2025-04-01-preview"
    assert form.connects.text() == (
        "→ wss://my-res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview"
        "&deployment=voice-prod · api-key: <key> · OpenAI-Beta: realtime=v1"
    )
    assert (
        form.resolved.text() == "→ beta for gpt-4o-realtime-preview"
        and not form.reasoning.isEnabled()
    )
    form.api_version.setCurrentText("2024-10-01-preview")
    assert "api-version=2024-10-01-preview" in form.connects.text()

    pick(form, "xai")
    assert (
        form.base_url.text() == "https://api.x.ai/v1"
        and form.model.currentText() == "grok-voice-latest"
    )
    assert (
        not visible(form.deployment)
        and form.layout_.labelForField(form.base_url).text() == "Base &URL:"
    )
    assert not visible(form.sign_in)
    assert (
        form.connects.text()
        == "→ wss://api.x.ai/v1/realtime?model=grok-voice-latest · Authorization: Bearer <key>"
    )
    assert form.resolved.text() == "→ xAI for grok-voice-latest"
    assert [form.voice.itemText(i) for i in range(1, form.voice.count())] == [
        "Ara",
        "Rex",
        "Sal",
        "Eve",
        "Leo",
    ]
    assert page.profiles()[1].key_name == "xai"
    assert not form.transcription.isEnabled() and visible(
        form.xai_note
    )  # what xAI's dialect leaves out, said
    assert "no input transcription or semantic VAD" in form.xai_note.text()

    pick(form, "custom")  # xAI's URL and model give way to the custom preset's
    assert form.base_url.text() == "" and "the base URL is empty" in form.connects.text()
    assert form.transcription.isEnabled() and not visible(form.xai_note)
    assert form.model.currentText() == "gpt-realtime"
    assert (
        "offered on 20" in form.transcription.toolTip() and "offered on 20" in form.voice.toolTip()
    )
    qtbot.keyClicks(form.base_url, "http://127.0.0.1:9000/v1")
    assert (
        form.connects.text()
        == "→ ws://127.0.0.1:9000/v1/realtime?model=gpt-realtime · Authorization: Bearer <key>"
    )
    retype(qtbot, form.model.lineEdit(), "grok-voice-latest")
    assert form.resolved.text() == "→ xAI for grok-voice-latest"  # auto knows xAI's models anywhere

    pick(form, "openai")
    assert form.base_url.text() == "http://127.0.0.1:9000/v1"  # typed by the user: kept
    retype(qtbot, form.model.lineEdit(), "gpt-realtime")
    assert not form.reasoning.isEnabled() and form.reasoning_note.isVisible()
    assert form.reasoning_note.text().startswith("gpt-realtime takes no reasoning effort")
    retype(qtbot, form.model.lineEdit(), "gpt-realtime-2.1-mini")
    assert form.reasoning.isEnabled() and not form.reasoning_note.isVisible()

    pick(form, "simulator")
    assert (
        form.connects.text().startswith("→ the built-in simulator")
        and not form.base_url.isEnabled()
    )


def test_openai_with_beta_shows_the_retirement(qtbot, dialog):
    work = ProviderProfile(name="Work", model="gpt-realtime", key_name="openai")
    form = dialog(dataclasses.replace(Settings().with_profile(work), active="Work")).profiles.form
    qtbot.mouseClick(form.api_buttons["beta"], Qt.MouseButton.LeftButton)
    assert "OpenAI retired the beta dialect on 2026-05-12" in form.warning.text()
    assert form.connects.text().endswith("· OpenAI-Beta: realtime=v1")


def test_the_connection_test_reaches_azure_through_its_preset(qtbot, dialog):
    sim_loop = LoopThread("test-simulator").start()
    sim = Simulator(
        SimulatorConfig(
            api_keys=frozenset({KEY}), azure_deployments={"voice-prod": "gpt-realtime-2"}
        )
    )
    sim_loop.submit(sim.__aenter__()).result(10)
    azure = ProviderProfile(
        name="Azure",
        provider="azure",
        base_url=_http(sim),
        model="gpt-realtime-2",
        deployment="voice-prod",
        key_name="azure-test",
    )
    settings = dataclasses.replace(Settings().with_profile(azure), active="Azure")
    controller = Controller(settings, lambda event: None)
    try:
        box = dialog(settings, controller).profiles.key
        qtbot.keyClicks(box.field, KEY)
        with qtbot.waitSignal(box.test_finished, timeout=WAIT) as finished:
            qtbot.mouseClick(box.test_button, Qt.MouseButton.LeftButton)
        assert (
            finished.args[0].startswith("✓ Connected in")
            and "gpt-realtime-2 · GA (auto)" in finished.args[0]
        )
        (record,) = sim.connections
        assert (
            record.path == "/openai/v1/realtime?model=voice-prod"
            and record.headers["api-key"] == "sk-…cdef"
        )
    finally:
        controller.shutdown()
        sim_loop.submit(sim.__aexit__(None, None, None)).result(10)
        sim_loop.stop()


def test_each_provider_looks_at_its_own_variable_first_and_xai_never_gets_the_openai_key(
    monkeypatch,
):
    """OPENAI_API_KEY is the fallback where the service is OpenAI-compatible, once the profile
    opts in (share_openai_key); a provider's own variable wins over it; xAI (another company)
    never gets the OpenAI key."""
    import keyring
    from keyring.backends import fail

    from talkapp.settings.profile import ProviderProfile
    from talkapp.settings.secrets import MissingKey, find_api_key

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        monkeypatch.setenv("OPENAI_API_KEY", fake_key("openai-only"))
        expected = {
            "openai": ("OPENAI_API_KEY",),
            "azure": ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"),
            "azure_preview": ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"),
            "xai": ("XAI_API_KEY",),
            "custom": ("TALKAPP_CUSTOM_API_KEY", "OPENAI_API_KEY"),
        }
        for provider, env_vars in expected.items():
            profile = ProviderProfile(name=provider, provider=provider, key_name=provider)
            assert profile.env_vars == env_vars[:1]  # no fallback unless the profile opts in
            profile = dataclasses.replace(profile, share_openai_key=True)
            assert profile.env_vars == env_vars and profile.env_var == env_vars[0]
            if provider == "xai":
                with pytest.raises(MissingKey, match="XAI_API_KEY for this run"):
                    find_api_key(profile.key_name, profile.env_vars)
                continue
            assert find_api_key(profile.key_name, profile.env_vars).value == fake_key("openai-only")
            if len(env_vars) > 1:
                monkeypatch.setenv(env_vars[0], f"sk-own-{provider}")
                found = find_api_key(profile.key_name, profile.env_vars)
                assert (found.value, found.source) == (
                    f"sk-own-{provider}",
                    f"environment ({env_vars[0]})",
                )
                monkeypatch.delenv(env_vars[0])
        monkeypatch.delenv("OPENAI_API_KEY")
        with pytest.raises(
            MissingKey, match=r"set TALKAPP_CUSTOM_API_KEY \(or OPENAI_API_KEY\) for this run"
        ):
            find_api_key("custom", ("TALKAPP_CUSTOM_API_KEY", "OPENAI_API_KEY"))
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "url, provider",
    [
        (None, "openai"),
        ("https://api.openai.com/v1", "openai"),
        ("wss://api.openai.com/v1", "openai"),
        ("https://my-res.openai.azure.com", "azure"),
        ("my-res.openai.azure.com", "azure"),
        ("https://api.x.ai/v1", "xai"),
        ("http://127.0.0.1:8765/v1", "custom"),
        ("https://api.openai.com.evil.example/v1", "custom"),
        ("https://proxy.example/openai.azure.com", "custom"),
    ],
)
def test_the_command_line_provider_follows_the_url(url, provider):
    assert provider_for_url(url) == provider
    profile = command_line_profile(url)
    assert profile.provider == provider and profile.key_name == preset_for(provider).key_name


def test_a_named_command_line_provider_wins_and_brings_its_endpoint_and_model():
    xai = command_line_profile(None, "xai")
    assert (xai.base_url, xai.model, xai.env_var) == (
        "https://api.x.ai/v1",
        "grok-voice-latest",
        "XAI_API_KEY",
    )
    assert xai.endpoint().url == "wss://api.x.ai/v1/realtime?model=grok-voice-latest"
    proxy = command_line_profile("http://127.0.0.1:9000/v1", "openai", model="gpt-realtime-2")
    assert (proxy.env_var, proxy.key_name, proxy.model) == (
        "OPENAI_API_KEY",
        "openai",
        "gpt-realtime-2",
    )
    preview = command_line_profile("my-res", "azure_preview")
    assert preview.endpoint().url.startswith(
        "wss://my-res.openai.azure.com/openai/realtime?api-version="
    )


def test_the_gemini_provider():
    from talkapp.settings.profile import GEMINI_VOICES, command_line_profile
    from talkapp.ui.settings.rules import dialect_line, reasoning_note, voices_for

    profile = command_line_profile(None, "gemini")
    endpoint = profile.endpoint()
    assert profile.model == "gemini-2.5-flash-native-audio-preview-12-2025"
    assert endpoint.url == (
        "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta"
        ".GenerativeService.BidiGenerateContent"
    )
    assert endpoint.headers("k-1") == {"x-goog-api-key": "k-1"}
    assert profile.key_name == "gemini"
    assert profile.env_vars == ("GEMINI_API_KEY", "GOOGLE_API_KEY")  # never OPENAI_API_KEY
    shared = dataclasses.replace(profile, share_openai_key=True)
    assert "OPENAI_API_KEY" not in shared.env_vars
    assert provider_for_url("https://generativelanguage.googleapis.com") == "gemini"
    assert voices_for("auto", profile.model, "gemini") == GEMINI_VOICES
    assert "not sent" in reasoning_note("auto", profile.model, "gemini")
    line = dialect_line("ga", profile.model, profile.base_url, "gemini")
    assert "choose Gemini or Auto" in line.warning
    assert dialect_line("auto", profile.model, profile.base_url, "gemini").text.startswith(
        "→ Gemini for"
    )
