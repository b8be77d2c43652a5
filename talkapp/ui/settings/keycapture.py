"""A button that records the next key (with its modifiers) as a hotkey.

Activate it (click, Space or Enter), press the key: that is the new value. Esc cancels, and so
does moving the focus away, so Tab still leaves the field as anywhere else (keyboard users are
never trapped). While recording, the dialog's shortcuts and mnemonics do not fire: the key
belongs to the recording.

Two spellings, one per consumer of the value:
  "qt"      a QKeySequence in portable text, "Space", "Ctrl+F9" (the in-window key)
  "pynput"  pynput's syntax, "<ctrl>+<alt>+h", "<f9>" (the global hotkey)
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QKeyCombination, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

_MODIFIER_KEYS = {
    k.value
    for k in (
        Qt.Key.Key_Control,
        Qt.Key.Key_Alt,
        Qt.Key.Key_Shift,
        Qt.Key.Key_Meta,
        Qt.Key.Key_AltGr,
        Qt.Key.Key_Super_L,
        Qt.Key.Key_Super_R,
        Qt.Key.Key_Hyper_L,
        Qt.Key.Key_Hyper_R,
    )
}
_PYNPUT_BY_KEY = {
    Qt.Key.Key_Space: "space",
    Qt.Key.Key_Return: "enter",
    Qt.Key.Key_Enter: "enter",
    Qt.Key.Key_Tab: "tab",
    Qt.Key.Key_Backspace: "backspace",
    Qt.Key.Key_Delete: "delete",
    Qt.Key.Key_Insert: "insert",
    Qt.Key.Key_Home: "home",
    Qt.Key.Key_End: "end",
    Qt.Key.Key_PageUp: "page_up",
    Qt.Key.Key_PageDown: "page_down",
    Qt.Key.Key_Left: "left",
    Qt.Key.Key_Right: "right",
    Qt.Key.Key_Up: "up",
    Qt.Key.Key_Down: "down",
    Qt.Key.Key_Pause: "pause",
    Qt.Key.Key_ScrollLock: "scroll_lock",
    Qt.Key.Key_Print: "print_screen",
    Qt.Key.Key_Menu: "menu",
}
_PYNPUT_NAMES: dict[int, str] = {k.value: name for k, name in _PYNPUT_BY_KEY.items()}


def _key(value) -> int:
    return value.value if hasattr(value, "value") else int(value)


def pynput_combo(
    key: int, modifiers: Qt.KeyboardModifier, mac: bool = sys.platform == "darwin"
) -> str | None:
    """The pynput spelling of a Qt key press, or None for a key it cannot name."""
    parts = []
    # On macOS Qt reports ⌘ as Control and the Control key as Meta.
    ctrl, cmd = (
        (Qt.KeyboardModifier.MetaModifier, Qt.KeyboardModifier.ControlModifier)
        if mac
        else (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.MetaModifier)
    )
    for flag, name in (
        (ctrl, "<ctrl>"),
        (Qt.KeyboardModifier.AltModifier, "<alt>"),
        (Qt.KeyboardModifier.ShiftModifier, "<shift>"),
        (cmd, "<cmd>"),
    ):
        if modifiers & flag:
            parts.append(name)
    if _key(Qt.Key.Key_F1) <= key <= _key(Qt.Key.Key_F20):
        parts.append(f"<f{key - _key(Qt.Key.Key_F1) + 1}>")
    elif key in _PYNPUT_NAMES:
        parts.append(f"<{_PYNPUT_NAMES[key]}>")
    elif 0x21 <= key <= 0x7E and chr(key) != "+":
        parts.append(chr(key).lower())
    else:
        return None
    return "+".join(parts)


def readable(value: str, style: str) -> str:
    """How a value reads on the button: "Ctrl+Alt+H", "F9", "Space"."""
    if not value:
        return "None"
    if style == "qt":
        return (
            QKeySequence.fromString(value, QKeySequence.SequenceFormat.PortableText).toString(
                QKeySequence.SequenceFormat.NativeText
            )
            or value
        )
    words = []
    for part in value.split("+"):
        name = part.strip("<>")
        words.append(
            name.upper()
            if len(name) == 1
            else name.replace("_", " ").title().replace("Cmd", "⌘/Win")
        )
    return "+".join(words)


class KeyCapture(QPushButton):
    changed = Signal(str)

    def __init__(self, style: str, value: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._style = style
        self._value = value
        self._capturing = False
        self._swallow_release: int | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("Press the key… (Esc cancels)") + 32
        )
        self.setToolTip("Activate, then press the key to use. Esc cancels.")
        self.clicked.connect(self._start)
        self._show()

    def value(self) -> str:
        return self._value

    def set_value(self, value: str) -> None:
        self._value = value
        self._show()

    @property
    def capturing(self) -> bool:
        return self._capturing

    def _start(self) -> None:
        self._capturing = True
        self.setText("Press the key… (Esc cancels)")

    def _finish(self, value: str | None) -> None:
        self._capturing = False
        if value is not None and value != self._value:
            self._value = value
            self._show()
            self.changed.emit(value)
        else:
            self._show()

    def _show(self) -> None:
        text = readable(self._value, self._style)
        self.setText(text)
        self.setAccessibleName(f"Hotkey: {text}")

    def event(self, event: QEvent) -> bool:
        if self._capturing and event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # the key comes to keyPressEvent instead of firing a shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._capturing:
            super().keyPressEvent(event)
            return
        key = event.key()
        if key == _key(Qt.Key.Key_Escape):
            self._swallow_release = key
            self._finish(None)
        elif key in _MODIFIER_KEYS or event.isAutoRepeat():
            return  # wait for the key that goes with the modifiers
        else:
            value = self._value_of(key, event.modifiers())
            if value is None:
                self.setText(
                    f"{QKeySequence(key).toString() or 'That key'} cannot be used: press another"
                )
                return
            self._swallow_release = key  # its release must not click the button again
            self._finish(value)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if self._capturing or event.key() == self._swallow_release:
            self._swallow_release = None
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:
        if self._capturing:
            self._finish(None)
        super().focusOutEvent(event)

    def _value_of(self, key: int, modifiers: Qt.KeyboardModifier) -> str | None:
        if self._style == "pynput":
            return pynput_combo(key, modifiers)
        try:
            combination = QKeyCombination(
                modifiers & ~Qt.KeyboardModifier.KeypadModifier, Qt.Key(key)
            )
        except ValueError:  # a key Qt has no name for
            return None
        return QKeySequence(combination).toString(QKeySequence.SequenceFormat.PortableText) or None
