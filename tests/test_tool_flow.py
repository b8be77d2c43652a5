"""Function calling end to end: the real engine (a private PulseAudio for its devices) talking to
the simulator over a real socket, in both dialects. Every call runs once, its output goes back
as an item, and exactly one `response.create` follows all the outputs of a response (counted in
the simulator's record); a failing or slow tool answers the model with an error and the turn
still ends in speech. Then the rules alone: the runner and the turn policy, without sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest
from engine_harness import EventLog, running_engines

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev
from talkapp.protocol.commands import FunctionTool
from talkapp.session import engine_events as out
from talkapp.session.tool_runner import ToolRunner
from talkapp.session.turns import Mode, Phase, Send, TurnPolicy
from talkapp.tools.builtin import CALCULATE, TIME, calculate, current_time
from talkapp.tools.isolated import run_isolated
from talkapp.tools.registry import Tool, ToolRegistry
from talkapp.tools.toolbox import ToolBox

WEATHER = FunctionTool(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


class Weather:
    """A tool that counts its runs; `delay_s` makes it slow, `fails` makes it raise."""

    def __init__(self, delay_s: float = 0.0, fails: bool = False) -> None:
        self.calls: list[dict] = []
        self.delay_s, self.fails = delay_s, fails

    async def __call__(self, args: dict) -> str:
        self.calls.append(args)
        await asyncio.sleep(self.delay_s)
        if self.fails:
            raise RuntimeError("the weather service is down")
        return json.dumps({"city": args.get("city"), "temp_c": 18})


def client_events(sim) -> list[dict]:
    return [
        e
        for e in sim.connections[-1].received
        if isinstance(e, dict) and not e["type"].startswith("input_audio_buffer")
    ]


def kinds(events: list[dict]) -> list[str]:
    """`conversation.item.create` is named by its item's type."""
    return [
        e["item"]["type"] if e["type"] == "conversation.item.create" else e["type"] for e in events
    ]


async def spoken_reply(log: EventLog, containing: str) -> str:
    """The assistant's final words containing `containing` (its audio may still be playing)."""
    turn = await log.wait_for(
        lambda e: (
            isinstance(e, out.TranscriptChanged)
            and e.turn.role == "assistant"
            and e.turn.final
            and containing in e.turn.text
        ),
        timeout=30,
    )
    return turn.turn.text


def cards(log: EventLog, name: str) -> list:
    return [e.card for e in log.of(out.ToolCardChanged) if e.card.name == name]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_a_function_call_round_trips_once_with_one_follow_up_response(
    engine_with, simulator, dialect
):
    weather = Weather()
    engine, log = await engine_with(Tool(WEATHER, weather), dialect=dialect)
    declared = client_events(simulator)[0]["session"]["tools"]
    assert [t["name"] for t in declared] == ["get_weather"]

    await engine.send_text("What is the weather in Lisbon? Use get_weather.")
    said = await spoken_reply(log, "returned")

    assert weather.calls == [{"city": "Lisbon"}] and engine.tools.executions == 1
    sent = client_events(simulator)[1:]
    assert kinds(sent) == ["message", "response.create", "function_call_output", "response.create"]
    output = json.loads(sent[2]["item"]["output"])
    assert (
        output == {"city": "Lisbon", "temp_c": 18}
        and 'The get_weather tool returned: {"city": "Lisbon"' in said
    )
    assert simulator.connections[-1].errors == []
    (card,) = engine.transcript.cards()
    assert (card.kind, card.name, card.status, json.loads(card.arguments)) == (
        "function",
        "get_weather",
        "done",
        {"city": "Lisbon"},
    )
    assert (
        json.loads(card.result) == output and card.duration_ms is not None and card.duration_ms >= 0
    )
    assert cards(log, "get_weather")[0].status == "streaming"  # shown while the arguments arrived
    assert "🔧 `get_weather(" in engine.transcript.as_markdown()
    assert [t.role for t in engine.transcript.turns()] == [
        "user",
        "assistant",
    ]  # cards are not turns
    states = [e.state for e in log.of(out.StateChanged)]
    waited = states[states.index(out.State.WAITING) :]
    assert (
        out.State.LISTENING not in waited[: waited.index(out.State.ASSISTANT_SPEAKING)]
    )  # no "your turn" mid-round
    await log.wait_for(lambda e: isinstance(e, out.TurnMeasured) and not e.tool_step)
    step, reply = log.of(
        out.TurnMeasured
    )  # the calling step is marked, so the stats count one reply
    assert (
        step.tool_step
        and step.first_audio_received_ms is None
        and reply.first_audio_received_ms is not None
    )


