"""The conversation store on real SQLite files in tmp folders: schema and migrations, one commit
per turn, two instances at once, and every way a database goes bad, each in one line."""

import os
import sqlite3
import threading

import pytest

from talkapp.history import store as history_store
from talkapp.history.store import (
    HistoryError,
    HistoryStore,
    SessionInfo,
    StoredToolCall,
    UnknownConversation,
)

INFO = SessionInfo(profile="OpenAI", provider="openai", model="gpt-realtime-2", dialect="ga")
USAGE = {"input_text": 10, "input_audio": 40, "output_text": 20, "output_audio": 100}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "data" / "history.sqlite3"


def one_line(text: str) -> bool:
    return "\n" not in text and len(text) < 400


def test_a_new_database_has_the_current_schema_in_wal_mode(path):
    with HistoryStore(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == history_store.SCHEMA_VERSION >= 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
    }
    assert {"conversations", "turns", "tool_calls", "turns_fts", "turns_ai", "turns_ad"} <= tables


def test_each_turn_is_committed_as_it_is_added_and_seen_by_another_instance(path):
    writer = HistoryStore(path).open()
    reader = HistoryStore(path).open()
    conversation = writer.start_conversation(INFO)
    writer.add_turn(conversation, "user", "What is the capital of France, please?", info=INFO)
    assert [t.text for t in reader.conversation(conversation).turns] == [
        "What is the capital of France, please?"
    ]
    writer.add_turn(conversation, "assistant", "Paris.", info=INFO, usage=USAGE, cost_usd=0.0123)
    seen = reader.conversation(conversation)
    assert [t.role for t in seen.turns] == ["user", "assistant"]
    assert seen.summary.title == "What is the capital of France, please?"
    assert (seen.summary.tokens_in, seen.summary.tokens_out, seen.summary.cost_usd) == (
        50,
        120,
        0.0123,
    )
    writer.close(), reader.close()


def test_two_instances_writing_at_once_lose_nothing(path):
    HistoryStore(path).open().close()
    ids = []

    def write(n: int) -> None:
        with HistoryStore(path) as store:  # each thread is one instance, as two app windows are
            conversation = store.start_conversation(INFO, title=f"writer {n}")
            ids.append(conversation)
            for i in range(25):
                store.add_turn(
                    conversation,
                    "user" if i % 2 == 0 else "assistant",
                    f"turn {i} of {n}",
                    info=INFO,
                )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with HistoryStore(path) as store:
        assert sorted(s.turns for s in store.conversations()) == [25, 25]
        assert {s.title for s in store.conversations()} == {"writer 0", "writer 1"}


def test_an_older_schema_is_migrated_and_a_newer_one_refused_in_one_line(path):
    path.parent.mkdir(parents=True)
    sqlite3.connect(path).close()  # version 0: an empty file from before the first migration
    with HistoryStore(path) as store:
        conversation = store.start_conversation(INFO)
        store.add_turn(conversation, "user", "hello there", info=INFO)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {history_store.SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(HistoryError) as refused:
        HistoryStore(path).open()
    assert "newer TalkApp" in str(refused.value) and one_line(str(refused.value))
    db = sqlite3.connect(path)
    assert db.execute("SELECT text FROM turns").fetchall() == [("hello there",)]  # nothing lost


def test_a_corrupt_database_is_moved_aside_with_a_message_and_a_fresh_one_started(path):
    path.parent.mkdir(parents=True)
    garbage = b"this is not a database, but someone's data all the same\n" * 200
    path.write_bytes(garbage)
    store = HistoryStore(path).open()
    assert len(store.notices) == 1 and "kept as" in store.notices[0] and one_line(store.notices[0])
    kept = [p for p in path.parent.iterdir() if ".unreadable-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == garbage  # nothing silently dropped
    conversation = store.start_conversation(INFO)
    store.add_turn(conversation, "user", "a fresh start", info=INFO)
    assert store.conversations()[0].title == "a fresh start"
    store.close()


def test_a_damaged_page_is_detected_and_moved_aside(path):
    with HistoryStore(path) as store:
        conversation = store.start_conversation(INFO)
        for i in range(200):
            store.add_turn(conversation, "user", f"some words to fill pages {i} " * 20, info=INFO)
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 3 : page * 6] = b"\xff" * (page * 3)  # scribble over b-tree pages
    path.write_bytes(bytes(data))
    store = HistoryStore(path).open()
    assert store.notices and "could not be read" in store.notices[0]
    assert store.conversations() == []
    store.close()


def test_a_locked_database_fails_in_one_line_and_keeps_what_was_saved(path):
    store = HistoryStore(path, busy_timeout_ms=50).open()
    conversation = store.start_conversation(INFO)
    store.add_turn(conversation, "user", "saved before the lock", info=INFO)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(HistoryError) as locked:
        store.add_turn(conversation, "assistant", "written while locked", info=INFO)
    assert (
        "locked" in str(locked.value)
        and "try again" in str(locked.value)
        and one_line(str(locked.value))
    )
    other.execute("ROLLBACK")
    other.close()
    store.add_turn(conversation, "assistant", "after the lock", info=INFO)
    assert [t.text for t in store.conversation(conversation).turns] == [
        "saved before the lock",
        "after the lock",
    ]
    store.close()


def test_a_read_only_database_fails_in_one_line(path):
    store = HistoryStore(path).open()
    conversation = store.start_conversation(INFO)
    store._db.execute(
        "PRAGMA query_only = ON"
    )  # SQLite's own read-only refusal, as for a read-only file
    with pytest.raises(HistoryError) as refused:
        store.add_turn(conversation, "user", "hello", info=INFO)
    assert "read-only" in str(refused.value) and "TALKAPP_DATA_DIR" in str(refused.value)
    assert one_line(str(refused.value))
    assert store.conversations()[0].id == conversation  # reading still works
    store.close()


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only files anyway"
)
def test_a_read_only_file_fails_in_one_line(path):
    with HistoryStore(path) as store:
        conversation = store.start_conversation(INFO)
    path.chmod(0o444)
    path.parent.chmod(0o555)
    try:
        with pytest.raises(HistoryError) as refused, HistoryStore(path) as store:
            store.add_turn(conversation, "user", "hello", info=INFO)
        assert one_line(str(refused.value))
    finally:
        path.parent.chmod(0o755)
        path.chmod(0o644)


