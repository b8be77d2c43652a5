"""The in-window hold-to-talk key (Space unless configured): an event filter on the widgets where
it may act (the transcript and the talk button — never the message box, so it cannot type there).

The key is consumed on those widgets (it neither scrolls the transcript nor clicks the button),
auto-repeat is ignored, and losing focus mid-hold counts as letting go, so a hold can never
get stuck when focus moves to a window or widget that would swallow the key's release.

Auto-repeat is not always marked: under Xvfb (and X servers whose repeated release/press pairs
carry different timestamps) Qt delivers each repeat as a plain release then press, 1 ms apart.
So a release only counts once no press follows within `GRACE_MS`; a press inside that window
is the same hold going on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QWidget

_IGNORED = Qt.KeyboardModifier.KeypadModifier
GRACE_MS = 50  # an unmarked repeat's press follows its release within ~1 ms; a person needs 100+


class HoldKey(QObject):
    pressed = Signal()
    released = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._key: QKeyCombination | None = None
        self.down = False
        self._releasing = QTimer(self, singleShot=True, interval=GRACE_MS)
        self._releasing.timeout.connect(self.let_go)

    def set_sequence(self, text: str) -> str:
        """Use the key named `text` (a Qt key sequence such as "Space" or "Ctrl+F9"); returns
        its name as a person reads it, "" when it names no key (the hotkey is then off)."""
        self.let_go()
        sequence = QKeySequence.fromString(text or "", QKeySequence.SequenceFormat.PortableText)
        # QKeySequence[i] (a QKeyCombination) exists at run time; PySide6's stubs omit __getitem__.
        self._key = sequence[0] if sequence.count() else None  # type: ignore[index]
        return (
            sequence.toString(QKeySequence.SequenceFormat.NativeText)
            if self._key is not None
            else ""
        )

    def watch(self, *widgets: QWidget) -> None:
        for widget in widgets:
            widget.installEventFilter(self)

    def let_go(self) -> None:
        self._releasing.stop()
        if self.down:
            self.down = False
            self.released.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if (
            kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(event, QKeyEvent)
            and self._matches(event)
        ):
            if not event.isAutoRepeat():
                self._key_down() if kind == QEvent.Type.KeyPress else self._key_up()
            return True
        if kind == QEvent.Type.FocusOut:
            self.let_go()
        return False

    def _key_down(self) -> None:
        if self._releasing.isActive():
            self._releasing.stop()  # an unmarked repeat: the hold goes on
        elif not self.down:
            self.down = True
            self.pressed.emit()

    def _key_up(self) -> None:
        if self.down:
            self._releasing.start()

    def _matches(self, event: QKeyEvent) -> bool:
        if self._key is None:
            return False
        if event.type() == QEvent.Type.KeyRelease:
            return event.key() == self._key.key()  # modifiers may be let go first
        modifiers = event.modifiers() & ~_IGNORED
        return event.key() == self._key.key() and modifiers == self._key.keyboardModifiers()
