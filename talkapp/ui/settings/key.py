"""The API key and the connection test of one profile.

The key goes from the field to the OS keyring and nowhere else: never into settings, a log or
a label. Every keyring call runs on the Tasks "keyring" lane (in order, off the UI thread).

What the field shows when a key is stored: nothing. Its *placeholder* reads "••••••••3f9a":
the worker that checks the keyring reads the key (there is no "does it exist" call in
`keyring`), keeps its last four characters and drops the rest before returning, so the widget
never holds the key -- only four characters that tell two stored keys apart, as OpenAI's own
dashboard does. A key typed and not yet saved stays in the field (per profile, as typed) until
Save key, OK/Apply (which store it) or Cancel (which forgets it); after storing, the field is
emptied with `setText("")`, which also clears its undo history.

With no OS keyring the box says so and offers "Use for this session": the key goes into the
app's in-memory `SessionKeys` (under the variable it stands in for, e.g. OPENAI_API_KEY), where
`find_api_key` looks next, and is gone when TalkApp quits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from talkapp.settings.profile import ProviderProfile
from talkapp.settings.secrets import (
    ENV_VAR,
    NO_KEYRING,
    KeyringUnavailable,
    MissingKey,
    SessionKeys,
    delete_api_key,
    find_api_key,
    keyring_name,
    store_api_key,
)
from talkapp.ui.settings.rules import address_problem
from talkapp.ui.tasks import Outcome, Tasks

MASK = "••••••••"
TESTING = "Testing the connection…"


@dataclass(frozen=True)
class KeyStatus:
    keyring: str | None  # "Secret Service", … or None: no OS keyring
    stored: bool
    last4: str  # of the stored key, "" when none
    from_env: bool  # one of the profile's variables is set (for this session, or in the env)
    env_var: str = (
        ENV_VAR  # that one, else the provider's own (AZURE_OPENAI_API_KEY, XAI_API_KEY, …)
    )


def key_status(
    key_name: str, env_vars: tuple[str, ...] = (ENV_VAR,), session: SessionKeys | None = None
) -> KeyStatus:
    """On a worker thread: where this profile's key is. Only four characters leave."""
    keyring = keyring_name()
    try:
        found = find_api_key(key_name, env_vars, session)
    except MissingKey:
        found = None
    stored = found is not None and keyring is not None and found.source == keyring
    last4 = found.value[-4:] if found is not None and stored and len(found.value) >= 12 else ""
    del found
    in_env = next(
        (
            name
            for name in env_vars
            if (session is not None and session.get(name)) or os.environ.get(name, "").strip()
        ),
        None,
    )
    return KeyStatus(keyring, stored, last4, in_env is not None, in_env or env_vars[0])


def lookup_key(
    key_name: str, env_vars: tuple[str, ...] = (ENV_VAR,), session: SessionKeys | None = None
) -> str | None:
    """On a worker thread: the key a connection test should use (keyring, this session's, then
    the environment's)."""
    try:
        return find_api_key(key_name, env_vars, session).value
    except MissingKey:
        return None


