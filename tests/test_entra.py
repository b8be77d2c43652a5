"""Microsoft Entra ID sign-in for Azure: a token provider that hands out short-lived tokens
(what azure-identity's credentials do; azure-identity itself needs a real tenant, so a test
provider stands in for it) against the simulator's Azure door, which checks the bearer token."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from fake_keys import fake_key
from test_cli_say import talkapp

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.session.keeper import Backoff, Reconnected, SessionKeeper
from talkapp.settings.entra import (
    AZURE_SCOPE,
    MISSING,
    EntraToken,
    EntraUnavailable,
    identity_available,
)
from talkapp.settings.profile import ProviderProfile
from talkapp.simulator import Knobs, Simulator, SimulatorConfig


@dataclass
class Issued:
    token: str
    expires_on: float


class ShortLivedTokens:
    """Each `get_token` a new token, valid `lifetime_s` from the test's clock."""

    def __init__(self, clock, lifetime_s: float = 600.0) -> None:
        self.clock, self.lifetime_s = clock, lifetime_s
        self.scopes: list[tuple[str, ...]] = []

    def token_for(self, n: int) -> str:
        return fake_key(f"entra-token-000000-{n:04d}")

    def get_token(self, *scopes: str) -> Issued:
        self.scopes.append(scopes)
        return Issued(self.token_for(len(self.scopes)), self.clock() + self.lifetime_s)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_token_is_reused_while_it_has_time_left_and_renewed_before_it_expires():
    clock = Clock()
    provider = ShortLivedTokens(clock)
    source = EntraToken(provider, clock=clock, renew_before_s=300)
    first = await source.current()
    clock.now += 200
    assert await source.current() == first and source.renewals == 1
    clock.now += 101  # 299 s left: less than the margin
    assert await source.current() != first and source.renewals == 2
    assert provider.scopes == [(AZURE_SCOPE,), (AZURE_SCOPE,)]


async def test_a_failing_sign_in_is_one_line():
    class Broken:
        def get_token(self, *scopes):
            raise RuntimeError(
                "DefaultAzureCredential failed to retrieve a token.\nAttempted credentials: …"
            )

    with pytest.raises(EntraUnavailable) as failed:
        await EntraToken(Broken()).current()
    assert "\n" not in str(failed.value) and "az login" in str(failed.value)
    assert "failed to retrieve a token" in str(failed.value)


async def test_the_bearer_token_reaches_azure_and_is_renewed_across_reconnects():
    clock = Clock()
    provider = ShortLivedTokens(clock)
    tokens = frozenset(provider.token_for(n) for n in range(1, 10))
    async with Simulator(SimulatorConfig(api_keys=tokens, knobs=Knobs(audio_pace=0))) as sim:
        profile = ProviderProfile(
            provider="azure",
            base_url=f"ws://127.0.0.1:{sim.port}",
            model="gpt-realtime",
            sign_in="entra",
        )
        endpoint = profile.endpoint()
        assert endpoint.auth == "bearer" and endpoint.headers("T") == {"Authorization": "Bearer T"}
        source = EntraToken(provider, clock=clock)
        keeper = SessionKeeper(
            endpoint,
            source,
            lambda: cmd.SessionConfig(turn_detection=None),
            backoff=Backoff(first_s=0.01, cap_s=0.05, attempts=3),
            seed=1,
        )
        await keeper.open()
        first = sim.connections[0].headers
        assert first["authorization"].startswith("Bearer ") and "api-key" not in first
        # the token nears its end while the session runs: the keeper renews it in the background
        clock.now += 400
        async with asyncio.timeout(10):
            while source.renewals < 2:
                await asyncio.sleep(0.05)
        # a drop: the new session is opened with the renewed token
        events = keeper.events()
        sim.knobs.drop_after_audio_deltas = 1
        await keeper.send(cmd.SendText("Hello"))
        await keeper.send(cmd.CreateResponse())
        async for event in events:
            if isinstance(event, Reconnected):
                break
        second = sim.connections[-1].headers
        assert (
            second["authorization"] != first["authorization"]
        )  # recorded masked: its last four differ
        assert second["authorization"].endswith(provider.token_for(2)[-4:])
        sim.knobs.drop_after_audio_deltas = None
        await keeper.send(cmd.SendText("Back?"))
        await keeper.send(cmd.CreateResponse())
        async for event in events:
            if isinstance(event, ev.ResponseDone):
                assert event.status == "completed"
                break
        await keeper.close()


@pytest.mark.skipif(
    identity_available(),
    reason="azure-identity is installed here; the message is for when it is not",
)
def test_without_azure_identity_say_tells_what_to_install(stereo_wav):
    run = talkapp(
        "say",
        str(stereo_wav),
        "--provider",
        "azure",
        "--base-url",
        "my-resource",
        "--sign-in",
        "entra",
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert MISSING in run.stderr and "talkapp[azure]" in run.stderr


def test_entra_is_for_azure_profiles_only(stereo_wav):
    run = talkapp("say", str(stereo_wav), "--sign-in", "entra", "--base-url", "ws://127.0.0.1:9/v1")
    assert run.returncode == 1 and "--provider azure" in run.stderr


def test_the_settings_say_what_entra_needs():
    from talkapp.ui.settings.rules import sign_in_note

    assert sign_in_note("key") == ""
    assert sign_in_note("entra", available=False) == f"⚠ {MISSING}"
    assert "no API key is needed" in sign_in_note("entra", available=True)


def test_sign_in_survives_a_restart(tmp_path):
    from talkapp.settings.model import Settings
    from talkapp.settings.store import SettingsStore

    store = SettingsStore(tmp_path)
    profile = ProviderProfile(
        name="Work", provider="azure", base_url="res", sign_in="entra", key_name="azure"
    )
    store.save(Settings().with_profile(profile))
    loaded = store.load().settings
    assert loaded.profiles[-1].sign_in == "entra" and loaded.profiles[-1].uses_entra
