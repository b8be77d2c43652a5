"""The profile form holds still (real settings pane, offscreen): changing the dialect or the
provider shows or hides the rows it must, and nothing else moves — no field changes its place
or width, no scroll bar comes and goes to cut the fields' right edge, and every note is exactly
as tall as its text (no blank gap under the beta warning, no cut-off line)."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QWidget

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


def choose(qtbot, page, what: str, value: str) -> None:
    form = page.form
    if what == "dialect":
        qtbot.mouseClick(form.api_buttons[value], Qt.MouseButton.LeftButton)
    else:
        form.provider.setCurrentIndex(form.provider.findData(value))
    notes = [n for n in form.findChildren(Note) if n.isVisible()]
    qtbot.waitUntil(lambda: all(n.height() == n.text_height() for n in notes), timeout=5000)


def test_the_profile_form_holds_still_as_the_dialect_and_provider_change(qtbot, form):
    viewport = form.scroll.viewport()
    width = viewport.width()
    name_at = form.form.name.mapTo(viewport, QPoint(0, 0))
    columns = {(w.mapTo(viewport, QPoint(0, 0)).x(), w.width()) for w in fields(form)}
    saw_beta_warning = False
    for what, value in CHOICES:
        choose(qtbot, form, what, value)
        assert viewport.width() == width, (what, value)  # no scroll bar came or went
        assert form.form.name.mapTo(viewport, QPoint(0, 0)) == name_at  # rows above stay put
        for field in fields(form):
            left = field.mapTo(viewport, QPoint(0, 0)).x()
            assert left + field.width() <= width, (what, value, field)  # nothing cut
            if isinstance(field, QLineEdit | QPlainTextEdit) or field is form.form.model:
                assert (left, field.width()) in columns, (what, value, field)
        for note in form.form.findChildren(Note):
            if note.isVisible():  # as tall as its text: no gap under it, no line cut
                assert note.height() == note.text_height() > 0, (what, value, note.text())
        warning = form.form.warning
        saw_beta_warning |= warning.isVisible() and "beta" in warning.text()
    assert saw_beta_warning
