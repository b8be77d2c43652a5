"""The Compare view's latency chart: per configuration, one dot per run, on a shared ms axis.

A filled dot is the time to first audio (what a person waits through), a hollow ring the time
to the end of the reply. Repeated runs of one configuration are spread a little vertically so
equal times stay visible. Drawn with QPainter in palette colours (no chart dependency).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from talkapp.compare.runner import RunResult
from talkapp.ui import colors

KINDS = ("first_audio", "done")
LEGEND = {"first_audio": "first audio", "done": "reply done"}


@dataclass(frozen=True)
class Point:
    config: str
    run: int
    kind: str  # one of KINDS
    ms: float


def points_of(labels: Sequence[str], results: Sequence[RunResult]) -> list[Point]:
    found = []
    for r in results:
        if r.config in labels and r.ok and r.timings is not None:
            for kind in KINDS:
                ms = getattr(r.timings, kind)
                if ms is not None:
                    found.append(Point(r.config, r.run, kind, ms))
    return found


def nice_step(top: float, ticks: int = 5) -> float:
    """A 1, 2 or 5 × 10^k step giving about `ticks` intervals up to `top`."""
    raw = max(top, 1.0) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class LatencyChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Latency chart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._labels: list[str] = []
        self._failed: set[str] = set()
        self._points: list[Point] = []
        self._runs = 1

    def set_data(self, labels: Sequence[str], results: Sequence[RunResult], runs_each: int) -> None:
        self._labels = list(labels)
        self._points = points_of(labels, results)
        self._failed = {r.config for r in results if not r.ok} - {p.config for p in self._points}
        self._runs = max(1, runs_each)
        self.setAccessibleDescription(self._describe())
        self.updateGeometry()
        self.update()

    def points(self) -> list[Point]:
        return list(self._points)

    # ---- geometry ----

    def _row_height(self) -> float:
        return self.fontMetrics().height() * 1.9

    def sizeHint(self) -> QSize:
        fh = self.fontMetrics().height()
        return QSize(
            480, round(fh * 1.6 + max(1, len(self._labels)) * self._row_height() + fh * 2.2)
        )

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self.sizeHint().height())

    def _describe(self) -> str:
        parts = []
        for label in self._labels:
            audio = sorted(
                p.ms for p in self._points if p.config == label and p.kind == "first_audio"
            )
            parts.append(
                f"{label}: first audio {', '.join(f'{ms:.0f}' for ms in audio)} ms"
                if audio
                else f"{label}: no timings"
            )
        return "; ".join(parts)

    # ---- drawing ----

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette, fm = self.palette(), self.fontMetrics()
        fh, row_h = fm.height(), self._row_height()
        text, muted = palette.color(QPalette.ColorRole.WindowText), colors.muted(palette)
        widest = max(
            [fm.horizontalAdvance(label) for label in self._labels] + [fm.horizontalAdvance("—")]
        )
        left: float = widest + 16
        right = self.width() - fm.horizontalAdvance("0000 ms") / 2 - 8
        top = fh * 1.6
        radius = max(4.0, fh / 3)
        left += radius  # a dot at 0 ms stays clear of the labels
        plot = QRectF(left, top, max(40.0, right - left), len(self._labels) * row_h)
        top_ms = max([p.ms for p in self._points] + [100.0])
        step = nice_step(top_ms)
        scale_top = step * math.ceil(top_ms / step)

        def x_of(ms: float) -> float:
            return plot.left() + plot.width() * max(0.0, ms) / scale_top

        self._legend(painter, plot, fh, text, palette)
        painter.setPen(Qt.PenStyle.NoPen)
        for i, label in enumerate(self._labels):  # bands, then labels
            band = QRectF(0, plot.top() + i * row_h, self.width(), row_h)
            if i % 2:
                painter.fillRect(band, palette.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(text)
            painter.drawText(
                QRectF(4, band.top(), left - 12, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                label,
            )
            if label in self._failed:
                painter.setPen(colors.accent_text(palette, colors.ERROR))
                painter.drawText(
                    QRectF(plot.left() + 6, band.top(), plot.width(), row_h),
                    Qt.AlignmentFlag.AlignVCenter,
                    "failed: no timings",
                )
        grid = QPen(palette.color(QPalette.ColorRole.Mid), 1)
        ticks = round(scale_top / step)
        for k in range(ticks + 1):  # the axis: grid lines and their labels
            x = x_of(k * step)
            grid.setStyle(Qt.PenStyle.SolidLine if k == 0 else Qt.PenStyle.DotLine)
            painter.setPen(grid)
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom() + 4))
            painter.setPen(muted)
            caption = f"{k * step:g}" + (" ms" if k == ticks else "")
            width = fm.horizontalAdvance(caption)
            painter.drawText(QPointF(x - width / 2, plot.bottom() + 4 + fm.ascent()), caption)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
        spread = min(row_h / 2 - radius, radius * 1.2)
        for p in self._points:
            i = self._labels.index(p.config)
            offset = 0.0 if self._runs == 1 else ((p.run - 1) / (self._runs - 1) - 0.5) * 2 * spread
            centre = QPointF(x_of(p.ms), plot.top() + (i + 0.5) * row_h + offset)
            self._dot(painter, centre, radius, p.kind, palette)
        painter.end()

    def _dot(
        self, painter: QPainter, centre: QPointF, radius: float, kind: str, palette: QPalette
    ) -> None:
        highlight = palette.color(QPalette.ColorRole.Highlight)
        if kind == "first_audio":
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 1))
            painter.setBrush(highlight)
        else:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.WindowText), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, radius, radius)

    def _legend(self, painter: QPainter, plot: QRectF, fh: int, text, palette: QPalette) -> None:
        fm = self.fontMetrics()
        x = plot.left()
        y = fh * 0.8
        for kind in KINDS:
            self._dot(painter, QPointF(x + fh / 3, y), max(4.0, fh / 3), kind, palette)
            painter.setPen(text)
            painter.drawText(QPointF(x + fh, y + fm.ascent() / 2 - 1), LEGEND[kind])
            x += fh * 1.6 + fm.horizontalAdvance(LEGEND[kind])
        painter.setPen(colors.muted(palette))
        painter.drawText(
            QPointF(x + fh, y + fm.ascent() / 2 - 1), "from the end of your speech; one dot per run"
        )
