"""Banners: what happened, in one or two sentences, and the buttons that fix it.

Banners are kept by topic ("connection", "settings", "audio", "service"): a new message on a
topic replaces the old one (a failed reconnect does not stack a second error), and a topic is
cleared when its problem goes away (a successful connection clears "connection").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from talkapp.ui import colors
from talkapp.ui.card import paint_card

Action = tuple[str, Callable[[], None]]  # (button text with its mnemonic, what it does)
_HUES = {"error": colors.ERROR, "warning": colors.WARNING}


class Banner(QWidget):
    dismissed = Signal()

    def __init__(
        self, level: str, text: str, actions: list[Action], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.level, self.text = level, text
        self.setAccessibleName({"error": "Error", "warning": "Warning"}.get(level, "Notice"))
        self.setAccessibleDescription(text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # service text: a fake link stays text
        self.label.setText(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.buttons: list[QPushButton] = []
        for caption, action in actions:
            button = QPushButton(caption)
            button.clicked.connect(action)
            layout.addWidget(button)
            self.buttons.append(button)
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.setAccessibleName("Dismiss")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismissed)
        layout.addWidget(close)
        self.dismiss_button = close

    def paintEvent(self, event) -> None:
        paint_card(self, _HUES.get(self.level))


class BannerStack(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._by_topic: dict[str, Banner] = {}
        self.hide()

    def show_message(
        self, topic: str, level: str, text: str, actions: Sequence[Action] = ()
    ) -> Banner:
        self.clear(topic)
        banner = Banner(level, text, list(actions), self)
        banner.dismissed.connect(lambda: self._dismiss(topic, banner))
        self._by_topic[topic] = banner
        self._layout.addWidget(banner)
        self.show()
        return banner

    def clear(self, topic: str) -> None:
        banner = self._by_topic.pop(topic, None)
        if banner is not None:
            banner.hide()
            banner.deleteLater()
        self.setVisible(bool(self._by_topic))

    def get(self, topic: str) -> Banner | None:
        return self._by_topic.get(topic)

    def _dismiss(self, topic: str, banner: Banner) -> None:
        if self._by_topic.get(topic) is banner:
            self.clear(topic)
