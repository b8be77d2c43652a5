"""A comparison as a long-lived app runs it (the GUI's Compare view), on a loop it shares.

The CLI's `command.run` owns its loop; an app's loop also carries the live conversation, so
here nothing blocks it: API keys are looked up in a worker thread (a keyring call is a D-Bus
round trip, maybe an unlock prompt) before the first run, and the built-in simulator, when a
configuration needs it, runs on a loop thread of its own, as the Controller runs it.

A configuration whose key is missing fails in its own row; the others run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from talkapp.compare.configs import CompareConfig
from talkapp.compare.prices import PriceTable
from talkapp.compare.runner import RunResult, run_comparison
from talkapp.session.one_turn import TurnFailed
from talkapp.settings.secrets import MissingKey, SessionKeys, find_api_key
from talkapp.simulator.config import SIMULATOR_KEY

if TYPE_CHECKING:
    from talkapp.simulator import SimulatorConfig


@dataclass(frozen=True)
class Plan:
    configs: tuple[CompareConfig, ...]
    pcm: bytes  # the utterance, 24 kHz mono PCM16
    repeat: int = 1
    concurrent: bool = False
    pace: float = 1.0  # 1: the utterance streams in real time, as from a microphone; 0: at once
    offline: bool = False  # every configuration on the built-in simulator
    simulator: SimulatorConfig | None = None  # how the built-in simulator behaves (None: defaults)


async def run_plan(
    plan: Plan,
    prices: PriceTable,
    progress: Callable[[RunResult], None],
    session_keys: SessionKeys | None = None,
) -> list[RunResult]:
    """Run on any asyncio loop; `progress` is called on that loop after each run.
    `session_keys`: the app's keys for this run only, looked up before the environment."""
    configs = [_routed(c, plan.offline) for c in plan.configs]
    keys = await asyncio.to_thread(_keys, configs, session_keys)

    def key_for(config: CompareConfig) -> str:
        if config.profile.needs_key and config.profile.key_problem:
            raise TurnFailed(config.profile.key_problem)  # the OpenAI key is not for that host
        key = keys[config.profile.key_name] if config.profile.needs_key else SIMULATOR_KEY
        if isinstance(key, MissingKey):
            raise TurnFailed(str(key))  # this configuration's row says so; the others run
        return key

    async with contextlib.AsyncExitStack() as stack:
        if any(not c.profile.needs_key for c in configs):
            url = await stack.enter_async_context(_simulator(plan.simulator))
            configs = [_at(c, url) if not c.profile.needs_key else c for c in configs]
        return await run_comparison(
            configs,
            plan.pcm,
            key_for,
            prices,
            repeat=plan.repeat,
            concurrent=plan.concurrent,
            pace=plan.pace,
            progress=progress,
        )


def _routed(config: CompareConfig, offline: bool) -> CompareConfig:
    if offline and config.profile.needs_key:
        return dataclasses.replace(
            config, profile=dataclasses.replace(config.profile, provider="simulator")
        )
    return config


def _at(config: CompareConfig, url: str) -> CompareConfig:
    return dataclasses.replace(config, profile=dataclasses.replace(config.profile, base_url=url))


def _keys(
    configs: Sequence[CompareConfig], session: SessionKeys | None
) -> dict[str, str | MissingKey]:
    """Blocking (keyring): each key entry once, or why it is missing."""
    found: dict[str, str | MissingKey] = {}
    entries = {c.profile.key_name: c.profile.env_vars for c in configs if c.profile.needs_key}
    for name, env_vars in entries.items():
        try:
            found[name] = find_api_key(name or "openai", env_vars, session).value
        except MissingKey as missing:
            found[name] = missing
    return found


def _simulator(config: SimulatorConfig | None):
    """The built-in simulator on its own loop thread, for as long as the comparison runs (a
    cancelled comparison still closes it)."""
    from talkapp.simulator.on_thread import SimulatorThread

    return SimulatorThread(config, name="talkapp-compare-simulator")
