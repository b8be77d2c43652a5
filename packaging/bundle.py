"""What goes into the TalkApp bundle, in one place: read by talkapp.spec, the local PyInstaller
hooks, build.py and tests/test_packaging.py. Plain Python (no PyInstaller import), loaded by
path: this folder is deliberately not a Python package (a `packaging` package would shadow
PyPI's `packaging`, which pip and PyInstaller import).
"""

from __future__ import annotations

import fnmatch
import platform
import sys
import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
ASSETS = ROOT / "assets"

APP_NAME = "TalkApp"
BUNDLE_ID = (
    "org.talkapp.TalkApp"  # macOS CFBundleIdentifier; keychain and microphone grants hang on it
)
MICROPHONE_USE = "TalkApp listens to your microphone while you talk to the voice model."
TARGETS = ("linux", "macos", "windows")

# ---- Qt: only what the app uses ----

# The PySide6 modules talkapp imports (tests/test_packaging.py checks this against the source).
QT_MODULES = ("QtCore", "QtGui", "QtWidgets")
# Every other module PySide6-Essentials ships: never bundled, whatever a hook asks for.
QT_UNUSED = (
    "QtConcurrent",
    "QtDBus",
    "QtDesigner",
    "QtHelp",
    "QtNetwork",
    "QtOpenGL",
    "QtOpenGLWidgets",
    "QtPrintSupport",
    "QtQml",
    "QtQuick",
    "QtQuickControls2",
    "QtQuickTest",
    "QtQuickWidgets",
    "QtSql",
    "QtSvg",
    "QtSvgWidgets",
    "QtTest",
    "QtUiTools",
    "QtXml",
)
# Qt plugins by type: the plugin file names (no lib prefix, no extension) to keep, as fnmatch
# patterns. A type not listed is not bundled at all. The svg plugins render the window icon;
# PNG support is built into QtGui.
QT_PLUGINS = {
    "platforms": ("qxcb", "qwayland*", "qoffscreen", "qminimal", "qcocoa", "qwindows", "qdirect2d"),
    "platforms/darwin": ("*",),
    # Not qgtk3: it drags GTK 3 and its stack (~20 MB) from the build machine into the bundle,
    # where it would meet the user's GTK themes and modules. Qt then uses the portal theme or
    # its own (Fusion style, Qt's own file dialog).
    "platformthemes": ("qxdgdesktopportal",),
    "platforminputcontexts": (
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    ),
    "styles": ("*",),  # qmacstyle, qmodernwindowsstyle: the native look
    "iconengines": ("qsvgicon",),
    "imageformats": ("qsvg",),
    "xcbglintegrations": ("*",),
    "wayland-shell-integration": ("xdg-shell",),
    "wayland-decoration-client": ("*",),
    "wayland-graphics-integration-client": ("qt-plugin-wayland-egl",),
    "accessiblebridge": ("*",),
}
# Not listed, so dropped: egldeviceintegrations and generic (eglfs/linuxfb: kiosk devices),
# virtual keyboard (Qt Quick), imageformats other than svg (QtPdf alone is ~10 MB), translations
# (the app is English only and installs no QTranslator).

# Files PySide6 brings that a widgets-only app never loads (Windows: the 20 MB software OpenGL).
QT_DROPPED_FILES = ("opengl32sw.dll",)

PYTHON_EXCLUDES = (
    *(f"PySide6.{name}" for name in QT_UNUSED),
    "tkinter",
    "IPython",  # livekit.rtc.jupyter imports IPython, for notebooks only
    "pydantic",
    "pydantic_core",  # livekit.rtc's optional pydantic schema hook; 5 MB
    "pkg_resources",  # webrtcvad falls back to it only before Python 3.8
    "PIL",
    "matplotlib",
    "openai",
    "pytest",
    "hypothesis",  # present in dev venvs, never imported
)


def qt_file_kept(dest: str) -> bool:
    """Keep this collected file? `dest` is its path inside the bundle, e.g.
    `PySide6/Qt/plugins/platforms/libqxcb.so` (Linux, macOS) or `PySide6/plugins/...` (Windows).
    Qt translations and unlisted plugins go; everything else stays."""
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    if parts[:1] != ("PySide6",):
        return True
    if parts[-1].lower() in QT_DROPPED_FILES:
        return False
    rest = parts[2:] if parts[1:2] == ("Qt",) else parts[1:]
    if len(rest) < 2:
        return True
    if rest[0] == "translations":
        return False
    if rest[0] != "plugins":
        return True
    kind, stem = "/".join(rest[1:-1]), rest[-1].split(".")[0].removeprefix("lib")
    return any(fnmatch.fnmatch(stem, pattern) for pattern in QT_PLUGINS.get(kind, ()))


# ---- names, versions, places ----


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["version"]


def host_target() -> str:
    return {"darwin": "macos", "win32": "windows"}.get(sys.platform, "linux")


def arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def executable_name(target: str) -> str:
    return "talkapp" if target == "linux" else APP_NAME


def bundle_path(dist: Path, target: str) -> Path:
    """What the build produces: the folder (Linux, Windows) or the .app (macOS)."""
    return dist / (f"{APP_NAME}.app" if target == "macos" else executable_name(target))


def frozen_executable(dist: Path, target: str) -> Path:
    bundle = bundle_path(dist, target)
    if target == "macos":
        return bundle / "Contents" / "MacOS" / APP_NAME
    return bundle / (executable_name(target) + (".exe" if target == "windows" else ""))


def icon_for(target: str) -> Path | None:
    return {"macos": ASSETS / "icon.icns", "windows": ASSETS / "icon.ico"}.get(target)


def info_plist(version_text: str) -> dict:
    """Info.plist keys beyond PyInstaller's own (name, identifier, executable, icon, version)."""
    return {
        "CFBundleShortVersionString": version_text,
        "CFBundleVersion": version_text,
        # without it macOS silently gives no microphone
        "NSMicrophoneUsageDescription": MICROPHONE_USE,
        "NSHighResolutionCapable": True,
        "LSApplicationCategoryType": "public.app-category.productivity",
        "NSHumanReadableCopyright": "MIT License",
    }


def windows_version_info(version_text: str) -> str:
    """A PyInstaller version-resource file (the Details tab of TalkApp.exe's properties)."""
    numbers = [
        int("".join(c for c in part if c.isdigit()) or 0) for part in version_text.split(".")[:4]
    ]
    numbers += [0] * (4 - len(numbers))
    fixed = tuple(numbers)
    strings = {
        "CompanyName": "TalkApp",
        "FileDescription": "TalkApp: talk to realtime voice models",
        "FileVersion": version_text,
        "InternalName": APP_NAME,
        "LegalCopyright": "MIT License",
        "OriginalFilename": f"{APP_NAME}.exe",
        "ProductName": APP_NAME,
        "ProductVersion": version_text,
    }
    entries = ",\n          ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""# UTF-8
# Generated by packaging/bundle.py from pyproject.toml's version; do not edit.
VSVersionInfo(
  ffi=FixedFileInfo(filevers={fixed}, prodvers={fixed}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
          {entries}])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""
