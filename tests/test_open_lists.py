"""Model ids, voices and transcription models are free text: the lists TalkApp ships are
suggestions. On Azure the transcription model is a deployment's name, and the simulator's
Azure door takes any."""

import json

from fake_keys import fake_key
from test_cli_say import talkapp

from talkapp.compare.configs import parse_config
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import SimulatorConfig


def test_say_on_azure_sends_the_transcription_deployment_it_was_given(stereo_wav, simulator_thread):
    sim = simulator_thread(SimulatorConfig())
    run = talkapp(
        "say",
        str(stereo_wav),
        "--provider",
        "azure",
        "--base-url",
        f"ws://127.0.0.1:{sim.port}",
        "--transcription",
        "my-transcribe",
        "--fast",
        "--json",
        env_extra={"AZURE_OPENAI_API_KEY": fake_key("azure-key-0000000000")},
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["status"] == "completed"
    (record,) = sim.connections
    update = record.received[0]["session"]
    assert (
        update["audio"]["input"]["transcription"]["model"] == "my-transcribe"
        and record.errors == []
    )


def test_say_with_transcription_off(stereo_wav, simulator_thread):
    sim = simulator_thread(SimulatorConfig())
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        sim.url,
        "--transcription",
        "none",
        "--fast",
        "--json",
        env_extra={"TALKAPP_CUSTOM_API_KEY": fake_key("custom-key-0000000000")},
    )
    assert run.returncode == 0, run.stderr
    assert sim.connections[0].received[0]["session"]["audio"]["input"]["transcription"] is None


def test_compare_configs_take_any_voice_and_transcription_model():
    config = parse_config(
        "gpt-realtime-9,voice=nova-2,transcription=gpt-transcribe-next", [], ProviderProfile()
    )
    assert config.profile.model == "gpt-realtime-9"
    assert config.profile.session.voice == "nova-2"
    assert config.profile.session.transcription_model == "gpt-transcribe-next"


def test_say_tells_what_the_service_did_not_take(stereo_wav, simulator_thread):
    from talkapp.simulator import Knobs

    sim = simulator_thread(SimulatorConfig(knobs=Knobs(keep_voice="alloy")))
    env = {"TALKAPP_CUSTOM_API_KEY": fake_key("custom-key-0000000000")}
    run = talkapp(
        "say",
        str(stereo_wav),
        "--base-url",
        sim.url,
        "--voice",
        "marin",
        "--fast",
        "--json",
        env_extra=env,
    )
    assert run.returncode == 0, run.stderr
    notices = json.loads(run.stdout.strip().splitlines()[-1])["notices"]
    assert notices == ["The service kept voice alloy; marin is not available for this model."]
    table = talkapp(
        "say", str(stereo_wav), "--base-url", sim.url, "--voice", "marin", "--fast", env_extra=env
    )
    assert "Note" in table.stdout and "kept voice alloy" in table.stdout
