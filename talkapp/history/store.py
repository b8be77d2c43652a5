"""Conversations on disk: one SQLite database in the per-user data folder.

Why these choices:
- WAL and one short transaction per turn: a crash or SIGKILL loses at most the turn in
  progress; readers (another app instance, `talkapp history`) never block the writer.
- A busy timeout: two instances writing at once wait for each other instead of failing.
- `PRAGMA user_version` is the schema version; `MIGRATIONS[n]` takes version n to n + 1.
- A file that is not a database (or fails its check) is moved aside, never deleted, and a
  fresh one started; `notices` says so for a banner or a stderr line.
- Every SQLite failure becomes a `HistoryError` whose text is one line: what and what to do.

Nothing here knows a key: the rows hold transcripts, model names, usage and cost only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import platformdirs

FILE_NAME = "history.sqlite3"
BUSY_TIMEOUT_MS = 5000

MIGRATIONS: tuple[str, ...] = (
    # 0 → 1: conversations, turns, tool calls, full-text search over the turns
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        ended_at REAL,
        title TEXT NOT NULL DEFAULT '',
        profile TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        dialect TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE turns (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        first_audio_ms REAL,
        interrupted INTEGER NOT NULL DEFAULT 0,
        heard_ms INTEGER,
        provider TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        usage_json TEXT,
        cost_usd REAL,
        paid INTEGER NOT NULL DEFAULT 1,  -- 0: the simulator, free
        audio_path TEXT
    );
    CREATE INDEX turns_by_conversation ON turns(conversation_id, id);
    CREATE INDEX turns_by_time ON turns(started_at);
    CREATE TABLE tool_calls (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        call_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL DEFAULT '',
        server TEXT NOT NULL DEFAULT '',
        arguments TEXT NOT NULL DEFAULT '',
        result TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT '',
        duration_ms REAL,
        at REAL NOT NULL,
        UNIQUE (conversation_id, call_id)
    );
    CREATE VIRTUAL TABLE turns_fts USING fts5(text, content='turns', content_rowid='id');
    CREATE TRIGGER turns_ai AFTER INSERT ON turns BEGIN
        INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER turns_ad AFTER DELETE ON turns BEGIN
        INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER turns_au AFTER UPDATE OF text ON turns BEGIN
        INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text);
    END;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history database could not be used; `str()` is one line for a person."""


class UnknownConversation(HistoryError):
    pass


def default_folder() -> Path:
    """`~/.local/share/TalkApp` on Linux, `~/Library/Application Support/TalkApp` on macOS,
    `%LOCALAPPDATA%\\TalkApp` on Windows (TALKAPP_DATA_DIR overrides: tests, portable use)."""
    override = os.environ.get("TALKAPP_DATA_DIR")
    return (
        Path(override) if override else Path(platformdirs.user_data_dir("TalkApp", appauthor=False))
    )


def default_path() -> Path:
    return default_folder() / FILE_NAME


@dataclass(frozen=True)
class SessionInfo:
    """Where a conversation's turns go: what the history shows beside them."""

    profile: str = ""
    provider: str = ""
    model: str = ""
    dialect: str = ""


@dataclass(frozen=True)
class StoredTurn:
    id: int
    role: str
    text: str
    started_at: float
    first_audio_ms: float | None = None
    interrupted: bool = False
    heard_ms: int | None = None
    provider: str = ""
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    usage: dict | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class StoredToolCall:
    call_id: str
    kind: str
    name: str
    server: str
    arguments: str
    result: str
    error: str
    status: str
    duration_ms: float | None
    at: float


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    started_at: float
    ended_at: float | None
    profile: str
    provider: str
    model: str
    dialect: str
    turns: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None  # None when a turn's cost is unknown (no price, no usage)


@dataclass(frozen=True)
class Conversation:
    summary: ConversationSummary
    turns: tuple[StoredTurn, ...]
    tool_calls: tuple[StoredToolCall, ...] = ()


@dataclass(frozen=True)
class CostRow:
    """One priced turn, for the spend totals."""

    at: float
    provider: str
    model: str
    cost_usd: float | None  # None: unknown (no price for the model, or no usage reported)
    paid: bool = True  # False: the simulator, which costs nothing


