"""The profile form holds still (real settings pane, offscreen): changing the dialect or the
provider shows or hides the rows it must, and nothing else moves — no field changes its place
or width, no scroll bar comes and goes to cut the fields' right edge, and every note is exactly
as tall as its text (no blank gap under the beta warning, no cut-off line)."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QWidget
from pytestqt.exceptions import TimeoutError

from talkapp.settings.model import Settings
from talkapp.settings.profile import ProviderProfile
from talkapp.ui.settings.dialog import SettingsDialog
from talkapp.ui.settings.note import Note

CHOICES = [("dialect", d) for d in ("beta", "ga", "xai", "auto", "beta")] + [
    ("provider", p) for p in ("xai", "azure_preview", "custom", "openai")
]


@pytest.fixture
def form(qtbot):
    settings = Settings().with_profile(
        ProviderProfile(name="OpenAI", model="gpt-realtime", key_name="layout-test")
    )
    dialog = SettingsDialog(settings, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.profiles.list.setCurrentRow(1)
    return dialog.profiles


def fields(page) -> list[QWidget]:
    kinds = (QComboBox, QLineEdit, QPlainTextEdit)
    return [w for w in page.form.findChildren(QWidget) if isinstance(w, kinds) and w.isVisible()]


def choose(page, what: str, value: str) -> None:
    form = page.form
    if what == "dialect":
        form.api_buttons[value].click()
    else:
        form.provider.setCurrentIndex(form.provider.findData(value))


def steady_fields(page) -> list[QWidget]:
    """The form's full-width fields (the key box's own field narrows as its buttons change)."""
    f = page.form
    return [f.name, f.base_url, f.deployment, f.model, f.voice, f.instructions, f.transcription]


def placed(page, columns: set, width: int) -> list[str]:
    """What is out of place in the form, once its layout has run ([]: nothing)."""
    viewport = page.form_scroll.viewport()
    wrong = []
    for field in fields(page):
        left = field.mapTo(viewport, QPoint(0, 0)).x()
        if left + field.width() > width:
            wrong.append(f"{field} cut at the right edge")
        steady = field in steady_fields(page)
        if steady and (left, field.width()) not in columns:
            wrong.append(f"{field} moved to x={left}, width {field.width()}")
    for note in page.form.findChildren(Note):
        if note.isVisible() and not note.height() == note.text_height() > 0:
            wrong.append(f"note {note.text()!r}: {note.height()} px for {note.text_height()}")
    return wrong


def test_the_profile_form_holds_still_as_the_dialect_and_provider_change(qtbot, form):
    viewport = form.form_scroll.viewport()
    width = viewport.width()
    name_at = form.form.name.mapTo(viewport, QPoint(0, 0))
    columns = {(w.mapTo(viewport, QPoint(0, 0)).x(), w.width()) for w in fields(form)}
    saw_beta_warning = False
    for what, value in CHOICES:
        choose(form, what, value)
        # the layout runs on the next turns of the event loop: wait until it has
        try:
            qtbot.waitUntil(lambda: not placed(form, columns, width), timeout=5000)
        except TimeoutError:
            raise AssertionError((what, value, columns, placed(form, columns, width))) from None
        assert viewport.width() == width, (what, value)  # no scroll bar came or went
        assert form.form.name.mapTo(viewport, QPoint(0, 0)) == name_at  # rows above stay put
        warning = form.form.warning
        saw_beta_warning |= warning.isVisible() and "beta" in warning.text()
    assert saw_beta_warning


@pytest.mark.parametrize(
    ("dialect", "model"),
    [("beta", "gpt-realtime"), ("xai", "gpt-realtime"), ("auto", "gpt-4o-realtime-preview")],
)
def test_a_dialect_warning_offers_its_fix_in_one_click(qtbot, form, dialect, model):
    fields = form.form
    fields.model.setCurrentText(model)
    qtbot.mouseClick(fields.api_buttons[dialect], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(fields.warning.isVisible, timeout=5000)
    assert fields.fix_button.isVisible() and fields.fix_button.text() == "Switch to GA"
    qtbot.mouseClick(fields.fix_button, Qt.MouseButton.LeftButton)
    assert fields.api_buttons["ga"].isChecked() and fields.profile().api == "ga"
    assert not fields.warning.isVisible() and not fields.warning_row.isVisible()


def test_the_fix_is_the_one_the_warning_asks_for(qtbot, form):
    """Azure's preview protocol speaks beta only: from xAI's dialect the fix is Auto, not GA."""
    fields = form.form
    fields.provider.setCurrentIndex(fields.provider.findData("azure_preview"))
    fields.base_url.setText("my-resource")
    qtbot.mouseClick(fields.api_buttons["xai"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(fields.warning.isVisible, timeout=5000)
    assert "choose Beta or Auto" in fields.warning.text()
    assert fields.fix_button.text() == "Switch to Auto"
    qtbot.mouseClick(fields.fix_button, Qt.MouseButton.LeftButton)
    assert fields.profile().api == "auto" and not fields.warning_row.isVisible()