class ApiKeyBox(QWidget):
    status_changed = Signal(str)  # the status line's new text (tests and screen readers follow it)
    test_finished = Signal(str)  # the connection test's line

    def __init__(
        self,
        tasks: Tasks,
        controller,
        current: Callable[[], ProviderProfile],
        session_keys: SessionKeys,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._controller = controller
        self._session_keys = session_keys  # "Use for this session" puts the key here, in memory
        self._current = current  # the profile as edited right now (for the connection test)
        self._profile = ProviderProfile()
        self._typed: dict[str, str] = {}  # key entry -> typed, not yet stored (Cancel forgets it)
        self._status: KeyStatus | None = None
        self._shared: list[str] = []
        self._asked = 0  # which status request is the latest

        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("API key")
        self.field.setToolTip("Paste the key; it is stored in the OS keyring, never in a file.")
        self.field.textChanged.connect(self._typing)
        # Enter is the dialog's OK, which stores a typed key too.
        self.save_button = QPushButton("&Save key")
        self.save_button.setToolTip("Store the typed key in the OS keyring for this profile.")
        self.save_button.clicked.connect(self._save)
        self.session_button = QPushButton("Use for this &session")
        self.session_button.setToolTip(
            "Keep the key in memory for this run only; it is never written anywhere."
        )
        self.session_button.clicked.connect(self._use_for_session)
        self.forget_button = QPushButton("&Forget")
        self.forget_button.setToolTip("Delete this profile's key from the OS keyring.")
        self.forget_button.clicked.connect(self._forget)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = QPushButton("&Test connection")
        self.test_button.setToolTip(
            "Open a session with these settings and this key, then close it."
        )
        self.test_button.clicked.connect(self._test)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result.setAccessibleName("Connection test result")

        row = QHBoxLayout()
        for w in (self.field, self.save_button, self.session_button, self.forget_button):
            row.addWidget(w)
        row.setStretch(0, 1)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addLayout(row, 0, 0, 1, 2)
        grid.addWidget(self.status, 1, 0, 1, 2)
        grid.addWidget(self.test_button, 2, 0, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(
            self.result, 3, 0, 1, 2
        )  # its own row: a long line wraps instead of being cut
        grid.setColumnStretch(1, 1)
        self.session_button.hide()

    # ---- the dialog's side ----

    def show_for(self, profile: ProviderProfile, shared_with: list[str]) -> None:
        """Show `profile`'s key (and that `shared_with` use the same keyring entry)."""
        self._remember_typed()
        self._profile = profile
        self._shared = shared_with
        self.result.clear()
        needs = profile.needs_key
        for w in (self.field, self.save_button, self.forget_button):
            w.setEnabled(needs)
        self.field.setText(self._typed.get(profile.key_name, "") if needs else "")
        self.field.setPlaceholderText("" if needs else "not needed")
        if not needs:
            self.session_button.hide()
            self._set_status("The offline simulator runs on this computer and needs no key.")
            return
        self._set_status("Looking in the keyring…")
        self._refresh()

    def retarget(self, profile: ProviderProfile, shared_with: list[str]) -> None:
        """The profile was edited: look again only if whether or where its key lives changed."""
        moved = (profile.needs_key, profile.key_name) != (
            self._profile.needs_key,
            self._profile.key_name,
        )
        if moved:
            self.show_for(profile, shared_with)
        self._profile = profile

    def take_typed(self) -> dict[str, str]:
        """Keys typed and not yet stored, by key entry; the fields are emptied."""
        self._remember_typed()
        typed, self._typed = self._typed, {}
        self.field.setText("")
        return typed

    def store(self, typed: dict[str, str], then: Callable[[str | None], None]) -> None:
        """Store every typed key (keyring lane); `then(None)` when all are in, else
        `then(why not)`."""

        def store_all() -> str:
            names = {store_api_key(name, value) for name, value in typed.items()}
            return names.pop() if names else ""

        def done(outcome: Outcome) -> None:
            if outcome.error is None:
                self._refresh()
                then(None)
            else:
                self._typed.update(typed)  # not stored: keep them for another try
                self.field.setText(self._typed.get(self._profile.key_name, ""))
                then(_why(outcome.error))

        self._tasks.run(store_all, done, lane="keyring")

    # ---- key ----

    def _remember_typed(self) -> None:
        text = self.field.text().strip()
        if text:
            self._typed[self._profile.key_name] = text
        else:
            self._typed.pop(self._profile.key_name, None)

    def _typing(self, text: str) -> None:
        if not text.strip():
            self._typed.pop(self._profile.key_name, None)

    def _refresh(self) -> None:
        self._asked += 1
        asked, key_name, env_vars = self._asked, self._profile.key_name, self._profile.env_vars
        session = self._session_keys
        self._tasks.run(
            lambda: key_status(key_name, env_vars, session),
            lambda outcome: self._show_status(asked, outcome),
            lane="keyring",
        )

    def _show_status(self, asked: int, outcome: Outcome) -> None:
        if asked != self._asked or not self._profile.needs_key:
            return  # another profile is shown by now
        if outcome.error is not None:
            self._set_status(f"The keyring could not be read ({_why(outcome.error)}).")
            return
        status: KeyStatus = outcome.value
        self._status = status
        self.session_button.setVisible(status.keyring is None)
        self.save_button.setVisible(status.keyring is not None)
        self.forget_button.setVisible(status.keyring is not None)
        self.forget_button.setEnabled(status.stored)
        self.field.setPlaceholderText(
            f"{MASK}{status.last4}" if status.stored else "paste a key (sk-…)"
        )
        self._set_status(_describe(status, self._shared))

    def _save(self) -> None:
        value = self.field.text().strip()
        if not value or not self._profile.needs_key:
            return
        if self._status is not None and self._status.keyring is None:
            self._use_for_session()
            return
        key_name = self._profile.key_name
        self.save_button.setEnabled(False)
        self._set_status("Saving the key…")

        def done(outcome: Outcome) -> None:
            self.save_button.setEnabled(True)
            if outcome.error is not None:
                self._set_status(_why(outcome.error))
                return
            if self._profile.key_name == key_name:
                self.field.setText("")  # also clears the field's undo history
            self._typed.pop(key_name, None)
            self._refresh()

        self._tasks.run(lambda: store_api_key(key_name, value), done, lane="keyring")

    def _use_for_session(self) -> None:
        value = self.field.text().strip()
        if not value:
            self._set_status(
                f"Type the key first; it will be kept in memory (as "
                f"{self._profile.env_var}) until TalkApp quits."
            )
            return
        self._session_keys.put(self._profile.env_var, value)  # in memory only: never written
        self.field.setText("")
        self._typed.pop(self._profile.key_name, None)
        self._set_status(
            f"Using this key for this session only (as {self._profile.env_var}, for every profile "
            "without a "
            "stored key). It is not saved anywhere and is gone when TalkApp quits."
        )

    def _forget(self) -> None:
        key_name = self._profile.key_name
        self._tasks.run(lambda: delete_api_key(key_name), lambda _: self._refresh(), lane="keyring")

    # ---- connection test ----

    def _test(self) -> None:
        profile = self._current()
        problem = address_problem(profile) if profile.needs_key else ""
        if problem:
            self._show_result(f"✗ Not tested: {problem}")
            return
        typed = self.field.text().strip() if profile.needs_key else ""
        if not typed and profile.needs_key and profile.key_problem:  # the stored key stays home
            self._show_result(f"✗ Not tested: {profile.key_problem}")
            return
        controller, session = self._controller, self._session_keys
        self.test_button.setEnabled(False)
        self.result.setText(TESTING)

        def attempt() -> str:  # on the "connection" lane; the controller's loop does the I/O
            key = typed or (
                lookup_key(profile.key_name, profile.env_vars, session)
                if profile.needs_key
                else None
            )
            return controller.test_connection(profile, key).result(timeout=60)

        def done(outcome: Outcome) -> None:
            self.test_button.setEnabled(True)
            if outcome.error is not None:
                self._show_result(f"✗ The test could not finish ({_why(outcome.error)}).")
            else:
                self._show_result(outcome.value)

        self._tasks.run(attempt, done, lane="connection")

    def _show_result(self, line: str) -> None:
        self.result.setText(line)
        self.test_finished.emit(line)

    def _set_status(self, text: str) -> None:
        text = text[:1].upper() + text[1:]  # a sentence, even when a keyring's message is not
        self.status.setText(text)
        self.status_changed.emit(text)


def _describe(status: KeyStatus, shared_with: list[str]) -> str:
    shared = (
        f" It is shared with {', '.join(f'“{n}”' for n in shared_with)}." if shared_with else ""
    )
    env_var = status.env_var
    if status.keyring is None:
        env = (
            f" {env_var} is set, so this session can connect."
            if status.from_env
            else (
                f" Type the key and choose “Use for this session”, or set {env_var} before "
                "starting TalkApp."
            )
        )
        return NO_KEYRING.replace(ENV_VAR, env_var) + env
    if status.stored:
        return f"Stored in {status.keyring}." + shared
    if status.from_env:
        return (
            f"No key stored for this profile: {env_var} from the environment is used for this "
            "session. "
            f"Save a key to keep it in {status.keyring}."
        )
    return f"No key stored yet. A saved key is kept in {status.keyring}." + shared


def _why(error: BaseException) -> str:
    if isinstance(error, KeyringUnavailable):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
