"""Narrowing what PySide6's stubs declare Optional (or too wide) where Qt guarantees more.

Each helper fails loudly, naming what was missing, rather than letting a None travel on: it is
only used where the widget was built so that the object must be there (an editable combo box's
line edit, a cell this code filled, a form row added with a text label).
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

T = TypeVar("T")


def present(value: T | None, what: str) -> T:
    """`value`, which Qt guarantees here; `what` names it should it be missing after all."""
    if value is None:
        raise RuntimeError(f"Qt returned no {what}")
    return value


def form_label(form: QFormLayout, field: QWidget) -> QLabel:
    """The label of `field`'s row (a row added with a text label, which Qt makes a QLabel)."""
    label = form.labelForField(field)
    if not isinstance(label, QLabel):
        raise TypeError(f"the form row of {field!r} has no text label")
    return label
