"""A horizontal level meter, and the dBFS → bar mapping shared with the talk button's ring.

The window polls the engine's levels (~30 Hz) and calls `set_level`; the meter rises at once
and falls slowly, as a VU meter does, so speech reads as a steady bar rather than flicker. It
repaints only when the bar changes, at most `MAX_REPAINTS_PER_S` times a second, and not at all
while hidden or minimised (a meter nobody sees costs nothing).
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0  # the bottom of the scale: quieter is an empty bar
FALL_PER_TICK = 0.04  # at 30 Hz a full bar empties in under a second
MAX_REPAINTS_PER_S = 30


def fraction(dbfs: float) -> float:
    """dBFS (-inf … 0) as 0 … 1 on a -60 dB scale."""
    if math.isnan(dbfs) or dbfs <= FLOOR_DB:
        return 0.0
    return min(1.0, (dbfs - FLOOR_DB) / -FLOOR_DB)


class LevelMeter(QWidget):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = 0.0  # what is drawn, 0 … 1
        self.repaints = 0  # repaints asked for (for the tests: cheap meters)
        self._painted_at = -math.inf
        self._described = ""
        self.setAccessibleName(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_level(self, dbfs: float) -> None:
        if not self.isVisible() or self.window().isMinimized():
            return  # nobody sees it: no work at all (it catches up when shown)
        target = fraction(dbfs)
        value = target if target >= self.value else max(target, self.value - FALL_PER_TICK)
        now = time.monotonic()
        if value == self.value or now - self._painted_at < 1 / MAX_REPAINTS_PER_S:
            return
        self.value, self._painted_at = value, now
        described = f"{dbfs:.0f} dBFS" if value > 0 else "silent"
        if described != self._described:
            self._described = described
            self.setAccessibleDescription(described)
        self.repaints += 1
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(160, max(10, self.fontMetrics().height() // 2 + 2))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        track = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = track.height() / 2
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(track, radius, radius)
        if self.value > 0:
            bar = QRectF(
                track.left(),
                track.top(),
                max(track.height(), track.width() * self.value),
                track.height(),
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(bar, radius, radius)
