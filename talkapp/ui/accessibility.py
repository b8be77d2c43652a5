"""Keyboard and screen-reader wiring in one place: which widgets are controls, the name and
description a screen reader reads for each (what Qt's accessibility bridge exposes to Orca,
Narrator and VoiceOver), the Tab order, a focus ring that shows on any colour, and spoken
announcements of state changes.

The names come from what Qt already exposes (a button's text, a field's buddy label, an explicit
accessible name); the descriptions from an explicit accessible description or the tooltip,
which Qt reports as the description when none is set.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt
from PySide6.QtGui import QAccessible, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

# What a user operates; their inner parts (a combo box's line edit, a spin box's, a line edit's
# clear button, a tab bar's scroll arrows) are read as part of them.
CONTROL_TYPES = (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QKeySequenceEdit,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
)


def is_control(widget: QWidget) -> bool:
    if not isinstance(widget, CONTROL_TYPES) or isinstance(widget, QScrollBar):
        return False
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, CONTROL_TYPES):
            return False  # a part of a control
        parent = parent.parentWidget()
    return True


def controls(root: QWidget) -> list[QWidget]:
    """Every control under `root` (hidden ones too: a tab not shown, a row a preset hides)."""
    return [w for w in root.findChildren(QWidget) if is_control(w)]


def _text(widget: QWidget, kind: QAccessible.Text) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(kind).strip() if interface is not None else ""


def name_of(widget: QWidget) -> str:
    """The name a screen reader reads for `widget`: its accessible name, a button's text, else
    its label (a buddy, a group's title), else its own text. A combo box's own text is its
    value, not a name (Qt on Linux reports it as the name and leaves the label to a relation,
    as AT-SPI wants)."""
    if widget.accessibleName().strip():
        return widget.accessibleName().strip()
    interface = QAccessible.queryAccessibleInterface(widget)
    if interface is None:
        return ""
    if isinstance(widget, QAbstractButton) and interface.text(QAccessible.Text.Name).strip():
        return interface.text(QAccessible.Text.Name).strip()  # its own text, not its group's
    for label, _relation in interface.relations(QAccessible.RelationFlag.Label):
        text = label.text(QAccessible.Text.Name).strip()
        if text:
            return text
    return "" if isinstance(widget, QComboBox) else _text(widget, QAccessible.Text.Name)


def description_of(widget: QWidget) -> str:
    """The description a screen reader reads after the name."""
    return _text(widget, QAccessible.Text.Description)


def unnamed(root: QWidget) -> list[str]:
    """The controls under `root` a screen reader could not name or describe, as
    "ClassName 'name'" lines (empty: every control has both)."""
    found = []
    for widget in controls(root):
        if isinstance(widget, QTabBar):  # each tab is read as a control of its own
            found += [
                f"tab {widget.tabText(i)!r}: no description"
                for i in range(widget.count())
                if not widget.tabToolTip(i).strip()
            ]
            continue
        name, description = name_of(widget), description_of(widget)
        if not name or not description:
            label = name or widget.objectName() or "(no name)"
            missing = " and ".join(
                what for what, text in (("name", name), ("description", description)) if not text
            )
            found.append(f"{type(widget).__name__} {label!r}: no {missing}")
    return found


def clashing_mnemonics(root: QWidget) -> dict[str, list[str]]:
    """Alt+letter keys that two controls shown under `root` both claim (Qt then only moves
    the focus between them, and neither acts): letter -> their texts."""
    claims: dict[str, list[str]] = {}
    for widget in root.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QAbstractButton) or (
            isinstance(widget, QLabel) and widget.buddy() is not None
        ):
            letter = mnemonic(widget.text())
            if letter:
                claims.setdefault(letter, []).append(widget.text())
    return {letter: texts for letter, texts in claims.items() if len(texts) > 1}


def mnemonic(text: str) -> str:
    """The letter after a single "&" in `text` (lower case), or ""."""
    plain = text.replace("&&", "")
    at = plain.find("&")
    return plain[at + 1].lower() if 0 <= at < len(plain) - 1 else ""


def describe(widget: QWidget, description: str, name: str = "") -> None:
    """Set what a screen reader says about `widget` (and its name, when its text cannot be)."""
    if name:
        widget.setAccessibleName(name)
    widget.setAccessibleDescription(description)


def takes_tab(widget: QWidget) -> bool:
    return bool(widget.focusPolicy().value & Qt.FocusPolicy.TabFocus.value)


def reading_order(widgets: Iterable[QWidget]) -> list[QWidget]:
    """`widgets` as a reader meets them on screen: rows top to bottom, each left to right.
    Those not shown yet keep their order, after the others (Tab skips them until shown, and
    showing them orders them again)."""
    widgets = list(widgets)
    shown = [w for w in widgets if w.isVisibleTo(w.window())]
    boxes = []
    for w in shown:
        top_left = w.mapTo(w.window(), QPoint(0, 0))
        boxes.append((top_left.y(), top_left.y() + w.height(), top_left.x()))
    return [shown[i] for i in in_reading_order(boxes)] + [w for w in widgets if w not in shown]


def in_reading_order(boxes: list[tuple[int, int, int]]) -> list[int]:
    """The indices of `boxes` (top, bottom, left) in reading order. A row is the span of its
    topmost box; a box whose vertical middle falls in it is on that row (controls of unequal
    heights centred on one line)."""
    rows: list[tuple[int, int, list[int]]] = []
    for i in sorted(range(len(boxes)), key=lambda i: (boxes[i][0], boxes[i][2])):
        top, bottom, _left = boxes[i]
        if rows and rows[-1][0] <= (top + bottom) / 2 <= rows[-1][1]:
            rows[-1][2].append(i)
        else:
            rows.append((top, bottom, [i]))
    return [i for _top, _bottom, row in rows for i in sorted(row, key=lambda i: boxes[i][2])]


def chain(widgets: Iterable[QWidget]) -> None:
    """Tab visits `widgets` in this order (the reading order)."""
    for before, after in itertools.pairwise(widgets):
        QWidget.setTabOrder(before, after)


def announce(widget: QWidget, text: str) -> None:
    """Have a screen reader say `text` (a state change) without moving the focus; the widget's
    description holds it too, for a reader that asks later."""
    widget.setAccessibleDescription(text)
    # Qt 6.8 and later speak it; before, the description (a change a reader may notice) is all.
    announcement = getattr(QtGui, "QAccessibleAnnouncementEvent", None)
    if text and announcement is not None and QAccessible.isActive():
        QAccessible.updateAccessibility(announcement(widget, text))


class FocusRing(QObject):
    """A ring drawn over `target`'s edge while it has the keyboard focus: two tones (the accent
    outside, the base colour inside), so it shows on the window's colour and on a control
    filled with the accent (a checked button), where the style's own focus frame vanishes."""

    WIDTH = 2

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self._target = target
        self.overlay = _RingOverlay(target)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut, QEvent.Type.Resize):
            self.overlay.setGeometry(self._target.rect())
            self.overlay.setVisible(self._target.hasFocus())
            self.overlay.raise_()
        return False


class _RingOverlay(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hide()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        w = FocusRing.WIDTH
        outer = QRectF(self.rect()).adjusted(w / 2, w / 2, -w / 2, -w / 2)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), w))
        painter.drawRoundedRect(outer, 4, 4)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), w))
        painter.drawRoundedRect(outer.adjusted(w, w, -w, -w), 3, 3)
