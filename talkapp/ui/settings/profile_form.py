"""The fields of one provider profile, with the URL and dialect it resolves to shown live.

The provider picker chooses a preset; each preset shows the fields it needs (a base URL; for
Azure the resource or endpoint, the deployment and, for the preview protocol, the API version).
`show(profile)` fills the fields; every edit emits `edited`, and `profile()` builds the
profile back from them. Session fields this form does not show (tools, output, speed, …) are
kept from the profile it was given.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayoutItem,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from talkapp.protocol.commands import Eagerness, TurnDetection
from talkapp.protocol.selection import ApiSetting
from talkapp.settings.profile import TRANSCRIPTION_MODELS, ProviderProfile
from talkapp.settings.providers import (
    API_VERSION,
    AZURE_API_VERSIONS,
    AZURE_PROVIDERS,
    DEPLOYMENT,
    PRESETS,
    preset_for,
)
from talkapp.ui.narrow import form_label, present
from talkapp.ui.settings.note import Note
from talkapp.ui.settings.rules import (
    AZURE_EXAMPLE,
    DialectFix,
    connection_line,
    dialect_line,
    is_builtin,
    reasoning_note,
    shows_resource,
    sign_in_note,
    suggestions_note,
    transcription_hint,
    voices_for,
    xai_note,
)

PROVIDERS = tuple((preset.label, provider) for provider, preset in PRESETS.items())
# "xAI" has no mnemonic: x, A and I are taken
DIALECTS: tuple[tuple[str, ApiSetting], ...] = (
    ("&Auto", "auto"),
    ("&Beta", "beta"),
    ("&GA", "ga"),
    ("xAI", "xai"),
    ("Gemini", "gemini"),  # no mnemonic either: G is GA's, the rest taken on this form
)
DIALECT_MEANINGS: dict[ApiSetting, str] = {
    "auto": "Speak the dialect the provider and the model id call for.",
    "beta": "The legacy beta Realtime dialect (OpenAI-Beta: realtime=v1).",
    "ga": "The GA Realtime dialect (gpt-realtime and later).",
    "xai": "xAI Grok Voice's own dialect.",
    "gemini": "Google's Gemini Live protocol (BidiGenerateContent).",
}
TURNS = (
    ("Server VAD — the service hears when you stop", "server_vad"),
    ("Semantic VAD — the service judges when you are done", "semantic_vad"),
    ("None — you end each turn (push-to-talk)", None),
)
EAGERNESS: tuple[Eagerness, ...] = ("auto", "low", "medium", "high")
REASONING = ("", "minimal", "low", "medium", "high", "xhigh")
TRANSCRIPTION_OFF = "Off"
RESOURCE_LABEL = "Re&source or endpoint:"  # the base URL field's label for Azure


def _widget(item: QLayoutItem | None) -> QWidget | None:
    return item.widget() if item is not None else None


class ProfileForm(QWidget):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = ProviderProfile()
        self._filling = False
        self.layout_ = form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.name = QLineEdit()
        self.name.setAccessibleDescription("The profile's name, as the main window lists it.")
        form.addRow("&Name:", self.name)
        self.provider = QComboBox()
        for label, value in PROVIDERS:
            self.provider.addItem(label, value)
        self.provider.setToolTip("The service: it decides the URL, the key and the dialect.")
        form.addRow("&Provider:", self.provider)
        self.base_url = QLineEdit()  # a base URL, or Azure's resource name or endpoint
        form.addRow("Base &URL:", self.base_url)
        self.deployment = QLineEdit()
        self.deployment.setToolTip(
            "The name you gave the deployment in Azure (empty: the model's name)."
        )
        form.addRow("Deplo&yment:", self.deployment)
        self.api_version = QComboBox()
        self.api_version.setEditable(True)
        self.api_version.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.api_version.addItems(AZURE_API_VERSIONS)
        self.api_version.setToolTip("The preview protocol's api-version query parameter.")
        form.addRow("API version:", self.api_version)
        self.sign_in = QComboBox()
        self.sign_in.addItem("API key", "key")
        self.sign_in.addItem("Microsoft Entra ID", "entra")
        self.sign_in.setToolTip(
            "How TalkApp signs in to this Azure resource: its API key, or your Microsoft Entra "
            "ID (azure-identity: the Azure CLI's login, a managed identity …)."
        )
        form.addRow("Si&gn in with:", self.sign_in)
        self.sign_in_note = Note("What Entra ID sign-in needs")
        form.addRow("", self.sign_in_note)
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        form.addRow("&Model:", self.model)
        form.addRow("Dialect:", self._dialect_row())
        form.addRow("", self._warning_row())
        self.connects = QLabel()
        self.connects.setWordWrap(True)
        self.connects.setAccessibleName("Resolved URL")
        self.connects.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Connects to:", self.connects)
        self.voice = QComboBox()
        self.voice.setEditable(True)
        self.voice.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        present(self.voice.lineEdit(), "line edit").setPlaceholderText("service default")
        form.addRow("&Voice:", self.voice)
        self.instructions = QPlainTextEdit()
        self.instructions.setTabChangesFocus(True)  # Tab moves on; it never types into the text
        self.instructions.setPlaceholderText("How the assistant should behave (optional)")
        self.instructions.setAccessibleDescription("How the assistant should behave (optional).")
        self.instructions.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        form.addRow("&Instructions:", self.instructions)
        self.turn = QComboBox()
        for turn_label, turn_kind in TURNS:
            self.turn.addItem(turn_label, turn_kind)
        self.turn.setToolTip("Who decides that you finished speaking, in hands-free mode.")
        form.addRow("Turn &detection:", self.turn)
        form.addRow("", self._turn_parameters())
        self.transcription = QComboBox()
        self.transcription.setEditable(True)
        self.transcription.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.transcription.addItems((TRANSCRIPTION_OFF, *TRANSCRIPTION_MODELS))
        form.addRow("Input t&ranscription:", self.transcription)
        self.xai_note = Note("What xAI's dialect leaves out")
        form.addRow("", self.xai_note)
        self.reasoning = QComboBox()
        for effort in REASONING:
            self.reasoning.addItem(effort or "service default", effort or None)
        form.addRow("Reas&oning effort:", self.reasoning)
        self.reasoning_note = Note("Why reasoning is off")
        form.addRow("", self.reasoning_note)
        self._secrets_rows(form)
        self._provider = self._base.provider  # the preset the fields are laid out for
        self._connect()
        self.steady_labels()

    def _warning_row(self) -> QWidget:
        """The dialect warning, with the button that fixes it when the form knows the fix."""
        self.warning = Note("Dialect warning")
        self.fix_button = QPushButton("Fix the dialect")  # its caption names the fix when shown
        self.fix_button.setToolTip("The change the warning beside asks for.")
        self.fix_button.clicked.connect(self._apply_fix)
        self._fix: DialectFix | None = None
        self.warning_row = QWidget()
        row = QHBoxLayout(self.warning_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.warning, 1)
        row.addWidget(self.fix_button, 0, Qt.AlignmentFlag.AlignTop)
        return self.warning_row

    def _apply_fix(self) -> None:
        fix = self._fix
        if fix is None:
            return
        if fix.model is not None:
            self.model.setCurrentText(fix.model)
        self.api_buttons[fix.api].setChecked(True)  # → _changed: the warning goes
        self.api_buttons[fix.api].setFocus(Qt.FocusReason.OtherFocusReason)

    def steady_labels(self) -> None:
        """The label column as wide as its widest label, shown or not (and the base URL's other
        wording): a preset's or dialect's rows coming and going never shift the fields."""
        form = self.layout_
        labels = [
            label
            for row in range(form.rowCount())
            if isinstance(
                label := _widget(form.itemAt(row, QFormLayout.ItemRole.LabelRole)), QLabel
            )
        ]
        probe = QLabel()  # measures each wording as a label draws it
        probe.setFont(self.font())
        widest = 0
        for text in [label.text() for label in labels] + [RESOURCE_LABEL]:
            probe.setText(text)
            widest = max(widest, probe.sizeHint().width())
        probe.deleteLater()
        for label in labels:
            label.setMinimumWidth(widest)

    def _secrets_rows(self, form: QFormLayout) -> None:
        """Where this profile's secrets may go: each a deliberate choice, off by default."""
        self.key_warning = Note("Key warning")
        form.addRow("", self.key_warning)
        self.share_openai_key = QCheckBox("Let this server have my OpenAI &key")
        self.share_openai_key.setToolTip(
            "For a server that is not OpenAI's: use the OpenAI key "
            "(the 'openai' keyring entry, or OPENAI_API_KEY) with it."
        )
        form.addRow("Secrets:", self.share_openai_key)
        self.send_mcp = QCheckBox("Send my MCP servers and their auth headers to this server")
        self.send_mcp.setToolTip(
            "OpenAI and Azure OpenAI call MCP servers themselves and always "
            "get them; any other server only when this is on."
        )
        form.addRow("", self.send_mcp)
        self.system_proxy = QCheckBox("Use the system's proxy for wss:// (https_proxy …)")
        self.system_proxy.setToolTip("ws:// and this computer never go through a proxy.")
        form.addRow("", self.system_proxy)
        for box in (self.share_openai_key, self.send_mcp, self.system_proxy):
            box.toggled.connect(self._changed)

    def _dialect_row(self) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        self.api = QButtonGroup(row)
        self.api_buttons: dict[ApiSetting, QRadioButton] = {}
        for text, value in DIALECTS:
            button = QRadioButton(text)
            button.setToolTip(DIALECT_MEANINGS[value])
            self.api.addButton(button)
            self.api_buttons[value] = button
            box.addWidget(button)
        self.resolved = QLabel()
        self.resolved.setAccessibleName("Resolved dialect")
        # A chip in the palette's own colours: readable in light and dark themes alike.
        self.resolved.setAutoFillBackground(True)
        self.resolved.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.resolved.setForegroundRole(QPalette.ColorRole.Text)
        self.resolved.setMargin(6)
        self.resolved.setWordWrap(True)  # in a narrow window it wraps rather than being cut
        box.addSpacing(12)
        box.addWidget(self.resolved, 1)
        return row

    def _turn_parameters(self) -> QWidget:
        self.turn_pages = QStackedWidget()
        self.turn_pages.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        server = QWidget()
        row = QHBoxLayout(server)
        row.setContentsMargins(0, 0, 0, 0)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setToolTip("Higher: only louder speech counts (for noisy rooms).")
        self.prefix = QSpinBox()
        self.prefix.setRange(0, 2000)
        self.prefix.setSingleStep(50)
        self.prefix.setSuffix(" ms")
        self.prefix.setToolTip("Audio kept from before speech started.")
        self.silence = QSpinBox()
        self.silence.setRange(100, 5000)
        self.silence.setSingleStep(50)
        self.silence.setSuffix(" ms")
        self.silence.setToolTip("How long a pause ends your turn.")
        for text, widget in (
            ("Thres&hold", self.threshold),
            ("Prefi&x padding", self.prefix),
            ("Si&lence", self.silence),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            row.addWidget(label)
            row.addWidget(widget)
        row.addStretch(1)
        semantic = QWidget()
        row = QHBoxLayout(semantic)
        row.setContentsMargins(0, 0, 0, 0)
        self.eagerness = QComboBox()
        self.eagerness.addItems(EAGERNESS)
        self.eagerness.setToolTip(
            "How soon the service answers: high answers sooner, low lets you pause longer."
        )
        label = QLabel("&Eagerness")
        label.setBuddy(self.eagerness)
        row.addWidget(label)
        row.addWidget(self.eagerness)
        row.addStretch(1)
        manual = QLabel(
            "You hold the talk key (or TalkApp's own voice detection decides) to end a turn."
        )
        manual.setWordWrap(True)
        for page in (server, semantic, manual):
            page.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
            self.turn_pages.addWidget(page)
        return self.turn_pages

    def _connect(self) -> None:
        for signal in (
            self.name.textEdited,
            self.base_url.textEdited,
            self.deployment.textEdited,
            self.api_version.currentTextChanged,
            self.model.currentTextChanged,
            self.voice.currentTextChanged,
            self.instructions.textChanged,
            self.transcription.currentTextChanged,
            self.reasoning.currentIndexChanged,
            self.threshold.valueChanged,
            self.prefix.valueChanged,
            self.silence.valueChanged,
            self.eagerness.currentIndexChanged,
            self.sign_in.currentIndexChanged,
        ):
            signal.connect(self._changed)
        self.provider.currentIndexChanged.connect(self._provider_changed)
        self.api.buttonToggled.connect(self._api_toggled)
        self.turn.currentIndexChanged.connect(self._turn_changed)

    # ---- in and out ----

    def show_profile(self, profile: ProviderProfile) -> None:
        self._filling = True
        try:
            self._base = profile
            builtin = is_builtin(profile)
            self.name.setText(profile.name)
            self.name.setReadOnly(builtin)
            self.name.setToolTip("The built-in offline profile keeps its name." if builtin else "")
            self.provider.setCurrentIndex(max(0, self.provider.findData(profile.provider)))
            self.provider.setEnabled(not builtin)
            self._provider = profile.provider
            self.base_url.setText(profile.base_url)
            self.deployment.setText(profile.deployment)
            self.api_version.setCurrentText(profile.api_version or AZURE_API_VERSIONS[0])
            self.sign_in.setCurrentIndex(max(0, self.sign_in.findData(profile.sign_in)))
            self._offer_models(profile.provider)
            self.model.setCurrentText(profile.model)
            self.api_buttons.get(profile.api, self.api_buttons["auto"]).setChecked(True)
            s = profile.session
            self.instructions.setPlainText(s.instructions or "")
            turn = s.turn_detection
            self.turn.setCurrentIndex(self.turn.findData(turn.kind if turn else None))
            defaults = turn or TurnDetection()
            self.threshold.setValue(defaults.threshold)
            self.prefix.setValue(defaults.prefix_padding_ms)
            self.silence.setValue(defaults.silence_duration_ms)
            self.eagerness.setCurrentText(defaults.eagerness)
            self.transcription.setCurrentText(s.transcription_model or TRANSCRIPTION_OFF)
            self.reasoning.setCurrentIndex(max(0, self.reasoning.findData(s.reasoning_effort)))
            self.share_openai_key.setChecked(profile.share_openai_key)
            self.send_mcp.setChecked(profile.send_mcp_servers)
            self.system_proxy.setChecked(profile.system_proxy)
            self._refresh_voices(s.voice or "")
            self._refresh()
        finally:
            self._filling = False

    def profile(self) -> ProviderProfile:
        base = self._base
        provider = self.provider.currentData()
        transcription = self.transcription.currentText().strip()
        session = dataclasses.replace(
            base.session,
            instructions=self.instructions.toPlainText().strip() or None,
            voice=self.voice.currentText().strip() or None,
            turn_detection=self._turn_detection(),
            transcription_model=None if transcription in ("", TRANSCRIPTION_OFF) else transcription,
            reasoning_effort=self.reasoning.currentData(),
        )
        version = self.api_version.currentText().strip()
        return dataclasses.replace(
            base,
            name=self.name.text().strip(),
            provider=provider,
            base_url="" if provider == "simulator" else self.base_url.text().strip(),
            api=self._api(),
            model=self.model.currentText().strip(),
            session=session,
            deployment=self.deployment.text().strip(),
            sign_in=self.sign_in.currentData() if provider in AZURE_PROVIDERS else "key",
            # the default is stored as "" so a newer TalkApp's newer default applies
            api_version="" if version == AZURE_API_VERSIONS[0] else version,
            share_openai_key=self.share_openai_key.isChecked(),
            send_mcp_servers=self.send_mcp.isChecked(),
            system_proxy=self.system_proxy.isChecked(),
        )

    def rebase(self, profile: ProviderProfile) -> None:
        """Keep what the fields do not show (the key entry, tools…) from `profile` from now on."""
        self._base = profile

    def focus_field(self, field: str) -> None:
        widget = {
            "name": self.name,
            "base_url": self.base_url,
            "model": self.model,
            "deployment": self.deployment,
            "api_version": self.api_version,
        }.get(field, self.name)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(widget, QLineEdit):
            widget.selectAll()

    # ---- reactions ----

    def _api(self) -> ApiSetting:
        return next((v for v, b in self.api_buttons.items() if b.isChecked()), "auto")

    def _turn_detection(self) -> TurnDetection | None:
        kind = self.turn.currentData()
        if kind is None:
            return None
        previous = self._base.session.turn_detection or TurnDetection()
        return dataclasses.replace(
            previous,
            kind=kind,
            threshold=round(self.threshold.value(), 2),
            prefix_padding_ms=self.prefix.value(),
            silence_duration_ms=self.silence.value(),
            eagerness=self._eagerness(),
        )

    def _eagerness(self) -> Eagerness:
        text = self.eagerness.currentText()
        return next((value for value in EAGERNESS if value == text), "auto")

    def _api_toggled(self, _button, checked: bool) -> None:
        # Qt hands the group's Tab stop to the button it turned off last, not to the one now
        # checked: Tab must land on the chosen dialect (arrows move between them).
        QTimer.singleShot(0, self._tab_to_checked_dialect)
        if checked:  # the button turned off says nothing new
            self._changed()

    def _tab_to_checked_dialect(self) -> None:
        for button in self.api_buttons.values():
            tab = Qt.FocusPolicy.StrongFocus if button.isChecked() else Qt.FocusPolicy.ClickFocus
            button.setFocusPolicy(tab)

    def _provider_changed(self) -> None:
        provider = self.provider.currentData()
        if not self._filling:
            self._adapt_to(self._provider, provider)
        self._provider = provider
        self._changed()

    def _adapt_to(self, old: str, new: str) -> None:
        """Fields that held the old preset's defaults (or its kind of address) take the new one's;
        what the user typed for this kind of provider stays."""
        before, after = preset_for(old), preset_for(new)
        url = self.base_url.text().strip()
        defaults = {p.base_url for p in PRESETS.values()}
        if not url or url in defaults or shows_resource(old) != shows_resource(new):
            self.base_url.setText(after.base_url)
        model = self.model.currentText().strip()
        keep = (
            model
            if model and (model in after.models or model not in before.models)
            else after.default_model
        )
        self._offer_models(new)
        self.model.setCurrentText(keep)

    def _offer_models(self, provider: str) -> None:
        models = preset_for(provider).models
        if [self.model.itemText(i) for i in range(self.model.count())] != list(models):
            blocked = self.model.blockSignals(True)
            text = self.model.currentText()
            self.model.clear()
            self.model.addItems(models)
            self.model.setCurrentText(text)
            self.model.blockSignals(blocked)

    def _turn_changed(self) -> None:
        self._show_turn_page()
        self._changed()

    def _show_turn_page(self) -> None:
        """Only the shown page counts for the height (a stack is as tall as its tallest page)."""
        self.turn_pages.setCurrentIndex(self.turn.currentIndex())
        for i in range(self.turn_pages.count()):
            policy = (
                QSizePolicy.Policy.Preferred
                if i == self.turn_pages.currentIndex()
                else QSizePolicy.Policy.Ignored
            )
            page = present(self.turn_pages.widget(i), "turn page")
            page.setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.turn_pages.adjustSize()

    def _changed(self) -> None:
        if self._filling:
            return
        self._refresh_voices(self.voice.currentText())
        self._refresh()
        self.edited.emit()

    def _refresh(self) -> None:
        provider = self.provider.currentData()
        preset = preset_for(provider)
        simulator = provider == "simulator"
        self._lay_out_address(provider)
        self.base_url.setEnabled(not simulator)
        if simulator:
            self.base_url.clear()
        model = self.model.currentText()
        line = dialect_line(self._api(), model, self.base_url.text(), provider)
        self.resolved.setText(line.text)
        self.warning.setText(f"⚠ {line.warning}" if line.warning else "")
        self._fix = line.fix
        self.fix_button.setVisible(line.fix is not None)
        if line.fix is not None:
            self.fix_button.setText(line.fix.caption)
            self.fix_button.setToolTip(f"{line.fix.caption}: the change this warning asks for.")
        self.warning.setVisible(bool(line.warning))  # hidden itself too, not only its row
        self.layout_.setRowVisible(self.warning_row, bool(line.warning))
        self.connects.setText(connection_line(self.profile()))
        self.deployment.setPlaceholderText(
            f"same as the model ({model.strip()})" if model.strip() else ""
        )
        self.model.setToolTip(
            "The model the deployment runs: it decides reasoning and prices."
            if DEPLOYMENT in preset.fields
            else suggestions_note("model id")
        )
        self.voice.setToolTip(suggestions_note("voice id the service takes"))
        self.transcription.setToolTip(transcription_hint(provider))
        present(self.transcription.lineEdit(), "line edit").setPlaceholderText(
            "a transcription deployment's name" if provider in AZURE_PROVIDERS else ""
        )
        self._show_turn_page()
        note = reasoning_note(self._api(), model, provider)
        self.reasoning.setEnabled(not note)
        self.reasoning.setToolTip(
            note or "How much the model thinks before it answers (gpt-realtime-2 models)."
        )
        self.reasoning_note.setText(note)
        self.layout_.setRowVisible(self.reasoning_note, bool(note))
        self._refresh_secrets(provider)
        dropped = xai_note(self._api(), model, provider)
        self.transcription.setEnabled(not dropped)
        self.xai_note.setText(dropped)
        self.layout_.setRowVisible(self.xai_note, bool(dropped))

    def _refresh_secrets(self, provider: str) -> None:
        """The OpenAI key box where an OpenAI key could go astray (an OpenAI profile pointed
        elsewhere, a custom or Azure server and OPENAI_API_KEY), the MCP box where MCP servers
        would not go by default, and a warning while an OpenAI profile's key has nowhere to go."""
        try:
            shown = self.profile()
            profile = dataclasses.replace(shown, share_openai_key=False, send_mcp_servers=False)
            problem, mcp_by_default = profile.key_problem, profile.sends_mcp_servers
        except ValueError:
            problem, mcp_by_default = None, True
        shares = provider in ("custom", "azure", "azure_preview") or bool(problem)
        self.layout_.setRowVisible(self.share_openai_key, shares)
        self.layout_.setRowVisible(self.send_mcp, provider != "simulator" and not mcp_by_default)
        self.layout_.setRowVisible(self.system_proxy, provider != "simulator")
        warn = bool(problem) and not self.share_openai_key.isChecked()
        self.key_warning.setText(f"⚠ {problem}" if warn else "")
        self.layout_.setRowVisible(self.key_warning, warn)

    def _lay_out_address(self, provider: str) -> None:
        """The address rows the preset needs, and what the base URL field means for it."""
        fields = preset_for(provider).fields
        resource = shows_resource(provider)
        label = form_label(self.layout_, self.base_url)
        label.setText(RESOURCE_LABEL if resource else "Base &URL:")
        label.setBuddy(self.base_url)
        placeholder = (
            "started on this computer when needed"
            if provider == "simulator"
            else AZURE_EXAMPLE
            if resource
            else preset_for(provider).base_url or "https://my-server.example/v1"
        )
        self.base_url.setPlaceholderText(placeholder)
        self.layout_.setRowVisible(self.deployment, DEPLOYMENT in fields)
        self.layout_.setRowVisible(self.api_version, API_VERSION in fields)
        azure = provider in AZURE_PROVIDERS
        self.layout_.setRowVisible(self.sign_in, azure)
        note = sign_in_note(self.sign_in.currentData()) if azure else ""
        self.sign_in_note.setText(note)
        self.layout_.setRowVisible(self.sign_in_note, bool(note))

    def _refresh_voices(self, keep: str) -> None:
        voices = voices_for(self._api(), self.model.currentText(), self.provider.currentData())
        current = [self.voice.itemText(i) for i in range(self.voice.count())]
        if current != ["", *voices]:
            blocked = self.voice.blockSignals(True)
            self.voice.clear()
            self.voice.addItems(("", *voices))
            self.voice.setCurrentText(keep)
            self.voice.blockSignals(blocked)