@dataclass
class HistoryStore:
    path: Path = field(default_factory=default_path)
    notices: list[str] = field(default_factory=list)  # e.g. a corrupt file moved aside
    busy_timeout_ms: int = BUSY_TIMEOUT_MS  # how long a write waits for another instance's

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self._db: sqlite3.Connection | None = None

    # ---- opening ----

    def open(self) -> Self:
        """Open (creating or migrating) the database; raises `HistoryError`."""
        if self._db is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(
                self._cannot(f"its folder cannot be made ({exc.strerror or exc})")
            ) from None
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise HistoryError(self._explain(exc)) from None
            self.notices.append(self._move_aside(str(exc)))
            try:
                self._db = self._connect()
            except sqlite3.Error as again:
                raise HistoryError(self._explain(again)) from None
        return self

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: every write below is its own explicit, short transaction.
        # One store is used by one thread at a time, but not always the one that opened it
        # (`talk` opens it on the main thread and records on the engine's loop).
        db = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            db.row_factory = sqlite3.Row
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal" and _writable(self.path):
                raise sqlite3.OperationalError(f"cannot switch to WAL journaling (still {mode})")
            db.execute(
                "PRAGMA synchronous = NORMAL"
            )  # WAL: durable at each checkpoint, never corrupt
            db.execute("PRAGMA foreign_keys = ON")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                self._cannot(
                    f"it was written by a newer TalkApp (schema {version}); "
                    "update TalkApp or set TALKAPP_DATA_DIR to another folder"
                )
            )
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another instance may have migrated while we waited for the write lock.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for step in MIGRATIONS[version:]:
                for statement in _statements(step):
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _move_aside(self, why: str) -> str:
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    os.replace(side, aside.with_name(aside.name + suffix))
        except OSError as exc:
            raise HistoryError(
                self._cannot(
                    f"it is damaged ({why}) and could not be moved aside "
                    f"({exc.strerror or exc}); move {self.path} away by hand"
                )
            ) from None
        return (
            f"The conversation history could not be read ({why}). It was kept as {aside} and a "
            "new, "
            "empty history was started."
        )

    # ---- writing: each call is one committed transaction ----

    def start_conversation(
        self, info: SessionInfo, title: str = "", at: float | None = None
    ) -> int:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations (started_at, title, profile, provider, model, "
                "dialect) VALUES (?,?,?,?,?,?)",
                (
                    at if at is not None else time.time(),
                    title,
                    info.profile,
                    info.provider,
                    info.model,
                    info.dialect,
                ),
            )
            return int(cursor.lastrowid or 0)

    def add_turn(
        self,
        conversation_id: int,
        role: str,
        text: str,
        *,
        at: float | None = None,
        info: SessionInfo | None = None,
        first_audio_ms: float | None = None,
        interrupted: bool = False,
        heard_ms: int | None = None,
        usage: dict | None = None,
        cost_usd: float | None = None,
        paid: bool = True,
        audio_path: str | None = None,
    ) -> int:
        """One finished turn; the conversation's title becomes the first words the user said."""
        info = info or SessionInfo()
        tokens_in, tokens_out = _tokens(usage)
        at = at if at is not None else time.time()
        with self._write() as db:
            self._require(db, conversation_id)
            cursor = db.execute(
                "INSERT INTO turns (conversation_id, role, text, started_at, first_audio_ms, "
                "interrupted, heard_ms,"
                " provider, model, tokens_in, tokens_out, usage_json, cost_usd, paid, audio_path)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    conversation_id,
                    role,
                    text,
                    at,
                    first_audio_ms,
                    int(interrupted),
                    heard_ms,
                    info.provider,
                    info.model,
                    tokens_in,
                    tokens_out,
                    json.dumps(usage) if usage is not None else None,
                    cost_usd,
                    int(paid),
                    audio_path,
                ),
            )
            if role == "user" and text.strip():
                db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ? AND title = ''",
                    (title_from(text), conversation_id),
                )
            db.execute("UPDATE conversations SET ended_at = ? WHERE id = ?", (at, conversation_id))
            return int(cursor.lastrowid or 0)

    def update_turn(
        self,
        turn_id: int,
        *,
        first_audio_ms: float | None = None,
        interrupted: bool | None = None,
        heard_ms: int | None = None,
        text: str | None = None,
    ) -> None:
        changes = {
            "first_audio_ms": first_audio_ms,
            "interrupted": None if interrupted is None else int(interrupted),
            "heard_ms": heard_ms,
            "text": text,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return
        with self._write() as db:
            db.execute(
                f"UPDATE turns SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                (*changes.values(), turn_id),
            )

    def add_usage(self, turn_id: int, usage: dict, cost_usd: float | None) -> None:
        """A response's usage, added to the turn it produced (tool steps add to the reply)."""
        tokens_in, tokens_out = _tokens(usage)
        with self._write() as db:
            row = db.execute(
                "SELECT usage_json, cost_usd, tokens_in FROM turns WHERE id = ?", (turn_id,)
            ).fetchone()
            if row is None:
                return
            before = json.loads(row["usage_json"]) if row["usage_json"] else None
            merged = (
                usage
                if before is None
                else {k: before.get(k, 0) + usage.get(k, 0) for k in {*before, *usage}}
            )
            if cost_usd is None or (before is not None and row["cost_usd"] is None):
                cost = None  # one unknown part makes the whole unknown, never a low guess
            else:
                cost = (row["cost_usd"] or 0.0) + cost_usd
            db.execute(
                "UPDATE turns SET usage_json = ?, tokens_in = tokens_in + ?, tokens_out = "
                "tokens_out + ?,"
                " cost_usd = ? WHERE id = ?",
                (json.dumps(merged), tokens_in, tokens_out, cost, turn_id),
            )

    def record_tool_call(self, conversation_id: int, call: StoredToolCall) -> None:
        with self._write() as db:
            self._require(db, conversation_id)
            db.execute(
                "INSERT INTO tool_calls (conversation_id, call_id, kind, name, server, "
                "arguments, result, error,"
                " status, duration_ms, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (conversation_id, call_id) DO UPDATE SET arguments = "
                "excluded.arguments,"
                " result = excluded.result, error = excluded.error, status = excluded.status,"
                " duration_ms = excluded.duration_ms",
                (
                    conversation_id,
                    call.call_id,
                    call.kind,
                    call.name,
                    call.server,
                    call.arguments,
                    call.result,
                    call.error,
                    call.status,
                    call.duration_ms,
                    call.at,
                ),
            )

    def rename(self, conversation_id: int, title: str) -> None:
        with self._write() as db:
            self._require(db, conversation_id)
            db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id)
            )

    def delete(self, conversation_id: int) -> list[str]:
        """Delete a conversation; returns the audio its turns referenced that no other
        conversation does (a session's recording may hold two), for the caller to remove."""
        with self._write() as db:
            self._require(db, conversation_id)
            audio = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT audio_path FROM turns WHERE conversation_id = ?"
                    " AND audio_path IS NOT NULL",
                    (conversation_id,),
                )
            ]
            db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            shared = {
                path
                for path in audio
                if db.execute("SELECT 1 FROM turns WHERE audio_path = ?", (path,)).fetchone()
            }
        return [path for path in audio if path not in shared]

    def delete_before(self, cutoff: float) -> list[str]:
        """Retention: delete conversations last used before `cutoff`; returns their audio files."""
        ids = [
            r[0]
            for r in self._read(
                "SELECT id FROM conversations WHERE COALESCE(ended_at, started_at) < ?", (cutoff,)
            )
        ]
        audio: list[str] = []
        for conversation_id in ids:
            audio += self.delete(conversation_id)
        return audio

    # ---- reading ----

    def conversations(
        self, limit: int | None = None, search: str | None = None
    ) -> list[ConversationSummary]:
        """Newest first; `search` matches words in any turn (FTS5; each word a prefix)."""
        where = ""
        params: list[object] = []
        if search and search.strip():
            where = (
                "WHERE c.id IN (SELECT t.conversation_id FROM turns_fts JOIN turns t ON t.id = "
                "turns_fts.rowid"
                " WHERE turns_fts MATCH ?)"
            )
            params.append(fts_query(search))
        sql = (
            f"{_SUMMARY} {where} GROUP BY c.id ORDER BY COALESCE(c.ended_at, c.started_at) "
            "DESC, c.id DESC" + (" LIMIT ?" if limit is not None else "")
        )
        if limit is not None:
            params.append(limit)
        return [_summary(row) for row in self._read(sql, params)]

    def summary(self, conversation_id: int) -> ConversationSummary:
        rows = self._read(f"{_SUMMARY} WHERE c.id = ? GROUP BY c.id", (conversation_id,))
        if not rows:
            raise UnknownConversation(
                f"There is no conversation {conversation_id}; `talkapp history` lists them."
            )
        return _summary(rows[0])

    def conversation(self, conversation_id: int) -> Conversation:
        summary = self.summary(conversation_id)
        turns = tuple(
            _turn(r)
            for r in self._read(
                "SELECT * FROM turns WHERE conversation_id = ? ORDER BY started_at, id",
                (conversation_id,),
            )
        )
        calls = tuple(
            _call(r)
            for r in self._read(
                "SELECT * FROM tool_calls WHERE conversation_id = ? ORDER BY at, id",
                (conversation_id,),
            )
        )
        return Conversation(summary, turns, calls)

    def last_conversation_id(self) -> int | None:
        rows = self._read(
            "SELECT id FROM conversations ORDER BY COALESCE(ended_at, started_at) DESC, id DESC "
            "LIMIT 1"
        )
        return int(rows[0][0]) if rows else None

    def costs_since(self, since: float) -> list[CostRow]:
        rows = self._read(
            "SELECT started_at, provider, model, cost_usd, paid FROM turns"
            " WHERE started_at >= ? AND usage_json IS NOT NULL",
            (since,),
        )
        return [
            CostRow(r["started_at"], r["provider"], r["model"], r["cost_usd"], bool(r["paid"]))
            for r in rows
        ]

    # ---- plumbing ----

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise HistoryError(self._explain(exc)) from None
        try:
            yield db
            db.execute("COMMIT")
        except HistoryError:
            db.execute("ROLLBACK")
            raise
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise HistoryError(self._explain(exc)) from None

    def _read(self, sql: str, params=()) -> list[sqlite3.Row]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(self._explain(exc)) from None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.open()
        assert self._db is not None
        return self._db

    def _require(self, db: sqlite3.Connection, conversation_id: int) -> None:
        if (
            db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            is None
        ):
            raise UnknownConversation(
                f"There is no conversation {conversation_id}; `talkapp history` lists them."
            )

    def _cannot(self, why: str) -> str:
        return f"The conversation history at {self.path} cannot be used: {why}."

    def _explain(self, exc: sqlite3.Error) -> str:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return self._cannot(
                "another program holds it locked; close that program (or the other TalkApp) "
                "and try again"
            )
        if "readonly" in text or "read-only" in text:
            return self._cannot(
                "it is read-only; make the file and its folder writable, or set TALKAPP_DATA_DIR "
                "to another folder"
            )
        if "full" in text:
            return self._cannot(
                "the disk is full; free some space and try again (nothing saved was lost)"
            )
        if "unable to open" in text:
            return self._cannot(
                "the file cannot be opened; check that its folder exists and is writable"
            )
        return self._cannot(f"{exc}")