async def test_parallel_calls_send_every_output_then_one_response_create(engine_with, simulator):
    slow = Weather(delay_s=0.3)
    engine, log = await engine_with(
        Tool(WEATHER, slow), Tool(CALCULATE, calculate), Tool(TIME, current_time)
    )
    await engine.send_text(
        "Please use get_weather in Paris and calculate this, then get_current_time."
    )
    said = await spoken_reply(log, "returned")

    sent = kinds(client_events(simulator)[1:])
    assert sent[:2] == ["message", "response.create"]
    assert sorted(sent[2:5]) == ["function_call_output"] * 3 and sent[5:] == ["response.create"]
    assert engine.tools.executions == 3 and len(slow.calls) == 1
    for name in ("get_weather", "calculate", "get_current_time"):
        assert f"The {name} tool returned" in said
    assert simulator.connections[-1].errors == []


async def test_a_failing_tool_answers_with_its_error_and_the_turn_completes(engine_with, simulator):
    engine, log = await engine_with(Tool(WEATHER, Weather(fails=True)))
    await engine.send_text("Use get_weather for Oslo.")
    said = await spoken_reply(log, "returned")

    output = json.loads(
        next(e for e in client_events(simulator) if kinds([e]) == ["function_call_output"])["item"][
            "output"
        ]
    )
    assert output == {
        "error": "The get_weather tool failed (RuntimeError: the weather service is down)."
    }
    assert "the weather service is down" in said
    assert kinds(client_events(simulator)).count("response.create") == 2
    (card,) = engine.transcript.cards()
    assert (
        card.status == "failed"
        and "weather service is down" in card.error
        and engine.state is not out.State.ERROR
    )


async def test_a_tool_past_its_time_limit_is_stopped_and_the_model_says_so(engine_with, simulator):
    slow = Weather(delay_s=30)
    engine, log = await engine_with(Tool(WEATHER, slow), timeout_s=0.4)
    await engine.send_text("Use get_weather for Rome.")
    said = await spoken_reply(log, "returned")

    outputs = [
        e["item"]["output"]
        for e in client_events(simulator)
        if kinds([e]) == ["function_call_output"]
    ]
    assert [json.loads(o) for o in outputs] == [
        {"error": "The get_weather tool did not finish within 0.4 s and was stopped."}
    ]
    assert "did not finish within 0.4 s" in said
    (card,) = engine.transcript.cards()
    assert (
        card.status == "failed"
        and card.note == "timed out after 0.4 s"
        and 350 <= card.duration_ms < 5000
    )


async def test_a_hostile_calculation_is_answered_with_an_error_and_the_next_turn_works(
    engine_with, simulator
):
    # round(1, -10**7) computes 10**(10**7): seconds of a frozen process if it ran in the app.
    engine, log = await engine_with(Tool(CALCULATE, calculate), timeout_s=2.0)
    await engine.send_text("Use calculate on `round(1, -10**7)` please.")
    said = await spoken_reply(log, "returned")
    assert "round() to more than" in said
    (card,) = engine.transcript.cards()
    assert card.status == "failed" and card.note == "" and "round() to more than" in card.error

    await engine.send_text("Now use calculate on `6 * 7`.")
    said = await spoken_reply(log, "42")
    assert 'The calculate tool returned: {"expression": "6 * 7", "result": "42"}' in said
    assert [c.status for c in engine.transcript.cards()] == ["failed", "done"]
    assert engine.state is not out.State.ERROR and simulator.connections[-1].errors == []


async def test_a_tool_burning_cpu_in_its_worker_is_killed_at_its_limit_and_the_next_turn_works(
    engine_with, simulator
):
    # A computation that holds its process's CPU (and GIL) for minutes: in the worker process
    # the time limit kills it, so the answer comes at the limit and the loop never stalls.
    async def factorial(args: dict) -> str:
        return str(await run_isolated("math:factorial", 100_000_000))

    declaration = FunctionTool("big_factorial", "n!", {"type": "object", "properties": {}})
    burner = Tool(declaration, factorial)
    engine, log = await engine_with(burner, Tool(CALCULATE, calculate), timeout_s=0.5)
    await engine.send_text("Use big_factorial now.")
    said = await spoken_reply(log, "returned")
    assert "did not finish within 0.5 s" in said
    (card,) = engine.transcript.cards()
    assert card.status == "failed" and card.note == "timed out after 0.5 s"

    await engine.send_text("Then use calculate on `2 + 3`.")
    said = await spoken_reply(log, '"result": "5"')
    assert engine.state is not out.State.ERROR and simulator.connections[-1].errors == []


