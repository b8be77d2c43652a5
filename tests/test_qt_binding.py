"""The Qt binding must not corrupt the interpreter: PySide6-Essentials 6.12.0 on Python 3.11
returned None from void methods and True from `Signal.emit` without a reference, and the app
aborted after a few hundred signals ("bool_dealloc: deallocating True or False"). pyproject
pins it away; this keeps the pin honest."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    fired = Signal(object)


def test_signals_and_void_calls_keep_refcounts(qapp):
    label, emitter = QLabel(), _Emitter()
    emitter.fired.connect(label.setText)
    none, true = sys.getrefcount(None), sys.getrefcount(True)
    for n in range(2000):
        label.setText(str(n))
        emitter.fired.emit("x")
    assert sys.getrefcount(None) - none >= -5 and sys.getrefcount(True) - true >= -5
