"""What the user really heard of each assistant item, from the output callback's frame count.

The playback feeder notes where each item's audio lands in the output ring (`wrote`); the
output callback's read position says how far playback got. The difference, minus the
resampler's look-ahead, is the audio handed to the device for that item: what a truncate must
report as `audio_end_ms` (the service drops the unheard rest of the reply, transcript included).

Pure bookkeeping: positions in, milliseconds out. Called on the asyncio loop only.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

_REMEMBERED_ITEMS = 16  # a turn has a handful of items; older ones can no longer be interrupted


@dataclass
class _Placement:
    first_frame: int  # ring position (device frames) where the item's audio starts
    received_ms: float  # wire audio received for the item so far


class PlaybackTracker:
    def __init__(self, device_rate: int, latency_frames: int = 0) -> None:
        self.device_rate = device_rate
        self.latency_frames = latency_frames  # the resampler's delay, in device frames
        self._items: OrderedDict[str, _Placement] = OrderedDict()

    def wrote(self, item_id: str, ring_position_before: int, wire_ms: float) -> None:
        """The feeder wrote `wire_ms` of `item_id`'s audio starting at this ring position."""
        placement = self._items.get(item_id)
        if placement is None:
            self._items[item_id] = _Placement(ring_position_before + self.latency_frames, wire_ms)
            if len(self._items) > _REMEMBERED_ITEMS:
                self._items.popitem(last=False)
        else:
            placement.received_ms += wire_ms

    def heard_ms(self, item_id: str, played_position: int) -> int:
        """Milliseconds of `item_id` handed to the device when the read position was
        `played_position`, clamped to what was received (truncating past it is an error)."""
        placement = self._items.get(item_id)
        if placement is None:
            return 0
        played = 1000.0 * (played_position - placement.first_frame) / self.device_rate
        # nearest millisecond (flooring was half a millisecond short on average), never past
        # the end of what was received
        return max(0, min(round(played), int(placement.received_ms)))

    def item_at(self, played_position: int) -> str | None:
        """The item whose audio the output was handing over at `played_position`."""
        for item_id, placement in reversed(self._items.items()):
            if placement.first_frame <= played_position:
                return item_id
        return None

    def received_ms(self, item_id: str) -> float:
        placement = self._items.get(item_id)
        return placement.received_ms if placement else 0.0

    def forget(self) -> None:
        self._items.clear()