async def test_a_lost_connection_fails_a_running_tool_once(engine_with, simulator):
    """A reconnect after a loss resets what was running once: when the connection goes (not
    again when it is back: only a planned renewal, which skips the loss, resets there)."""
    slow = Weather(delay_s=30)
    engine, log = await engine_with(Tool(WEATHER, slow))
    resets: list[str] = []
    reset = engine.tools.reset
    engine.tools.reset = lambda reason: (resets.append(reason), reset(reason))[-1]
    await engine.send_text("Use get_weather for Rome.")
    await log.wait_for(lambda e: isinstance(e, out.ToolCardChanged) and e.card.status == "running")
    simulator.knobs.expire_after_s = 0.05  # the service ends the session: a loss, then a reconnect
    await log.wait_for(lambda e: isinstance(e, out.Connected) and e is not log.of(out.Connected)[0])
    simulator.knobs.expire_after_s = None
    assert resets == ["The connection was lost before this finished."]
    (card,) = engine.transcript.cards()
    assert card.status == "failed" and card.error == resets[0]
    assert [c.status for c in cards(log, "get_weather")].count("failed") == 1


async def test_a_planned_renewal_fails_a_running_tool_once(engine_with, simulator):
    slow = Weather(delay_s=30)
    engine, log = await engine_with(Tool(WEATHER, slow))
    resets: list[str] = []
    reset = engine.tools.reset
    engine.tools.reset = lambda reason: (resets.append(reason), reset(reason))[-1]
    await engine.send_text("Use get_weather for Rome.")
    await log.wait_for(lambda e: isinstance(e, out.ToolCardChanged) and e.card.status == "running")
    await engine._renew(engine._keeper)  # what the pump does before the service's time limit
    assert resets == ["The session was renewed before this was answered."]
    assert len(log.of(out.Connected)) == 2
    (card,) = engine.transcript.cards()
    assert card.status == "failed" and card.error == resets[0]


async def test_the_microphone_keeps_streaming_while_a_tool_burns_cpu(pulse, simulator):
    # Hands-free: the mic goes to the service all the time. A tool that would hold the GIL for
    # minutes runs in its worker; the loop keeps sending audio every pump cycle meanwhile.
    async def factorial(args: dict) -> str:
        return str(await run_isolated("math:factorial", 100_000_000))

    declaration = FunctionTool("big_factorial", "n!", {"type": "object", "properties": {}})
    async with running_engines(simulator) as start:
        box = ToolBox(registry=ToolRegistry([Tool(declaration, factorial)]), timeout_s=1.5)
        engine, log = await start(Mode.SERVER_VAD, tools=box)
        sent_at: list[float] = []
        send = engine._send

        async def timed_send(command):
            if isinstance(command, cmd.AppendAudio):
                sent_at.append(time.perf_counter())
            await send(command)

        engine._send = timed_send  # the pump's own sends, timed where they leave the engine
        await engine.send_text("Use big_factorial now.")
        said = await spoken_reply(log, "returned")
        assert "did not finish within 1.5 s" in said
    # The window the tool ran in: after it, the in-process simulator (on this same loop) makes
    # the spoken reply, which is its work, not the engine's.
    (card,) = engine.transcript.cards()
    started, ended = card.at, card.at + card.duration_ms / 1000
    during = [t for t in sent_at if started <= t <= ended]
    assert len(during) > 50  # it streamed all along (a pump cycle is 10 ms)
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert max(gaps) < 1.0  # no stall: a frozen loop would leave a gap as long as the tool ran


# ---- the rules alone ----


class Recorder:
    def __init__(self) -> None:
        self.sent: list[cmd.Command] = []
        self.go_on: list[bool] = []
        self.asked: list = []
        self.cards: list = []

    async def send(self, command: cmd.Command) -> None:
        self.sent.append(command)

    async def went_on(self, respond: bool) -> None:
        self.go_on.append(respond)


def runner(*tools: Tool, timeout_s: float = 8.0, remembered=()) -> tuple[ToolRunner, Recorder]:
    r = Recorder()
    box = ToolBox(registry=ToolRegistry(tools), timeout_s=timeout_s, remembered=remembered)
    return ToolRunner(box, r.send, r.cards.append, r.asked.append, r.went_on), r


def requested(call_id: str, response: str = "resp_1", city: str = "Paris") -> ev.ToolCallRequested:
    return ev.ToolCallRequested(
        call_id, "get_weather", json.dumps({"city": city}), f"item_{call_id}", response
    )


async def settle(tools: ToolRunner) -> None:
    while tools._tasks:
        await asyncio.gather(*list(tools._tasks))


