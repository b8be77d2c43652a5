"""What tests (and demos) can inspect after the fact: every connection and every frame.

Keys never appear whole: the recorded Authorization and api-key headers are masked like error
messages mask keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from talkapp.simulator.errors import mask_key


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

    def sent_types(self) -> list[str]:
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
        record = ConnectionRecord(len(self.connections), path, _masked(headers))
        self.connections.append(record)
        return record

    def received(self, record: ConnectionRecord, event: object) -> None:
        if not self.enabled:
            return
        record.received.append(event)
        self.timeline.append((record.number, "in", event))

    def sent(self, record: ConnectionRecord, event: object) -> None:
        if not self.enabled:
            return
        record.sent.append(event)
        self.timeline.append((record.number, "out", event))


def _masked(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    out = {}
    for name, value in headers:
        name = name.lower()
        if name == "authorization":
            scheme, _, token = value.partition(" ")
            value = f"{scheme} {mask_key(token.strip())}" if token else scheme
        elif name == "api-key":  # Azure's key header
            value = mask_key(value.strip())
        out[name] = value
    return out
