"""The app's history on real parts: the real window (offscreen), the real controller and engine,
the built-in simulator over a real socket, a private PulseAudio, and a real SQLite file in a tmp
folder. Typed turns keep the tests short; a spoken turn is recorded the same way."""

import json
import os
from pathlib import Path

import pytest
from fake_keys import fake_key
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from test_ui_main import WAIT, no_key, replies, wait_live  # noqa: F401  (fixtures and helpers)

from talkapp.app import DesktopApp
from talkapp.history.store import HistoryStore, SessionInfo
from talkapp.session.engine_events import State
from talkapp.settings.model import HistorySettings, Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.settings.store import SettingsStore
from talkapp.simulator import SimulatorConfig

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PAID = SessionInfo("Paid", "custom", "gpt-realtime-2", "ga")


@pytest.fixture
def history_path(tmp_path):
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def desktop(qtbot, pulse, tmp_path, history_path):
    """Start the app as `talkapp` does, on a config folder and a history file in tmp; each
    start is a new process's worth of app (a restart), closed afterwards."""
    running = []

    def start(settings: Settings | None = None) -> DesktopApp:
        store = SettingsStore(tmp_path / "config")
        if settings is not None:
            store.save(settings)
        app = DesktopApp(store, HistoryStore(history_path))
        qtbot.addWidget(app.window)
        app.start()
        running.append(app)
        return app

    def quit_(app: DesktopApp) -> None:
        running.remove(app)
        app.shutdown()

    start.quit = quit_
    yield start
    for app in running:
        app.shutdown()


def type_turn(qtbot, window, text: str) -> None:
    qtbot.keyClicks(window.transcript.message.edit, text)
    qtbot.keyClick(window.transcript.message.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(f'You said: "{text}"' in r for r in replies(window)), timeout=WAIT)


def saved(history_path) -> list:
    with HistoryStore(history_path) as store:
        return [store.conversation(s.id) for s in store.conversations()]


def shoot(widget, name: str) -> None:
    if os.environ.get("TALKAPP_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(SCREENSHOTS / name))


def test_a_restart_shows_the_last_conversation_which_continues_or_starts_over(
    qtbot, desktop, history_path
):
    app = desktop()
    window = app.window
    wait_live(qtbot, window)
    type_turn(qtbot, window, "Remember the word pineapple")
    qtbot.waitUntil(lambda: "ms · free" in window.transcript.view.toPlainText(), timeout=WAIT)
    qtbot.waitUntil(
        lambda: saved(history_path) and len(saved(history_path)[0].turns) == 2, timeout=WAIT
    )
    qtbot.mouseClick(window.talk.modes.hands_free, Qt.MouseButton.LeftButton)  # quit in hands-free
    assert window.settings.mode != "ptt"
    window.resize(780, 500)  # inside offscreen Qt's 800×600 screen: nothing to clamp
    window.move(10, 30)
    place = window.pos()
    splitter = window.transcript.parentWidget()
    splitter.setSizes([320, 380])
    sizes = splitter.sizes()
    window.activateWindow()  # the shortcut is the window's: it must be the active one
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)  # as a person quits
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT)
    desktop.quit(app)  # what the application's aboutToQuit runs

    app = desktop()  # the restart
    window = app.window
    first = saved(history_path)[0]
    assert (window.width(), window.height()) == (780, 500)
    assert splitter is not window.transcript.parentWidget()
    assert window.transcript.parentWidget().sizes() == sizes  # the talk side as it was left
    assert window.pos() == place  # where it was left
    # the last mode, but the microphone sends nothing until the user unmutes
    assert window.settings.mode == window.talk.modes.mode == "server_vad"
    assert window.muted and app.controller.muted and window.talk.mute_button.isChecked()
    assert window.talk.state_line.text().startswith(("Muted", "Connecting"))
    shown = [t.text for t in window.transcript.view.turns()]
    assert shown == [t.text for t in first.turns] and "Remember the word pineapple" in shown
    assert app.history.viewing == first.summary.id and app.history.strip.isVisible()
    assert "read-only" in app.history.strip_label.text()
    assert "free" in app.history.spend_line.text()

    wait_live(qtbot, window)
    qtbot.mouseClick(app.history.continue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            app.controller.engine is not None
            and bool(app.controller.engine.context)
            and window.state is State.LISTENING
        ),
        timeout=WAIT,
    )
    assert [i.text for i in app.controller.engine.context] == [
        t.text for t in first.turns
    ]  # the replay's items
    assert not app.history.strip.isVisible()
    type_turn(qtbot, window, "Which fruit did I name")
    qtbot.waitUntil(lambda: len(saved(history_path)[0].turns) == 4, timeout=WAIT)
    assert [c.summary.id for c in saved(history_path)] == [
        first.summary.id
    ]  # the same conversation

    qtbot.mouseClick(app.history.new_button, Qt.MouseButton.LeftButton)
    assert window.transcript.view.turns() == []
    qtbot.waitUntil(
        lambda: window.state is State.LISTENING and not app.controller.engine.context, timeout=WAIT
    )
    type_turn(qtbot, window, "A brand new topic")
    qtbot.waitUntil(lambda: len(saved(history_path)) == 2, timeout=WAIT)
    newest = saved(history_path)[0]
    assert newest.summary.id != first.summary.id and newest.turns[0].text == "A brand new topic"