async def test_a_call_announced_twice_runs_once_and_one_reply_follows_the_response():
    weather = Weather()
    tools, r = runner(Tool(WEATHER, weather))
    await tools.on_event(requested("call_a"))
    await tools.on_event(requested("call_a"))  # a second announcement of the same call
    await settle(tools)
    assert r.go_on == []  # outputs are in, but the response is not done yet
    await tools.on_event(ev.ResponseDone("resp_1", "completed"))
    await tools.on_event(ev.ResponseDone("resp_1", "completed"))
    assert len(weather.calls) == 1 and r.go_on == [True]
    assert [type(c) for c in r.sent] == [cmd.SendToolResult]


async def test_the_reply_waits_for_the_last_of_parallel_outputs():
    tools, r = runner(Tool(WEATHER, Weather(delay_s=0.05)))
    for call in ("call_a", "call_b"):
        await tools.on_event(requested(call))
    await tools.on_event(ev.ResponseDone("resp_1", "completed"))  # done before the outputs
    assert r.go_on == []
    await settle(tools)
    assert r.go_on == [True] and sorted(c.call_id for c in r.sent) == ["call_a", "call_b"]


async def test_a_cancelled_round_still_answers_its_calls_but_asks_for_no_reply():
    tools, r = runner(Tool(WEATHER, Weather()))
    await tools.on_event(requested("call_a"))
    await tools.on_event(ev.ResponseDone("resp_1", "cancelled"))
    await settle(tools)
    assert [c.call_id for c in r.sent] == ["call_a"] and r.go_on == [False]


async def test_an_unknown_tool_is_an_error_output_not_a_crash():
    tools, r = runner()
    await tools.on_event(requested("call_a"))
    await tools.on_event(ev.ResponseDone("resp_1", "completed"))
    await settle(tools)
    (result,) = r.sent
    assert json.loads(result.output) == {
        "error": "There is no tool named 'get_weather' here."
    } and r.go_on == [True]


async def test_a_lost_connection_fails_what_was_running():
    tools, r = runner(Tool(WEATHER, Weather(delay_s=30)))
    await tools.on_event(requested("call_a"))
    tools.reset("The connection was lost before this finished.")
    await tools.close()
    assert r.sent == [] and r.go_on == [] and r.cards[-1].status == "failed"


def test_the_policy_waits_through_a_tool_round_and_asks_once_no_reply_being_active():
    p = TurnPolicy(Mode.PUSH_TO_TALK)
    p.typed("Use get_weather")
    p.on_event(ev.ResponseStarted("resp_1"))
    p.on_event(requested("call_a"))
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    assert p.phase is Phase.WAITING  # not "your turn": the tool is running
    assert [a.command for a in p.tools_answered() if isinstance(a, Send)] == [cmd.CreateResponse()]

    p.on_event(ev.ResponseStarted("resp_2"))  # e.g. the user's own next turn, already answered
    assert p.tools_answered() == []  # never while a reply is active …
    assert [
        a.command for a in p.on_event(ev.ResponseDone("resp_2", "completed")) if isinstance(a, Send)
    ] == [cmd.CreateResponse()]


def test_an_abandoned_round_gives_the_turn_back():
    p = TurnPolicy(Mode.PUSH_TO_TALK)
    p.typed("Use get_weather")
    p.on_event(ev.ResponseStarted("resp_1"))
    p.on_event(requested("call_a"))
    p.on_event(ev.ResponseDone("resp_1", "cancelled"))
    p.tools_abandoned()
    assert p.phase is Phase.LISTENING


def test_tools_answered_while_the_user_talks_leave_the_reply_to_their_turn():
    p = TurnPolicy(Mode.PUSH_TO_TALK)
    p.typed("Use get_weather")
    p.on_event(ev.ResponseStarted("resp_1"))
    p.on_event(requested("call_a"))
    p.on_event(ev.ResponseDone("resp_1", "completed"))
    p.press(10.0)
    assert p.tools_answered() == []  # no reply starts while the user holds the button
    released = [a.command for a in p.release(11.0) if isinstance(a, Send)]
    assert released == [cmd.CommitAudio(), cmd.CreateResponse()]  # their reply sees the outputs
    p.on_event(ev.ResponseStarted("resp_2"))
    assert [
        a for a in p.on_event(ev.ResponseDone("resp_2", "completed")) if isinstance(a, Send)
    ] == []  # and only it


def test_a_reply_owed_to_tools_is_asked_for_when_the_users_turn_comes_to_nothing():
    p = TurnPolicy(Mode.PUSH_TO_TALK)
    p.press(0.0)
    assert p.tools_answered() == []
    released = [a.command for a in p.release(0.05) if isinstance(a, Send)]  # too short: dropped
    assert released == [cmd.ClearAudio(), cmd.CreateResponse()] and p.phase is Phase.WAITING
