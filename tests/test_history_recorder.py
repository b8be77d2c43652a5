"""The recorder turns the engine's outgoing events into committed turns (a real SQLite file, the
shipped price table); continuing sends the stored turns through the reconnect's replay."""

import pytest

from talkapp.compare.prices import load_prices
from talkapp.history.context import CONTEXT_TURNS, context_for
from talkapp.history.recorder import HistoryRecorder
from talkapp.history.store import HistoryStore, SessionInfo
from talkapp.protocol import commands as cmd
from talkapp.protocol.endpoint import Endpoint
from talkapp.protocol.events import Usage
from talkapp.protocol.selection import choose_dialect
from talkapp.session import engine
from talkapp.session import engine_events as out
from talkapp.session.keeper import SessionKeeper
from talkapp.session.transcript import ToolCard, Turn
from talkapp.simulator import Knobs, Simulator, SimulatorConfig

PAID = SessionInfo("OpenAI", "openai", "gpt-realtime", "ga")
USAGE = Usage(input_text=100, input_audio=200, output_text=50, output_audio=400)


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite3") as opened:
        yield opened


@pytest.fixture
def prices():
    return load_prices()[0]


def measured(usage=USAGE, tool_step=False, first_audio=None) -> out.TurnMeasured:
    return out.TurnMeasured("resp", first_audio, first_audio, 900.0, usage, tool_step=tool_step)


def said(item_id, role, text, final=True, **more) -> out.TranscriptChanged:
    return out.TranscriptChanged(Turn(item_id, role, text, final=final, **more))


def test_final_turns_are_committed_once_with_usage_cost_and_timing(store, prices):
    recorder = HistoryRecorder(store, PAID, prices)
    committed = []
    recorder.on_turn = committed.append
    recorder.on_event(said("u1", "user", "What time", final=False))
    assert recorder.conversation_id is None  # nothing whole yet: nothing written
    recorder.on_event(said("u1", "user", "What time is it?"))
    recorder.on_event(said("a1", "assistant", "It is noon", final=False))
    recorder.on_event(said("a1", "assistant", "It is noon."))
    recorder.on_event(measured(first_audio=240.0))
    recorder.on_event(said("a1", "assistant", "It is noon.", interrupted=True, heard_ms=700))
    recorder.on_event(
        out.ToolCardChanged(
            ToolCard("call_1", "function", "clock", arguments="{}", status="running")
        )
    )
    recorder.on_event(
        out.ToolCardChanged(
            ToolCard(
                "call_1",
                "function",
                "clock",
                arguments="{}",
                status="done",
                result="12:00",
                duration_ms=2.0,
            )
        )
    )
    conversation = store.conversation(recorder.conversation_id)
    assert committed == [recorder.conversation_id] * 2
    user, reply = conversation.turns
    assert (user.role, user.text, reply.text) == ("user", "What time is it?", "It is noon.")
    assert reply.first_audio_ms == 240.0 and reply.interrupted and reply.heard_ms == 700
    assert (
        reply.cost_usd == pytest.approx(prices.cost("gpt-realtime", USAGE)) and reply.cost_usd > 0
    )
    assert (reply.tokens_in, reply.tokens_out) == (300, 450)
    assert conversation.summary.title == "What time is it?"
    assert [(c.name, c.status, c.result) for c in conversation.tool_calls] == [
        ("clock", "done", "12:00")
    ]


def test_usage_before_the_reply_and_tool_steps_are_counted_once_on_the_reply(store, prices):
    recorder = HistoryRecorder(store, PAID, prices)
    recorder.on_event(said("u1", "user", "Calculate 2 + 2"))
    recorder.on_event(measured(tool_step=True))  # the tool call's response: no reply of its own
    recorder.on_event(measured())  # the reply's response.done before its final transcript
    recorder.on_event(said("a1", "assistant", "Four."))
    recorder.on_event(said("u2", "user", "And 3 + 3?"))
    recorder.on_event(said("a2", "assistant", "Six."))
    recorder.on_event(measured())  # after it, this time
    turns = store.conversation(recorder.conversation_id).turns
    one = prices.cost("gpt-realtime", USAGE)
    assert [t.cost_usd for t in turns if t.role == "assistant"] == [
        pytest.approx(2 * one),
        pytest.approx(one),
    ]
    assert store.conversation(recorder.conversation_id).summary.cost_usd == pytest.approx(3 * one)