def test_the_history_panel_lists_searches_opens_exports_and_deletes(
    qtbot, desktop, history_path, tmp_path, monkeypatch
):
    with HistoryStore(history_path) as store:
        for n, (question, answer) in enumerate(
            [
                ("How do I bake bread?", "Flour, water, salt and time."),
                ("What is the capital of France?", "Paris."),
                ("Plan a trip to Lisbon", "Start at the Alfama."),
            ]
        ):
            conversation = store.start_conversation(PAID, at=1_700_000_000.0 + n * 3600)
            store.add_turn(conversation, "user", question, at=1_700_000_000.0 + n * 3600, info=PAID)
            store.add_turn(
                conversation,
                "assistant",
                answer,
                at=1_700_000_001.0 + n * 3600,
                info=PAID,
                usage={"input_audio": 100, "output_audio": 200},
                cost_usd=0.0125,
            )
        ids = [s.id for s in store.conversations()]
    app = desktop()
    window, panel = app.window, app.history.panel
    assert not panel.isVisible()
    qtbot.mouseClick(app.history.toggle, Qt.MouseButton.LeftButton)
    assert panel.isVisible() and panel.ids() == ids  # newest first
    assert (
        "Plan a trip to Lisbon" in panel.list.item(0).text()
        and "$0.01" in panel.list.item(0).text()
    )
    shoot(window, "history.png")

    qtbot.keyClicks(panel.search, "capit")
    assert panel.ids() == [ids[1]]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "zebra")
    assert panel.ids() == [] and panel.empty.text() == "Nothing matches."
    panel.search.clear()

    panel.select(ids[2])
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert [t.text for t in window.transcript.view.turns()] == [
        "How do I bake bread?",
        "Flour, water, salt and time.",
    ]
    assert app.history.viewing == ids[2]

    md, js = tmp_path / "bread.md", tmp_path / "bread.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(md), "Markdown (*.md)"))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert "**Assistant**: Flour, water, salt and time." in md.read_text(encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(js), "JSON (*.json)"))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    exported = json.loads(js.read_text(encoding="utf-8"))
    assert exported["turns"][0]["text"] == "How do I bake bread?"

    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.No)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert panel.ids() == ids  # asked, and the answer was no
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert panel.ids() == ids[:2] and window.transcript.view.turns() == []
    assert [c.summary.id for c in saved(history_path)] == ids[:2]

    panel.select(ids[0])
    monkeypatch.setattr(
        QInputDialog, "getText", lambda *args, **kwargs: ("Lisbon, day by day", True)
    )
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    assert panel.list.item(0).text().startswith("Lisbon, day by day")
    assert saved(history_path)[0].summary.title == "Lisbon, day by day"

    panel.keep.setCurrentIndex(panel.keep.findData(30))
    panel.keep.activated.emit(panel.keep.currentIndex())  # as a person picking "30 days"
    assert panel.ids() == [] and saved(history_path) == []  # both were older than 30 days
    assert SettingsStore(tmp_path / "config").load().settings.history.keep_days == 30
    assert not panel.delete_all_button.isEnabled()