def test_a_full_disk_fails_in_one_line_and_keeps_what_was_saved(path):
    store = HistoryStore(path).open()
    conversation = store.start_conversation(INFO)
    store.add_turn(conversation, "user", "short", info=INFO)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # as if the disk were full now
    with pytest.raises(HistoryError) as full:
        store.add_turn(conversation, "assistant", "x" * 200_000, info=INFO)
    assert "disk is full" in str(full.value) and one_line(str(full.value))
    assert [t.text for t in store.conversation(conversation).turns] == ["short"]
    store.close()


def test_an_unknown_conversation_is_one_line(path):
    with HistoryStore(path) as store:
        with pytest.raises(UnknownConversation) as unknown:
            store.conversation(42)
        assert "42" in str(unknown.value) and "talkapp history" in str(unknown.value)
        with pytest.raises(UnknownConversation):
            store.add_turn(42, "user", "hello", info=INFO)


def test_search_finds_words_and_prefixes_and_takes_any_characters(path):
    with HistoryStore(path) as store:
        paris = store.start_conversation(INFO)
        store.add_turn(paris, "user", "Tell me about Paris", info=INFO)
        store.add_turn(paris, "assistant", "Paris is the capital of France.", info=INFO)
        bread = store.start_conversation(INFO)
        store.add_turn(bread, "user", "How do I bake sourdough bread?", info=INFO)
        assert [s.id for s in store.conversations(search="capital")] == [paris]
        assert [s.id for s in store.conversations(search="sourd")] == [bread]  # a prefix
        assert [s.id for s in store.conversations(search='fran" OR -x (')] == []  # no syntax error
        assert [s.id for s in store.conversations(search="paris france")] == [paris]
        assert [s.id for s in store.conversations()] == [bread, paris]  # newest first
        assert [s.id for s in store.conversations(limit=1)] == [bread]
        store.delete(paris)
        assert store.conversations(search="capital") == []  # the index follows deletions


def test_delete_returns_the_audio_files_and_retention_deletes_old_conversations(path):
    with HistoryStore(path) as store:
        old = store.start_conversation(INFO, at=1000.0)
        store.add_turn(old, "user", "long ago", at=1000.0, info=INFO, audio_path="/tmp/old.wav")
        new = store.start_conversation(INFO)
        store.add_turn(new, "user", "today", info=INFO, audio_path="/tmp/new.wav")
        store.record_tool_call(
            new,
            StoredToolCall("call_1", "function", "clock", "", "{}", "12:00", "", "done", 3.0, 1.0),
        )
        assert store.delete_before(2000.0) == ["/tmp/old.wav"]
        assert [s.id for s in store.conversations()] == [new]
        assert store.delete(new) == ["/tmp/new.wav"]
        assert store.conversations() == []
        assert store._db.execute("SELECT COUNT(*) FROM tool_calls").fetchone()[0] == 0


def test_usage_added_to_a_turn_sums_and_an_unknown_part_makes_the_cost_unknown(path):
    with HistoryStore(path) as store:
        conversation = store.start_conversation(INFO)
        turn = store.add_turn(conversation, "assistant", "hi", info=INFO)
        store.add_usage(turn, USAGE, 0.01)
        store.add_usage(turn, USAGE, 0.02)
        stored = store.conversation(conversation).turns[0]
        assert stored.cost_usd == pytest.approx(0.03) and stored.tokens_out == 240
        assert stored.usage["output_audio"] == 200
        store.add_usage(turn, USAGE, None)
        assert store.conversation(conversation).summary.cost_usd is None
