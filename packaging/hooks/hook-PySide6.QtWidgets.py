# TalkApp's override of PyInstaller's own hook (local hooks win): the same collection, less the
# Qt plugins and translations the app does not use (packaging/bundle.py, QT_PLUGINS), dropped
# here -- before PyInstaller analyses their library dependencies, so none of those come along.
import importlib.util
import pathlib

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

_spec = importlib.util.spec_from_file_location(
    "talkapp_bundle", pathlib.Path(__file__).resolve().parents[1] / "bundle.py"
)
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [
    (src, dest) for src, dest in binaries if bundle.qt_file_kept(f"{dest}/{pathlib.Path(src).name}")
]
datas = [
    (src, dest) for src, dest in datas if bundle.qt_file_kept(f"{dest}/{pathlib.Path(src).name}")
]
