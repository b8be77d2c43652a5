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
CLI_NAME = "talkapp-cli"  # Windows: the console build of the same program, beside TalkApp.exe
# The oldest macOS the bundle runs on: the newest minimum among the wheels the workflow installs
# (numpy's macOS 14 Accelerate builds, PySide6's 13). Without the key an older Mac starts the
# app, which bounces in the Dock and quits with no message; with it, Finder says why.
# build.py refuses a macOS build whose wheels need more (`wheel_macos_minimum`).
MACOS_MINIMUM = "14.0"
WINDOWS_MINIMUM = "Windows 10 (1809) or 11, 64-bit"  # Qt 6's own floor; for the README

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
        "LSMinimumSystemVersion": MACOS_MINIMUM,
        "LSApplicationCategoryType": "public.app-category.productivity",
        "NSHumanReadableCopyright": "MIT License",
    }


def macos_minimum_of(tags: list[str]) -> tuple[int, int] | None:
    """The macOS version a wheel needs, from its tags (`cp311-cp311-macosx_14_0_arm64` is
    14.0); None for a wheel that is not macOS-only (pure Python, other systems)."""
    found = []
    for tag in tags:
        platform_tag = tag.rsplit("-", 1)[-1]
        for one in platform_tag.split("."):
            parts = one.split("_")
            if parts[0] == "macosx" and len(parts) >= 3 and parts[1].isdigit():
                found.append((int(parts[1]), int(parts[2]) if parts[2].isdigit() else 0))
    return min(found) if found else None  # a wheel tagged for several: the oldest it allows


def wheel_macos_minimum(wheels: dict[str, list[str]]) -> tuple[tuple[int, int], str] | None:
    """The newest minimum among installed wheels (distribution -> its WHEEL `Tag:` lines), and
    which distribution needs it; None when no wheel is macOS-specific."""
    needs = [(v, name) for name, tags in wheels.items() if (v := macos_minimum_of(tags))]
    return max(needs) if needs else None


def installed_wheel_tags() -> dict[str, list[str]]:
    """Every installed distribution's wheel tags, from its WHEEL file."""
    from importlib.metadata import distributions

    tags: dict[str, list[str]] = {}
    for dist in distributions():
        text = dist.read_text("WHEEL") or ""
        found = [
            line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")
        ]
        if found:
            tags[dist.metadata["Name"] or "?"] = found
    return tags


def check_macos_minimum(declared: str, wheels: dict[str, list[str]]) -> str | None:
    """Why `declared` (LSMinimumSystemVersion) is too old for these wheels, or None."""
    need = wheel_macos_minimum(wheels)
    have = tuple(int(p) for p in declared.split("."))
    if need is None or have >= need[0]:
        return None
    (major, minor), name = need
    return (
        f"LSMinimumSystemVersion is {declared}, but the installed {name} wheel needs macOS "
        f"{major}.{minor}: raise bundle.MACOS_MINIMUM"
    )


def plist_problems(plist: dict) -> list[str]:
    """What is wrong with a built app's Info.plist for macOS (empty: nothing)."""
    problems = []
    if plist.get("LSMinimumSystemVersion") != MACOS_MINIMUM:
        problems.append(
            f"LSMinimumSystemVersion is {plist.get('LSMinimumSystemVersion')!r}, "
            f"not {MACOS_MINIMUM!r}"
        )
    if not plist.get("NSMicrophoneUsageDescription"):
        problems.append("no NSMicrophoneUsageDescription: macOS would give silence, not sound")
    if plist.get("CFBundleIdentifier") != BUNDLE_ID:
        problems.append(f"CFBundleIdentifier is {plist.get('CFBundleIdentifier')!r}")
    return problems


def self_test_verdict(output: str) -> str | None:
    """None when a self-test's output ends with every check ok, else what it said instead."""
    lines = [line for line in output.splitlines() if line.startswith("self-test:")]
    if lines and "checks ok" in lines[-1]:
        return None
    return lines[-1] if lines else "no self-test verdict in its output"


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
