# TalkApp's override of PyInstaller's hook-PySide6.py (local hooks win): the same, less the
# extra Windows DLLs a widgets-only app does not load (packaging/bundle.py, QT_DROPPED_FILES).
import importlib.util
import pathlib

from PyInstaller.utils.hooks import check_requirement
from PyInstaller.utils.hooks.qt import ensure_single_qt_bindings_package, pyside6_library_info

_spec = importlib.util.spec_from_file_location(
    "talkapp_bundle", pathlib.Path(__file__).resolve().parents[1] / "bundle.py"
)
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)

ensure_single_qt_bindings_package("PySide6")

if pyside6_library_info.version is not None:
    hiddenimports = ["shiboken6", "inspect"]
    if check_requirement("PySide6 >= 6.4.0"):
        hiddenimports += ["PySide6.support.deprecated"]  # | and & on Qt enums
    binaries = [
        (src, dest)
        for src, dest in pyside6_library_info.collect_extra_binaries()
        if bundle.qt_file_kept(f"PySide6/{pathlib.Path(src).name}")
    ]
