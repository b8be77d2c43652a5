"""A secret goes only where it belongs: the OpenAI key only to OpenAI's host unless the profile
shares it, OPENAI_API_KEY only to OpenAI unless the profile opts in, MCP servers (and their
auth headers) only to OpenAI and Azure unless the profile opts in."""

from __future__ import annotations

import dataclasses

import pytest
from fake_keys import fake_key
from test_cli_say import talkapp
from test_transport_security import _port, _Recorder, _write_short_wav, serving

from talkapp.settings.model import Settings, from_json, to_json
from talkapp.settings.profile import ProviderProfile, command_line_profile


@pytest.mark.parametrize(
    "base_url, problem",
    [
        ("https://api.openai.com/v1", False),
        ("https://api.x.ai/v1", True),  # an OpenAI profile edited to another company's host
        ("ws://127.0.0.1:8765/v1", True),
        ("https://api.openai.com.evil.example/v1", True),
    ],
)
def test_an_openai_profile_pointing_elsewhere_does_not_get_the_openai_key(base_url, problem):
    profile = ProviderProfile(base_url=base_url)
    assert bool(profile.key_problem) is problem
    if problem:
        assert profile.key_problem.startswith("This OpenAI profile points at ")
        assert dataclasses.replace(profile, share_openai_key=True).key_problem is None


def test_openai_api_key_serves_custom_and_azure_only_by_opt_in():
    for provider in ("custom", "azure", "azure_preview"):
        profile = ProviderProfile(provider=provider, base_url="https://example.test/v1")
        assert "OPENAI_API_KEY" not in profile.env_vars
        assert dataclasses.replace(profile, share_openai_key=True).env_vars[-1] == "OPENAI_API_KEY"
    assert ProviderProfile().env_vars == ("OPENAI_API_KEY",)
    assert "OPENAI_API_KEY" not in ProviderProfile(provider="xai", share_openai_key=True).env_vars


@pytest.mark.parametrize(
    "profile, sends",
    [
        (ProviderProfile(), True),  # OpenAI
        (ProviderProfile(provider="azure", base_url="my-res"), True),
        (ProviderProfile(provider="azure_preview", base_url="my-res"), True),
        (ProviderProfile(provider="simulator", base_url=""), True),
        (ProviderProfile(base_url="https://api.x.ai/v1"), False),  # an OpenAI profile pointed away
        (ProviderProfile(provider="custom", base_url="https://gw.example/v1"), False),
        (ProviderProfile(provider="xai", base_url="https://api.x.ai/v1"), False),
        (
            ProviderProfile(
                provider="custom", base_url="https://gw.example/v1", send_mcp_servers=True
            ),
            True,
        ),
    ],
)
def test_mcp_servers_go_only_to_providers_that_run_them_or_by_opt_in(profile, sends):
    assert profile.sends_mcp_servers is sends


def test_the_opt_ins_are_kept_in_the_settings_file():
    profile = ProviderProfile(
        name="Gateway",
        provider="custom",
        base_url="https://gw.example/v1",
        share_openai_key=True,
        send_mcp_servers=True,
    )
    problems: list[str] = []
    saved = from_json(to_json(Settings().with_profile(profile)), problems)
    kept = next(p for p in saved.profiles if p.name == "Gateway")
    assert problems == [] and kept.share_openai_key and kept.send_mcp_servers
    old = {"name": "Old", "provider": "custom", "base_url": "https://gw.example/v1"}  # before them
    loaded = from_json({"profiles": [old]}, problems)
    kept = next(p for p in loaded.profiles if p.name == "Old")
    assert not kept.share_openai_key and not kept.send_mcp_servers


def test_say_refuses_to_send_the_openai_key_to_another_host_and_names_the_way_out(tmp_path):
    wav = tmp_path / "in.wav"
    _write_short_wav(wav)
    key = fake_key("openai-" + "z" * 30)
    with serving(_Recorder) as server:
        url = f"ws://127.0.0.1:{_port(server)}/v1"
        run = talkapp(
            "say",
            str(wav),
            "--provider",
            "openai",
            "--base-url",
            url,
            "--fast",
            env_extra={"OPENAI_API_KEY": key},
        )
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    assert "points at 127.0.0.1" in run.stderr and "--share-openai-key" in run.stderr
    assert server.received == [] and key not in run.stderr


def test_say_to_a_custom_server_does_not_fall_back_to_openai_api_key(tmp_path):
    wav = tmp_path / "in.wav"
    _write_short_wav(wav)
    with serving(_Recorder) as server:
        run = talkapp(
            "say",
            str(wav),
            "--base-url",
            f"ws://127.0.0.1:{_port(server)}/v1",
            "--fast",
            env_extra={"OPENAI_API_KEY": fake_key("openai-" + "w" * 30)},
        )
    assert run.returncode == 1 and "TALKAPP_CUSTOM_API_KEY" in run.stderr
    assert "OPENAI_API_KEY" not in run.stderr and server.received == []


def test_command_line_opt_in_shares_the_key():
    profile = command_line_profile("ws://127.0.0.1:1/v1", "custom", share_openai_key=True)
    assert profile.env_vars == ("TALKAPP_CUSTOM_API_KEY", "OPENAI_API_KEY")
