"""The big round hold-to-talk button; its ring shows the microphone level.

It stays enabled (and so keeps the keyboard focus, where the hold-to-talk key works) while
talking is impossible — disconnected, no key — and is then drawn quieter (`live`). In hands-free
it is live while connected (the microphone is open: its ring shows the level) though holding it
does nothing.

Hold it (mouse, touch, or Space while it has focus: QAbstractButton's own keyboard handling,
which ignores auto-repeat) to talk; `pressed`/`released` say when. Once pressed it stays
pressed until the button is let go, even if the pointer drifts off the circle.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QWidget

from talkapp.ui.colors import mix

RING = 0.09  # ring width, as a share of the radius
# The lowest level the ring draws: below it the room's hiss or the meter settling would leave a
# round-capped dot of an arc on the ring.
RING_SHOWN = 0.04
DISC = 0.80  # the disc's radius, as a share of the radius


class TalkButton(QAbstractButton):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ring = 0.0  # mic level, 0 … 1
        self.held = False  # held by a hotkey rather than by this button itself
        self.live = True  # talking is possible now (drawn quieter when not; it keeps the focus)
        # the ring shows the level: push-to-talk only while held (nothing is sent otherwise)
        self.metering = True
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self.setMaximumSize(260, 260)
        self.setAccessibleName("Hold to talk")

    def set_ring(self, value: float) -> None:
        if abs(value - self.ring) > 0.005:
            shown = self.ring_shown
            self.ring = value
            if shown or self.ring_shown:  # a level nobody sees (not metering) repaints nothing
                self.update()

    def set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            self.update()

    def set_metering(self, metering: bool) -> None:
        if metering != self.metering:
            self.metering = metering
            self.update()

    def set_held(self, held: bool) -> None:
        if held != self.held:
            self.held = held
            self.update()

    @property
    def ring_shown(self) -> bool:
        """Whether the ring draws the microphone's level now."""
        return self.live and self.metering and self.ring >= RING_SHOWN

    @property
    def looks_pressed(self) -> bool:
        return self.isDown() or self.held

    def sizeHint(self) -> QSize:
        return QSize(210, 210)

    def hitButton(self, pos) -> bool:
        if self.isDown():
            return True  # a hold survives the pointer drifting off the circle
        centre, radius = self._circle()
        delta = QPointF(pos) - centre
        return delta.x() ** 2 + delta.y() ** 2 <= radius**2

    def _circle(self) -> tuple[QPointF, float]:
        rect = QRectF(self.rect())
        return rect.center(), min(rect.width(), rect.height()) / 2 - 4

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        centre, radius = self._circle()
        accent = palette.color(QPalette.ColorRole.Highlight)
        window = palette.color(QPalette.ColorRole.Window)
        if not self.live:
            accent = mix(window, palette.color(QPalette.ColorRole.WindowText), 0.12)
        width = radius * RING
        ring_rect = QRectF(
            centre.x() - radius + width / 2,
            centre.y() - radius + width / 2,
            2 * radius - width,
            2 * radius - width,
        )
        painter.setPen(QPen(mix(window, accent, 0.22), width))
        painter.drawEllipse(ring_rect)
        if self.ring_shown:
            pen = QPen(accent, width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawArc(ring_rect, 90 * 16, -round(self.ring * 360 * 16))
        self._paint_disc(
            painter, centre, radius * (DISC - (0.04 if self.looks_pressed else 0)), accent, palette
        )

    def _paint_disc(
        self, painter: QPainter, centre: QPointF, r: float, accent: QColor, palette: QPalette
    ) -> None:
        fill = (
            mix(accent, palette.color(QPalette.ColorRole.Shadow), 0.3)
            if self.looks_pressed
            else accent
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawEllipse(centre, r, r)
        if self.hasFocus():
            pen = QPen(palette.color(QPalette.ColorRole.HighlightedText), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, r - 6, r - 6)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.35)
        painter.setFont(font)
        if self.live:
            text_colour = palette.color(QPalette.ColorRole.HighlightedText)
        else:  # quieter than active text, still readable (the palette's disabled text is too faint)
            text_colour = mix(
                palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText),
                accent,
                0.35,
            )
        painter.setPen(text_colour)
        box = QRectF(centre.x() - r * 0.8, centre.y() - r * 0.7, r * 1.6, r * 1.4)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text())
