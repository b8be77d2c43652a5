"""Comparison runs: the same utterance through each configuration, each run on a fresh session.

One after another by default (so runs do not slow each other down), all at once on request.
A configuration that fails records its error in its runs and the others carry on.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from talkapp.compare.configs import CompareConfig
from talkapp.compare.prices import PriceTable
from talkapp.protocol.events import Usage
from talkapp.session.one_turn import Timings, TurnFailed, run_one_turn


@dataclass(frozen=True)
class RunResult:
    config: str  # the configuration's label
    run: int  # 1-based repetition
    model: str
    dialect: str
    error: str | None = None
    timings: Timings | None = None
    reply_ms: float | None = None
    usage: Usage | None = None
    cost: float | None = None  # USD; None: unknown (no price, or no usage reported)
    transcript: str = ""
    reply_pcm: bytes = b""

    @property
    def ok(self) -> bool:
        return self.error is None


KeyFor = Callable[[CompareConfig], str]


async def run_comparison(
    configs: Sequence[CompareConfig],
    pcm: bytes,
    key_for: KeyFor,
    prices: PriceTable,
    *,
    repeat: int = 1,
    concurrent: bool = False,
    pace: float = 1.0,
    progress: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    async def one_config(config: CompareConfig) -> list[RunResult]:
        results = []
        for run in range(1, repeat + 1):
            result = await _run(config, run, pcm, key_for, prices, pace)
            results.append(result)
            if progress is not None:
                progress(result)
        return results

    if concurrent:
        batches = await asyncio.gather(*(one_config(c) for c in configs))
    else:
        batches = [await one_config(c) for c in configs]
    return [result for batch in batches for result in batch]


async def _run(
    config: CompareConfig, run: int, pcm: bytes, key_for: KeyFor, prices: PriceTable, pace: float
) -> RunResult:
    profile = config.profile
    base = RunResult(config.label, run, profile.model, profile.endpoint().choice.dialect.name)
    try:
        turn = await run_one_turn(
            profile.endpoint(), key_for(config), profile.session, pcm, pace=pace
        )
    except TurnFailed as failed:
        return _with(base, error=str(failed))
    except Exception as exc:  # noqa: BLE001 - one broken configuration must not end the comparison
        return _with(base, error=f"{type(exc).__name__}: {exc}")
    return _with(
        base,
        timings=turn.timings,
        reply_ms=turn.reply_ms,
        usage=turn.usage,
        cost=prices.cost(profile.model, turn.usage),
        transcript=turn.assistant_transcript,
        reply_pcm=turn.reply_pcm,
    )


def _with(result: RunResult, **changes) -> RunResult:
    return dataclasses.replace(result, **changes)
