"""The live transcript: user and assistant turns as they stream, notes between them, and tool
calls as compact cards (name, arguments, result or error, duration).

Each entry (a turn or a note) owns one QTextFrame; a turn that changes (partial text growing,
then replaced by the final text; a reply marked interrupted) is rewritten inside its own frame
only, so a long session does not re-render on every delta.

Following: the view stays at the bottom while the reader is there, and always jumps there for the
user's own turn; scrolled up, it stays put and offers "Jump to latest". Following is a state kept
between renders, not guessed from the scroll bar at each one: the document is laid out lazily, so
the bar's maximum grows after a render returns, and a render-time guess lost the bottom once the
view was full. Copy/export use `as_markdown`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import (
    QFont,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFrame,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QTextBrowser, QToolButton, QWidget

from talkapp.session.transcript import ToolCard, Turn, heard_markdown, heard_split
from talkapp.ui import colors

PLACEHOLDER = (
    "Your conversation appears here. Hold the talk button (or its key) and speak, or "
    "type a message below."
)
CARD_TEXT = (
    160  # characters of arguments or a result shown on a card (Copy and Export keep them whole)
)
_CARD_STATUS = {
    "streaming": "asking…",
    "running": "running…",
    "done": "",
    "failed": "failed",
    "awaiting": "waiting for your approval",
    "approved": "approved",
    "denied": "denied",
    "expired": "no longer asked",
}


_NO_ROOM = QTextBlockFormat()
_NO_ROOM.setLineHeight(0, QTextBlockFormat.LineHeightTypes.FixedHeight.value)


@dataclass
class _Entry:
    frame: QTextFrame
    turn: Turn | None = None  # None: a note (or a card)
    card: ToolCard | None = None
    note: str = ""
    measure: str = ""  # e.g. "first audio 91 ms", shown after the time


class TranscriptView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setPlaceholderText(PLACEHOLDER)
        self.setAccessibleName("Transcript")
        self._entries: dict[str, _Entry] = {}
        self._notes = itertools.count()
        self._wall_offset = time.time() - time.perf_counter()  # Turn.at is perf_counter
        self.following = True  # at the bottom: new text scrolls into view
        self.jump_button = QToolButton(self)
        self.jump_button.setText("Jump to latest ↓")
        self.jump_button.setAccessibleName("Jump to latest")
        self.jump_button.setToolTip("Scroll to the newest turn and follow the conversation again")
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.clicked.connect(self.follow)
        self.jump_button.hide()
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._scrolled)

    # ---- what the window calls ----

    def show_turn(self, turn: Turn) -> None:
        entry = self._entries.get(turn.item_id)
        if entry is None:
            entry = self._entries[turn.item_id] = _Entry(self._new_frame())
            if turn.role == "user":  # their own turn: whatever they were reading, show it
                self.following = True
        entry.turn = turn
        self._render(entry)

    def follow(self) -> None:
        """Back to the bottom, following the conversation again ("Jump to latest", the user's
        own turn)."""
        self.following = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._show_jump()

    def show_card(self, card: ToolCard) -> None:
        """A tool call's card, new or changed (it keeps its place)."""
        key = f"tool:{card.id}"
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(self._new_frame())
        entry.card = card
        self._render(entry)

    def clear_entries(self) -> None:
        """Start over empty (a new conversation, or a saved one about to be shown)."""
        self.clear()
        self._entries.clear()
        self.follow()

    def cards(self) -> list[ToolCard]:
        return [e.card for e in self._entries.values() if e.card is not None]

    def add_note(self, text: str) -> None:
        entry = self._entries[f"note-{next(self._notes)}"] = _Entry(self._new_frame(), note=text)
        self._render(entry)

    def annotate(self, item_id: str, measure: str) -> None:
        entry = self._entries.get(item_id)
        if entry is not None:
            entry.measure = measure
            self._render(entry)

    def last_assistant_turn(self) -> str | None:
        return next(
            (
                k
                for k, e in reversed(self._entries.items())
                if e.turn and e.turn.role == "assistant"
            ),
            None,
        )

    def turns(self) -> list[Turn]:
        """The turns shown, in order."""
        return [e.turn for e in self._entries.values() if e.turn is not None]

    def as_markdown(self) -> str:
        lines = [f"# TalkApp transcript, {time.strftime('%Y-%m-%d %H:%M')}", ""]
        for entry in self._entries.values():
            if entry.card is not None:
                lines += [entry.card.as_markdown(), ""]
                continue
            if entry.turn is None:
                lines += [f"_{entry.note}_", ""]
                continue
            turn = entry.turn
            who = "You" if turn.role == "user" else "Assistant"
            lines += [f"**{who}** ({self._clock(turn.at)}): {heard_markdown(turn)}", ""]
        return "\n".join(lines)

    # ---- rendering ----

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light/dark switch: colours are derived
            for entry in self._entries.values():
                self._render(entry)

    def _new_frame(self) -> QTextFrame:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.setBlockFormat(_NO_ROOM)  # the document's own block before each frame: no gap
        frame_format = QTextFrameFormat()
        frame_format.setBottomMargin(8)
        frame = cursor.insertFrame(frame_format)
        cursor.setBlockFormat(QTextBlockFormat())
        return frame

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        # at the bottom already (the text now fits, say): following again, no button
        if self.following or self.verticalScrollBar().value() >= maximum - 4:
            self.follow()

    def _scrolled(self, value: int) -> None:
        self.following = value >= self.verticalScrollBar().maximum() - 4
        self._show_jump()

    def _show_jump(self) -> None:
        self.jump_button.setVisible(not self.following)
        if not self.following:
            self._place_jump()
            self.jump_button.raise_()

    def _place_jump(self) -> None:
        hint = self.jump_button.sizeHint()
        area = self.viewport().geometry()
        self.jump_button.setGeometry(
            area.right() - hint.width() - 12, area.bottom() - hint.height() - 8, *hint.toTuple()
        )

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_jump()

    def _render(self, entry: _Entry) -> None:
        cursor = entry.frame.firstCursorPosition()
        cursor.setPosition(entry.frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if entry.card is not None:
            self._write_card(cursor, entry.card)
        elif entry.turn is None:
            cursor.insertText(entry.note, self._format(muted=True, smaller=True))
        else:
            self._write_turn(cursor, entry.turn, entry.measure)
        if self.following:
            self.follow()

    def _write_turn(self, cursor: QTextCursor, turn: Turn, measure: str) -> None:
        cursor.insertText("You" if turn.role == "user" else "Assistant", self._format(bold=True))
        details = [self._clock(turn.at)] + ([measure] if measure else [])
        if not turn.final:
            details.append("speaking…" if turn.role == "assistant" else "listening…")
        cursor.insertText("  " + " · ".join(details), self._format(muted=True, smaller=True))
        cursor.insertBlock(QTextBlockFormat())
        heard, rest = heard_split(turn)
        cursor.insertText(heard or "…", self._format(muted=not turn.final))
        if rest:  # what the user did not hear: there, but visibly not part of what they heard
            not_heard = self._format(muted=True)
            not_heard.setFontStrikeOut(True)
            not_heard.setToolTip("Not heard: you interrupted the reply before this part")
            cursor.insertText(" ", self._format())
            cursor.insertText(rest, not_heard)
        if turn.interrupted:
            heard_for = f" after {turn.heard_ms / 1000:.1f} s" if turn.heard_ms is not None else ""
            cursor.insertBlock(QTextBlockFormat())
            cursor.insertText(
                f"— interrupted{heard_for}"
                + ("; the struck-out rest was not heard" if rest else ""),
                self._format(colour=colors.accent_text(self.palette(), colors.ERROR)),
            )

    def _write_card(self, cursor: QTextCursor, card: ToolCard) -> None:
        """One or two small lines: ⚙ name(arguments) · status · duration, then the result or
        error."""
        small = self._format(muted=True, smaller=True)
        if card.kind == "mcp_list":
            cursor.insertText("⚙ ", small)
            cursor.insertText(f"MCP server “{card.name}”", self._format(bold=True, smaller=True))
            listed = (
                f" offers {card.result}"
                if card.result
                else (" lists its tools…" if not card.settled else "")
            )
            cursor.insertText(listed, small)
        else:
            cursor.insertText("⚙ ", small)
            where = f"{card.server} · " if card.server else ""
            cursor.insertText(f"{where}{card.name}", self._format(bold=True, smaller=True))
            cursor.insertText(f"({_clip(card.arguments)})", small)
        details = [self._clock(card.at)] + [
            d for d in (_CARD_STATUS.get(card.status, card.status), card.note) if d
        ]
        if card.duration_ms is not None:
            details.append(f"{card.duration_ms:.0f} ms")
        cursor.insertText("  " + " · ".join(details), small)
        if card.error:
            cursor.insertBlock(QTextBlockFormat())
            cursor.insertText(
                f"✗ {_clip(card.error)}",
                self._format(smaller=True, colour=colors.accent_text(self.palette(), colors.ERROR)),
            )
        elif card.result and card.kind != "mcp_list":
            cursor.insertBlock(QTextBlockFormat())
            cursor.insertText(f"→ {_clip(card.result)}", small)

    def _format(self, *, bold=False, muted=False, smaller=False, colour=None) -> QTextCharFormat:
        fmt = QTextCharFormat()
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        if smaller:
            fmt.setFontPointSize(self.font().pointSizeF() * 0.9)
        if colour is not None or muted:
            fmt.setForeground(colour if colour is not None else colors.muted(self.palette()))
        return fmt

    def _clock(self, at: float) -> str:
        return (
            time.strftime("%H:%M:%S", time.localtime(at + self._wall_offset))
            if at
            else time.strftime("%H:%M:%S")
        )


def _clip(text: str, limit: int = CARD_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