def test_the_simulator_costs_nothing_and_an_unpriced_model_is_unknown(store, prices):
    free = HistoryRecorder(
        store, SessionInfo("Offline simulator", "simulator", "gpt-realtime", "ga"), prices
    )
    free.on_event(said("u1", "user", "hi"))
    free.on_event(said("a1", "assistant", "hello"))
    free.on_event(measured())
    assert store.conversation(free.conversation_id).summary.cost_usd == 0.0
    unknown = HistoryRecorder(store, SessionInfo("Mine", "custom", "my-own-model", "ga"), prices)
    unknown.on_event(said("u1", "user", "hi"))
    unknown.on_event(said("a1", "assistant", "hello"))
    unknown.on_event(measured())
    assert store.conversation(unknown.conversation_id).summary.cost_usd is None


def test_continue_appends_to_the_same_conversation_and_new_starts_another(store, prices):
    recorder = HistoryRecorder(store, PAID, prices)
    recorder.on_event(said("u1", "user", "first"))
    first = recorder.conversation_id
    recorder.new_conversation()
    recorder.on_event(said("u2", "user", "second"))
    assert recorder.conversation_id != first
    recorder.continue_conversation(first)
    recorder.on_event(said("u3", "user", "first again"))
    assert [t.text for t in store.conversation(first).turns] == ["first", "first again"]


def test_a_failing_store_is_told_once_and_the_conversation_goes_on(store, prices):
    told = []
    recorder = HistoryRecorder(store, PAID, prices, problem=told.append)
    recorder.on_event(said("u1", "user", "saved"))
    store._db.execute("PRAGMA query_only = ON")
    recorder.on_event(said("a1", "assistant", "not saved"))
    recorder.on_event(said("a2", "assistant", "not saved either"))
    assert len(told) == 1 and "read-only" in told[0] and "not being saved" in told[0]


def test_context_keeps_the_most_recent_turns_that_fit_and_says_so(store):
    conversation = store.start_conversation(PAID)
    for i in range(30):
        store.add_turn(
            conversation, "user" if i % 2 == 0 else "assistant", f"turn {i}", at=1000.0 + i
        )
    context = context_for(store.conversation(conversation))
    assert CONTEXT_TURNS == engine.RESEND_TURNS  # the same bound as a reconnect's replay
    assert [item.text for item in context.items] == [f"turn {i}" for i in range(10, 30)]
    assert context.left_out == 10 and "10 earlier" in context.note()
    short = context_for(store.conversation(conversation), max_chars=len("turn 29") * 3)
    assert [item.text for item in short.items] == ["turn 27", "turn 28", "turn 29"]


async def test_a_first_session_can_open_with_the_stored_turns_as_context():
    history = [
        cmd.AddHistory("user", "What's the weather in Paris?"),
        cmd.AddHistory("assistant", "Sunny."),
    ]
    async with Simulator(SimulatorConfig(knobs=Knobs(audio_pace=0))) as sim:
        endpoint = Endpoint(sim.url, "gpt-realtime", choose_dialect("auto", "gpt-realtime"))
        keeper = SessionKeeper(
            endpoint, "sk-test", lambda: cmd.SessionConfig(turn_detection=None), lambda: history
        )
        await keeper.open(with_history=True)
        await keeper.close()
    sent = [
        e
        for e in sim.connections[0].received
        if isinstance(e, dict) and e["type"] == "conversation.item.create"
    ]
    assert [(e["item"]["role"], e["item"]["content"][0]["text"]) for e in sent] == [
        ("user", "What's the weather in Paris?"),
        ("assistant", "Sunny."),
    ]
