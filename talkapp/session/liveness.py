"""Is the connection still alive while we wait for the service? (pure)

A dead network path (Wi-Fi gone, a NAT that forgot us, a laptop lid closed and opened) leaves
the socket open and silent. While a reply is owed — we committed audio or asked for a response,
or the service started one — the service talks several times a second; a gap longer than
`STALL_S` then earns a WebSocket ping, and no pong within `PING_TIMEOUT_S` means the path is
dead (`SessionKeeper` drops it and reconnects). Idle connections are the transport's keepalive's.
"""

from __future__ import annotations

from talkapp.protocol import commands as cmd
from talkapp.protocol import events as ev

STALL_S = 3.0  # the service streams deltas every few tens of ms while it owes us a reply
PING_TIMEOUT_S = 3.0  # a live service answers a ping within a round trip
WATCH_EVERY_S = 0.25  # how often the keeper looks; 3 + 3 + 0.25 s, then the reconnect: within 10 s

_ASKS = (cmd.CommitAudio, cmd.CreateResponse)


class StallWatch:
    def __init__(self, stall_s: float = STALL_S) -> None:
        self.stall_s = stall_s
        self._owed = False  # a reply (or the rest of one) is owed by the service
        self._quiet_since: float | None = None

    def sent(self, command: cmd.Command, now: float) -> None:
        if isinstance(command, _ASKS):
            self._owed, self._quiet_since = True, now

    def received(self, event: ev.ServerEvent, now: float) -> None:
        self._quiet_since = now
        match event:
            case ev.SpeechStopped() | ev.ResponseStarted():
                self._owed = True  # service VAD ended the turn: its reply is on the way
            case ev.ResponseDone():
                self._owed = False

    @property
    def quiet_since(self) -> float | None:
        return self._quiet_since

    def due(self, now: float) -> bool:
        """True when a reply is owed and nothing came for longer than `stall_s`."""
        return (
            self._owed and self._quiet_since is not None and now - self._quiet_since > self.stall_s
        )

    def probed(self, now: float) -> None:
        """A ping went out (and was answered): the next one after another quiet `stall_s`."""
        self._quiet_since = now
