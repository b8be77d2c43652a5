"""The main window for the keyboard and screen readers: what each control is for, Tab in reading
order (header, banners, prompts, the talking side, the transcript side, history), a focus ring
where the style's own one is lost, Enter as a second hold-to-talk key on the talk button, and
the state line spoken when it changes.

The order is recomputed when a banner or prompt comes or goes, or a control is added (another
part of the app may add its own), so a new control never lands at the end of the Tab chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QSplitter, QWidget

from talkapp.ui.accessibility import (
    FocusRing,
    announce,
    chain,
    controls,
    describe,
    is_control,
    reading_order,
    takes_tab,
)
from talkapp.ui.main.hold_key import HoldKey

if TYPE_CHECKING:
    from talkapp.ui.main.window import MainWindow

ENTER_SOURCE = "enter"  # what holds the talk button down when Enter does (see MainWindow.hold)


class WindowAccess(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._said = ""
        self._describe()
        t = window.talk
        ringed = (window.transcript.view, t.modes.push_to_talk, t.modes.hands_free)
        self.rings = [FocusRing(w) for w in ringed]
        self._enter_keys = []
        for name in ("Return", "Enter"):  # the main key and the keypad's
            key = HoldKey(self)
            key.set_sequence(name)
            key.watch(t.button)
            key.pressed.connect(lambda: window.hold(ENTER_SOURCE))
            key.released.connect(lambda: window.let_go(ENTER_SOURCE))
            self._enter_keys.append(key)
        self._watch()
        self.reorder()

    def regions(self) -> list[QWidget]:
        """The window's parts in reading order: above the conversation, then the splitter's
        panes left to right."""
        w = self._window
        splitter = w.transcript.parentWidget()
        panes = (
            [splitter.widget(i) for i in range(splitter.count())]
            if isinstance(splitter, QSplitter)
            else [w.talk, w.transcript]
        )
        return [w.header, w.banners, w.approvals, *panes]

    def _watch(self) -> None:
        splitter = self._window.transcript.parentWidget()
        for widget in (*self.regions(), splitter):
            if widget is not None:
                widget.installEventFilter(self)

    def order(self) -> list[QWidget]:
        """Every control that can take the focus, in reading order."""
        found = []
        for region in self.regions():
            found += [c for c in reading_order(controls(region)) if takes_tab(c)]
        return found

    def reorder(self) -> None:
        self._describe_answers()
        chain(self.order())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A banner or prompt added or gone, a pane shown, a control added by another part.
        kind = event.type()
        if kind == QEvent.Type.ChildAdded and isinstance(watched, QSplitter):
            self._watch()  # a new pane (the history panel)
        if kind in (QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.ChildAdded):
            self.reorder()
        return False

    def state_changed(self, line: str) -> None:
        """The state line changed: the talk button is named by its caption ("Hands-free: just
        talk", "Connect to talk") and described by the line, and a screen reader speaks the line
        once (not at every refresh)."""
        button = self._window.talk.button
        describe(button, line, name=" ".join(button.text().split()))
        if line != self._said:
            self._said = line
            announce(self._window.talk.state_line, line)

    # ---- names and descriptions ----

    def _describe(self) -> None:
        w = self._window
        h, t, tr = w.header, w.talk, w.transcript
        describe(h.profiles, "The profile TalkApp talks with: its service, model and key.")
        describe(h.connect_button, "Open or close the session with the profile's service.")
        describe(h.settings_button, "Profiles, keys, audio devices, hotkeys, tools and history.")
        describe(t.modes.vad, "Who decides that you finished speaking, in hands-free mode.")
        describe(
            tr.view,
            "Both sides of the conversation, newest last. Hold the talk key here to talk.",
        )
        describe(tr.message.button, "Send the typed message to the model.")

    def _describe_answers(self) -> None:
        """A banner's or prompt's controls are described by the message they answer."""
        for holder in (self._window.banners, self._window.approvals):
            for panel in holder.findChildren(QWidget):
                message = panel.accessibleDescription()
                if not message or is_control(panel):
                    continue
                for control in controls(panel):
                    if not control.accessibleDescription() and not control.toolTip():
                        describe(control, message)
