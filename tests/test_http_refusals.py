"""Refusals at the WebSocket upgrade: Azure answers a bad key, a missing deployment or a rate
limit with an HTTP status and `{"error": {"code", "message"}}`; OpenAI a key without access with
403. `say` exits 1 with one line carrying the service's own words and the fix; the engine's
keeper does not retry what the same request gets again."""

from __future__ import annotations

import pytest
from fake_keys import fake_key
from test_cli_say import talkapp

from talkapp.session.refusals import explain_refusal, retry_after_s, said
from talkapp.simulator import Knobs, SimulatorConfig
from talkapp.transport.websocket import HttpRefusal

GOOD = fake_key("azure-good-0000000000")
AZURE_GA = "wss://res.openai.azure.com/openai/v1/realtime?model=voice-prod"


def _azure_say(wav, sim, key: str, model: str = "gpt-realtime"):
    base = f"ws://127.0.0.1:{sim.port}"
    return talkapp(
        "say",
        str(wav),
        "--provider",
        "azure",
        "--base-url",
        base,
        "--model",
        model,
        "--fast",
        env_extra={"AZURE_OPENAI_API_KEY": key},
    )


def _one_line(run) -> str:
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    return run.stderr


def test_say_against_azure_with_a_wrong_key_names_azures_words_and_the_key(
    stereo_wav, simulator_thread
):
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({GOOD})))
    wrong = fake_key("azure-wrong-000000000")
    line = _one_line(_azure_say(stereo_wav, sim, wrong))
    assert (
        "HTTP 401" in line and "Access denied due to invalid subscription key" in line
    )  # Azure's words
    assert "key" in line.split("):", 1)[1] and "AZURE_OPENAI_API_KEY" in line  # … and the fix
    assert wrong not in line and wrong[-6:] not in line
    assert sim.connections[-1].http_status == 401


def test_say_against_a_missing_azure_deployment_names_the_deployment(stereo_wav, simulator_thread):
    sim = simulator_thread(SimulatorConfig())
    line = _one_line(_azure_say(stereo_wav, sim, GOOD, model="voice-nowhere"))
    assert "HTTP 404" in line and "DeploymentNotFound" in line and "does not exist" in line
    assert "'voice-nowhere'" in line and "deployment name" in line


def test_say_against_an_azure_rate_limit_says_how_long_to_wait(stereo_wav, simulator_thread):
    sim = simulator_thread(SimulatorConfig(knobs=Knobs(azure_rate_limited_s=17)))
    line = _one_line(_azure_say(stereo_wav, sim, GOOD))
    assert "HTTP 429" in line and "wait 17 s" in line and "Please retry after 17 seconds" in line


# ---- the explanation alone ----


def test_any_provider_keeps_the_status_and_the_body():
    refusal = HttpRefusal(
        "api.openai.com",
        403,
        '{"error": {"code": "model_not_found", "message": '
        '"Your project does not have access to model gpt-realtime-2"}}',
    )
    line = explain_refusal(
        refusal, "wss://api.openai.com/v1/realtime?model=gpt-realtime-2", "gpt-realtime-2"
    )
    assert line.startswith(
        "api.openai.com refused the connection with HTTP 403 (model_not_found: Your project"
    )
    assert "no access to model gpt-realtime-2" in line and "\n" not in line


@pytest.mark.parametrize(
    "body, code, message",
    [
        ('{"error": {"code": "401", "message": "Access denied"}}', "401", "Access denied"),
        ('{"code": "429", "message": "slow down"}', "429", "slow down"),
        ("Bad gateway\n  upstream down", None, "Bad gateway upstream down"),
        ("", None, ""),
    ],
)
def test_the_services_words_come_from_json_or_text(body, code, message):
    assert (said(body).code, said(body).message) == (code, message)


def test_a_key_quoted_in_a_refusal_is_redacted():
    key = fake_key("quoted-key-00000000000")
    refusal = HttpRefusal(
        "h", 401, f'{{"error": {{"message": "Incorrect API key provided: {key}"}}}}'
    )
    assert key not in explain_refusal(refusal, AZURE_GA, "voice-prod")


@pytest.mark.parametrize(
    "header, message, seconds",
    [
        ("12", "", 12),
        (None, "Please retry after 6 seconds.", 6),
        (None, "later", None),
        ("Fri, 07 Aug", "", None),
    ],
)
def test_the_seconds_to_wait_come_from_retry_after_or_the_message(header, message, seconds):
    assert retry_after_s(HttpRefusal("h", 429, "", header), message) == seconds


def test_an_azure_400_is_azures_message():
    refusal = HttpRefusal(
        "res.openai.azure.com",
        400,
        '{"error": {"code": "OperationNotSupported", '
        '"message": "The realtime operation does not work with the specified model."}}',
    )
    line = explain_refusal(refusal, AZURE_GA, "voice-prod")
    assert "HTTP 400 (OperationNotSupported: The realtime operation does not work" in line
