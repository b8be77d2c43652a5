"""What tests (and demos) can inspect after the fact: every connection and every frame.

Keys never appear whole: the recorded Authorization and api-key headers are masked like error
messages mask keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from talkapp.simulator.errors import mask_key

# Bounds on what is kept for inspection, so a simulator that runs for days stays small: the
# newest events of each connection and of the timeline, and the newest connections.
MAX_EVENTS = 100_000
MAX_CONNECTIONS = 10_000


def _keep_newest(items: list, limit: int) -> None:
    if len(items) > limit:
        del items[: len(items) - limit + limit // 10]  # trimmed in steps, not at every append


@dataclass
class ConnectionRecord:
    number: int
    path: str
    headers: dict[str, str]  # lower-case names; authorization and api-key masked
    dialect: str | None = None  # "ga" / "beta"; None when refused
    model: str | None = None
    received: list = field(default_factory=list)  # client events (raw text/bytes when not JSON)
    sent: list = field(default_factory=list)  # server events (raw text for a malformed one)
    close_code: int | None = None
    close_reason: str | None = None
    http_status: int | None = None  # refused at the upgrade (Azure): no socket was opened
    went_silent: bool = False  # the go-silent knob fired on this connection
    internal_errors: list[str] = field(
        default_factory=list
    )  # simulator bugs, reported as server_error

    @property
    def errors(self) -> list[dict]:
        return [e for e in self.sent if isinstance(e, dict) and e.get("type") == "error"]

    def sent_types(self) -> list[str | None]:
        """The `type` of each JSON event sent (None for one without a type)."""
        return [e.get("type") for e in self.sent if isinstance(e, dict)]


@dataclass
class Recorder:
    """`enabled=False` keeps only the connection records' headers and close codes: the app's
    offline simulator runs for hours and must not keep every audio frame it ever saw."""

    connections: list[ConnectionRecord] = field(default_factory=list)
    timeline: list[tuple[int, str, object]] = field(
        default_factory=list
    )  # (connection, "in"/"out", event)
    enabled: bool = True

    def open(self, path: str, headers: Iterable[tuple[str, str]]) -> ConnectionRecord:
        number = self.connections[-1].number + 1 if self.connections else 0
        record = ConnectionRecord(number, path, _masked(headers))
        self.connections.append(record)
        _keep_newest(self.connections, MAX_CONNECTIONS)
        return record

    def received(self, record: ConnectionRecord, event: object) -> None:
        if not self.enabled:
            return
        record.received.append(event)
        self.timeline.append((record.number, "in", event))
        _keep_newest(record.received, MAX_EVENTS)
        _keep_newest(self.timeline, MAX_EVENTS)

    def sent(self, record: ConnectionRecord, event: object) -> None:
        if not self.enabled:
            return
        record.sent.append(event)
        self.timeline.append((record.number, "out", event))
        _keep_newest(record.sent, MAX_EVENTS)
        _keep_newest(self.timeline, MAX_EVENTS)


def _masked(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    out = {}
    for name, value in headers:
        name = name.lower()
        if name == "authorization":
            scheme, _, token = value.partition(" ")
            value = f"{scheme} {mask_key(token.strip())}" if token else scheme
        elif name in ("api-key", "x-goog-api-key"):  # Azure's and Google's key headers
            value = mask_key(value.strip())
        out[name] = value
    return out