_SUMMARY = (
    "SELECT c.*, COUNT(t.id) AS turn_count, COALESCE(SUM(t.tokens_in), 0) AS tokens_in,"
    " COALESCE(SUM(t.tokens_out), 0) AS tokens_out, SUM(t.cost_usd) AS cost,"
    " SUM(CASE WHEN t.usage_json IS NOT NULL AND t.cost_usd IS NULL THEN 1 ELSE 0 END) AS "
    "unknown_costs"
    " FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id"
)


def title_from(text: str, words: int = 8, limit: int = 60) -> str:
    """The first words the user said, as a title."""
    short = " ".join(text.split()[:words])
    return short if len(short) <= limit else short[: limit - 1].rstrip() + "…"


def fts_query(text: str) -> str:
    """A person's search words as an FTS5 query: each word quoted (no syntax errors from `-` or
    `"`), matched as a prefix, all of them required."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in text.split())


def _tokens(usage: dict | None) -> tuple[int, int]:
    if not usage:
        return 0, 0
    return (
        int(usage.get("input_text", 0))
        + int(usage.get("input_audio", 0))
        + int(usage.get("input_image", 0)),
        int(usage.get("output_text", 0)) + int(usage.get("output_audio", 0)),
    )


def _summary(row: sqlite3.Row) -> ConversationSummary:
    return ConversationSummary(
        id=row["id"],
        title=row["title"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        profile=row["profile"],
        provider=row["provider"],
        model=row["model"],
        dialect=row["dialect"],
        turns=row["turn_count"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        cost_usd=None if row["unknown_costs"] or row["cost"] is None else round(row["cost"], 6),
    )


def _turn(row: sqlite3.Row) -> StoredTurn:
    return StoredTurn(
        id=row["id"],
        role=row["role"],
        text=row["text"],
        started_at=row["started_at"],
        first_audio_ms=row["first_audio_ms"],
        interrupted=bool(row["interrupted"]),
        heard_ms=row["heard_ms"],
        provider=row["provider"],
        model=row["model"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        usage=json.loads(row["usage_json"]) if row["usage_json"] else None,
        cost_usd=row["cost_usd"],
    )


def _call(row: sqlite3.Row) -> StoredToolCall:
    return StoredToolCall(
        row["call_id"],
        row["kind"],
        row["name"],
        row["server"],
        row["arguments"],
        row["result"],
        row["error"],
        row["status"],
        row["duration_ms"],
        row["at"],
    )


def _statements(script: str) -> list[str]:
    """Split a migration into statements (triggers hold `;` inside BEGIN … END)."""
    statements, current = [], ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _writable(path: Path) -> bool:
    return os.access(path if path.exists() else path.parent, os.W_OK)