@pytest.fixture
def paid_profile(simulator_thread, monkeypatch, no_key):  # noqa: F811
    """A paid profile: a custom endpoint (the strict simulator on loopback) and its own key."""
    key = fake_key("custom-key-app-000000")
    sim = simulator_thread(SimulatorConfig(api_keys=frozenset({key})))
    monkeypatch.setenv("TALKAPP_CUSTOM_API_KEY", key)
    return ProviderProfile(
        name="Paid", provider="custom", base_url=sim.url, model="gpt-realtime-2", key_name="custom"
    )


def spent(history_path, usd: float) -> None:
    with HistoryStore(history_path) as store:
        conversation = store.start_conversation(PAID)
        store.add_turn(conversation, "user", "earlier this month", info=PAID)
        store.add_turn(
            conversation,
            "assistant",
            "a costly reply",
            info=PAID,
            usage={"output_audio": 1000},
            cost_usd=usd,
        )


def test_at_the_budget_a_paid_session_is_refused_before_dialing_unless_the_user_connects_anyway(
    qtbot, desktop, history_path, paid_profile
):
    spent(history_path, 5.0)
    settings = Settings().with_profile(paid_profile)
    app = desktop(
        Settings(
            profiles=settings.profiles,
            active="Paid",
            history=HistorySettings(monthly_budget_usd=4.0),
        )
    )
    window = app.window
    qtbot.waitUntil(
        lambda: window.banners.get("budget") is not None and window.state is State.IDLE,
        timeout=WAIT,
    )
    banner = window.banners.get("budget")
    assert banner.level == "error" and "$4.00" in banner.text and "\n" not in banner.text
    assert app.controller.engine is None  # nothing was dialed
    assert [b.text() for b in banner.buttons] == ["Connect an&yway", "Raise the &budget…"]
    shoot(window, "budget.png")
    qtbot.mouseClick(banner.buttons[0], Qt.MouseButton.LeftButton)
    wait_live(qtbot, window)
    assert window.banners.get("budget") is None
    type_turn(qtbot, window, "Worth every cent")
    # a priced model: this reply cost something (its usage follows the reply's words)
    qtbot.waitUntil(
        lambda: (
            len(saved(history_path)) == 2 and (saved(history_path)[0].summary.cost_usd or 0) > 0
        ),
        timeout=WAIT,
    )
    assert "has reached" in window.banners.get("budget").text  # still over: the banner says so
    key = os.environ["TALKAPP_CUSTOM_API_KEY"]
    for path in history_path.parent.iterdir():  # the database, its WAL: never the key
        assert key.encode() not in path.read_bytes() and key[-12:].encode() not in path.read_bytes()
    qtbot.waitUntil(
        lambda: "· $0.0" in window.transcript.view.toPlainText(), timeout=WAIT
    )  # the reply's cost


def test_the_budget_banner_shows_from_80_percent_and_the_budget_is_set_in_the_app(
    qtbot, desktop, history_path, paid_profile, monkeypatch, tmp_path
):
    spent(history_path, 8.5)
    settings = Settings().with_profile(paid_profile)
    app = desktop(
        Settings(
            profiles=settings.profiles,
            active="Paid",
            history=HistorySettings(monthly_budget_usd=10.0),
        )
    )
    window = app.window
    banner = window.banners.get("budget")
    assert banner is not None and banner.level == "warning" and "85%" in banner.text
    wait_live(qtbot, window)  # below 100 %: it connects
    assert "this month: $8.50 of $10.00" in app.history.spend_line.text()
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("a lot", True))
    qtbot.mouseClick(app.history.budget_button, Qt.MouseButton.LeftButton)
    refused = window.banners.get("budget")
    assert refused.level == "error" and "not a number" in refused.text and "\n" not in refused.text
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("100", True))
    qtbot.mouseClick(refused.buttons[0], Qt.MouseButton.LeftButton)  # Raise the budget…
    assert window.banners.get("budget") is None  # 8.5 % of the new budget: no banner
    assert "of $100.00" in app.history.spend_line.text()
    saved_settings = SettingsStore(tmp_path / "config").load().settings
    assert saved_settings.history.monthly_budget_usd == 100.0
