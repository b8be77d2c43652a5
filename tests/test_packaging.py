"""The packaging pieces that run in the normal suite, fast: the self-test (in process), the
generated icons, what the bundle keeps and drops, the runtime hooks, and the metadata the
macOS and Windows builds carry. The frozen build itself runs in .ci/run (packaging/build.py
--self-test), not here: it takes 20 s and needs PyInstaller."""

from __future__ import annotations

import ast
import ctypes.util
import importlib.util
import os
import platform
import plistlib
import ssl
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from services import unavailable

from talkapp import selftest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"

pytestmark = pytest.mark.slow  # PyInstaller analysis and the frozen app


def load(path: Path, name: str):
    """A file from packaging/ as a module (the folder is not a package: it would shadow PyPI's
    `packaging`)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle = load(PACKAGING / "bundle.py", "talkapp_bundle")
icons = load(PACKAGING / "icons.py", "talkapp_icons")


# ---- the self-test ----


def test_self_test_passes_in_process(qapp):
    results = list(selftest.run_checks())
    assert [r.name for r in results] == [name for name, _ in selftest.CHECKS]
    failed = {r.name: r.detail for r in results if not r.ok}
    if set(failed) == {"portaudio"} and "PortAudio library" in failed["portaudio"]:
        unavailable(
            f"PortAudio is not installed here (apt install libportaudio2): {failed['portaudio']}"
        )
    assert not failed, "\n".join(r.line() for r in results)


def test_self_test_prints_one_line_per_check_and_fails_on_any_failure(monkeypatch, capsys):
    def broken() -> str:
        raise OSError("no such library\nsecond line")

    monkeypatch.setattr(selftest, "CHECKS", (("fine", lambda: "all good"), ("broken", broken)))
    assert selftest.main() == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("talkapp ") and "self-test" in lines[0]
    assert lines[1].startswith("ok   fine") and "all good" in lines[1]
    assert lines[2].startswith("FAIL broken") and "OSError: no such library second line" in lines[2]
    assert lines[3] == lines[-1] and "1 of 2 checks FAILED" in lines[3]

    monkeypatch.setattr(selftest, "CHECKS", (("fine", lambda: "all good"),))
    assert selftest.main() == 0
    assert "all 1 checks ok" in capsys.readouterr().out


def test_the_cli_has_self_test(monkeypatch):
    from talkapp import cli

    monkeypatch.setattr(selftest, "main", lambda: 7)
    assert cli.main(["--self-test"]) == 7


# ---- icons: one source, every size ----


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_png_icons_exist_at_every_size():
    for size in icons.PNG_SIZES:
        assert png_size(icons.png_path(size).read_bytes()) == (size, size), icons.png_path(size)
    assert {16, 32, 256, 1024} <= set(icons.PNG_SIZES)


def test_ico_holds_one_png_per_size():
    data = (bundle.ASSETS / "icon.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    sizes = []
    for i in range(count):
        width, height, _, _, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        image = data[offset : offset + length]
        assert png_size(image) == (width or 256, height or 256) and (planes, bits) == (1, 32)
        sizes.append(width or 256)
    assert sorted(sizes) == sorted(icons.ICO_SIZES) and 256 in sizes and 16 in sizes


def test_icns_holds_every_apple_size():
    data = (bundle.ASSETS / "icon.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    found, at = {}, 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        found[kind] = png_size(data[at + 8 : at + length])[0]
        at += length
    assert found == {kind: size for kind, size in icons.ICNS_TYPES}
    assert found[b"ic10"] == 1024 and found[b"icp4"] == 16


def test_committed_icons_match_the_svg(qapp):
    """Edited assets/icon.svg without running packaging/icons.py? This notices (a tolerance,
    not bytes: Qt versions antialias a little differently)."""
    from PySide6.QtGui import QImage

    def pixels(data: bytes) -> np.ndarray:
        image = QImage.fromData(data).convertToFormat(QImage.Format.Format_RGBA8888)
        return np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).astype(np.int16)

    for size in (32, 256):
        fresh = pixels(icons.render(icons.SOURCE, size))
        committed = pixels(icons.png_path(size).read_bytes())
        assert np.abs(fresh - committed).mean() < 2.0, (
            f"assets/icon-{size}.png is stale: run packaging/icons.py"
        )


# ---- what the bundle keeps ----


def talkapp_imports() -> dict[str, list[str]]:
    """Every module imported anywhere under talkapp/ (at any depth, as PyInstaller sees them),
    with where; `from PySide6 import QtGui` counts as `PySide6.QtGui`."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "talkapp").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + (
                    [f"PySide6.{a.name}" for a in node.names] if node.module == "PySide6" else []
                )
            for name in names:
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def pyside6_imports() -> dict[str, list[str]]:
    """Every PySide6 module imported anywhere under talkapp/, with where."""
    found: dict[str, list[str]] = {}
    for name, where in talkapp_imports().items():
        if name.startswith("PySide6."):
            found.setdefault(name.split(".")[1], []).extend(where)
    return found


def test_every_qt_module_the_app_imports_is_bundled():
    imported = pyside6_imports()
    assert {"QtCore", "QtGui", "QtWidgets"} <= set(imported)
    missing = {m: where for m, where in imported.items() if m not in bundle.QT_MODULES}
    assert not missing, f"talkapp imports Qt modules packaging/bundle.py does not bundle: {missing}"
    excluded = {m for m in imported if f"PySide6.{m}" in bundle.PYTHON_EXCLUDES}
    assert not excluded, f"packaging/bundle.py excludes Qt modules talkapp imports: {excluded}"


def test_the_bundle_excludes_nothing_the_app_imports():
    imported = talkapp_imports()
    clash = {
        name: where
        for name, where in imported.items()
        if any(name == ex or name.startswith(ex + ".") for ex in bundle.PYTHON_EXCLUDES)
    }
    assert not clash, f"packaging/bundle.py PYTHON_EXCLUDES drops modules talkapp imports: {clash}"


def test_every_installed_qt_module_is_either_bundled_or_excluded():
    import PySide6

    shipped = {
        p.name.split(".")[0]
        for p in Path(PySide6.__file__).parent.glob("Qt*.*")
        if p.suffix in (".so", ".pyd")
    }
    assert not set(bundle.QT_MODULES) & set(bundle.QT_UNUSED)
    unknown = shipped - set(bundle.QT_MODULES) - set(bundle.QT_UNUSED)
    assert not unknown, (
        f"PySide6 has modules packaging/bundle.py does not decide on: {sorted(unknown)}"
    )


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",  # --self-test on a machine with no display
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/plugins/styles/qmodernwindowsstyle.dll",
        "PySide6/Qt/plugins/styles/libqmacstyle.dylib",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",  # the window icon is an SVG
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "talkapp/data/hello.wav",
    ],
)
def test_bundle_keeps(dest):
    assert bundle.qt_file_kept(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/imageformats/libqpdf.so",
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
        "PySide6/Qt/plugins/egldeviceintegrations/libqeglfs-kms-integration.so",
        "PySide6/Qt/plugins/sqldrivers/libqsqlite.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/translations/qtbase_fr.qm",
        "PySide6/opengl32sw.dll",
    ],
)
def test_bundle_drops(dest):
    assert not bundle.qt_file_kept(dest)


# ---- runtime hooks ----


def run_hook(name: str, monkeypatch, meipass: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    load(PACKAGING / "hooks" / name, f"talkapp_{name[:-3]}")


def test_portaudio_hook_points_sounddevice_at_the_bundled_library(monkeypatch, tmp_path):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"/usr/lib/lib{name}.so")
    (tmp_path / "libportaudio.so.2").write_bytes(b"")
    run_hook("rthook_portaudio.py", monkeypatch, tmp_path)
    assert ctypes.util.find_library("portaudio") == str(tmp_path / "libportaudio.so.2")
    assert ctypes.util.find_library("asound") == "/usr/lib/libasound.so"


def _wheel_binaries(root: Path) -> Path:
    """The sounddevice wheel's PortAudio builds, all of them, as a bundle could hold them."""
    wheel = root / "_sounddevice_data" / "portaudio-binaries"
    wheel.mkdir(parents=True)
    for name in ("libportaudio.dylib", "libportaudio64bit.dll", "libportaudioarm64.dll",
                 "libportaudio32bit.dll"):  # fmt: skip
        (wheel / name).write_bytes(b"")
    return wheel


def test_portaudio_hook_finds_the_wheels_library(monkeypatch, tmp_path):
    monkeypatch.setattr(
        ctypes.util, "find_library", lambda name: "/opt/homebrew/lib/libportaudio.dylib"
    )
    wheel = _wheel_binaries(tmp_path)
    monkeypatch.setattr(sys, "platform", "darwin")  # the hook reads it as it runs
    run_hook("rthook_portaudio.py", monkeypatch, tmp_path)
    assert ctypes.util.find_library("portaudio") == str(wheel / "libportaudio.dylib")


@pytest.mark.parametrize(
    "machine, dll", [("AMD64", "libportaudio64bit.dll"), ("ARM64", "libportaudioarm64.dll")]
)
def test_portaudio_hook_on_windows_takes_its_own_dll_not_the_macos_library(
    monkeypatch, tmp_path, machine, dll
):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.delenv("SD_ENABLE_ASIO", raising=False)
    wheel = _wheel_binaries(tmp_path)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(platform, "machine", lambda: machine)
    run_hook("rthook_portaudio.py", monkeypatch, tmp_path)
    assert ctypes.util.find_library("portaudio") == str(wheel / dll)


def no_roots(*_):
    return ssl.DefaultVerifyPaths(
        None, None, "SSL_CERT_FILE", "/nowhere/cert.pem", "SSL_CERT_DIR", "/nowhere/certs"
    )


@pytest.fixture
def certifi_in_bundle(monkeypatch, tmp_path):
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.setenv(name, "")  # recorded, so whatever the hook sets is undone afterwards
        monkeypatch.delenv(name)
    (tmp_path / "certifi").mkdir()
    (tmp_path / "certifi" / "cacert.pem").write_text("")
    return tmp_path


def test_tls_hook_uses_certifi_when_the_system_has_no_roots(monkeypatch, certifi_in_bundle):
    monkeypatch.setattr(ssl, "get_default_verify_paths", no_roots)
    run_hook("rthook_tls.py", monkeypatch, certifi_in_bundle)
    assert os.environ["SSL_CERT_FILE"] == str(certifi_in_bundle / "certifi" / "cacert.pem")


def test_tls_hook_keeps_the_systems_roots_and_the_users_choice(
    monkeypatch, certifi_in_bundle, tmp_path_factory
):
    system = tmp_path_factory.mktemp("system") / "cert.pem"
    system.write_text("")
    monkeypatch.setattr(
        ssl, "get_default_verify_paths", lambda: no_roots()._replace(cafile=str(system))
    )
    run_hook("rthook_tls.py", monkeypatch, certifi_in_bundle)
    assert "SSL_CERT_FILE" not in os.environ

    monkeypatch.setattr(ssl, "get_default_verify_paths", no_roots)
    monkeypatch.setenv("SSL_CERT_DIR", "/etc/my-company/certs")
    run_hook("rthook_tls.py", monkeypatch, certifi_in_bundle)
    assert "SSL_CERT_FILE" not in os.environ


# ---- what the macOS and Windows builds carry (they cannot run here) ----


def test_macos_info_plist_and_entitlements():
    plist = bundle.info_plist(bundle.version())
    assert plist["NSMicrophoneUsageDescription"].strip()
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == bundle.version()
    assert bundle.BUNDLE_ID.count(".") >= 2
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.device.audio-input"] is True


def test_windows_version_resource_carries_pyproject_version():
    text = bundle.windows_version_info("1.2.3")
    compile(text, "version_info.txt", "eval")  # PyInstaller evaluates it
    assert "filevers=(1, 2, 3, 0)" in text and "StringStruct('ProductVersion', '1.2.3')" in text
    assert "filevers=(0, 1, 0, 0)" in bundle.windows_version_info("0.1.0")


def test_version_comes_from_pyproject():
    import talkapp

    assert bundle.version() == talkapp.__version__


def test_build_refuses_another_os():
    other = "windows" if bundle.host_target() != "windows" else "linux"
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "build.py"), "--target", other],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "does not cross-compile" in result.stderr


def test_the_declared_macos_minimum_covers_the_wheels_the_workflow_installs():
    wheels = {  # `Tag:` lines as the WHEEL files of the macOS runners' wheels carry them
        "numpy": ["cp311-cp311-macosx_14_0_arm64"],
        "PySide6-Essentials": ["cp39-abi3-macosx_13_0_universal2"],
        "webrtcvad-wheels": ["cp311-cp311-macosx_10_9_x86_64.macosx_11_0_arm64"],
        "websockets": ["py3-none-any"],
    }
    assert bundle.macos_minimum_of(wheels["webrtcvad-wheels"]) == (10, 9)
    assert bundle.macos_minimum_of(wheels["websockets"]) is None
    assert bundle.wheel_macos_minimum(wheels) == ((14, 0), "numpy")
    assert bundle.check_macos_minimum(bundle.MACOS_MINIMUM, wheels) is None
    assert bundle.check_macos_minimum("13.0", wheels) == (
        "LSMinimumSystemVersion is 13.0, but the installed numpy wheel needs macOS 14.0: "
        "raise bundle.MACOS_MINIMUM"
    )
    assert bundle.check_macos_minimum("13.0", {"websockets": ["py3-none-any"]}) is None
    # This machine's own wheels are read from their WHEEL files (Linux: none macOS-only).
    assert "numpy" in {name.lower() for name in bundle.installed_wheel_tags()}


def test_the_built_info_plist_is_checked_for_what_macos_needs():
    # As PyInstaller writes it: its own keys, then ours.
    written = {"CFBundleIdentifier": bundle.BUNDLE_ID, **bundle.info_plist(bundle.version())}
    built = plistlib.loads(plistlib.dumps(written))
    assert built["LSMinimumSystemVersion"] == bundle.MACOS_MINIMUM
    assert bundle.plist_problems(built) == []
    del built["NSMicrophoneUsageDescription"]
    built["LSMinimumSystemVersion"] = "10.13"
    assert bundle.plist_problems(built) == [
        f"LSMinimumSystemVersion is '10.13', not '{bundle.MACOS_MINIMUM}'",
        "no NSMicrophoneUsageDescription: macOS would give silence, not sound",
    ]


def test_a_self_test_launched_through_open_is_judged_by_its_last_verdict():
    assert bundle.self_test_verdict("ok   qt  …\nself-test: all 9 checks ok in 3.0 s\n") is None
    assert bundle.self_test_verdict("self-test: 1 of 9 checks FAILED in 3.0 s") == (
        "self-test: 1 of 9 checks FAILED in 3.0 s"
    )
    assert bundle.self_test_verdict("") == "no self-test verdict in its output"


def test_windows_bundles_a_console_build_beside_the_windowed_exe():
    spec = (PACKAGING / "talkapp.spec").read_text()
    tree = ast.parse(spec)
    consoles = [
        kw.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "EXE"
        for kw in node.keywords
        if kw.arg == "console"
    ]
    assert len(consoles) == 2  # TalkApp (windowed off Linux) and talkapp-cli (console)
    assert any(isinstance(v, ast.Constant) and v.value is True for v in consoles)
    assert "COLLECT(\n    *executables" in spec


def test_the_self_test_demands_the_native_keyring_and_wasapi_on_their_systems():
    assert selftest.keyring_problem("darwin", "keyring.backends.macOS") is None
    assert selftest.keyring_problem("win32", "keyring.backends.Windows") is None
    assert selftest.keyring_problem("win32", "keyring.backends.fail") == (
        "the keyring in use is keyring.backends.fail, not keyring.backends.Windows: "
        "no key could be stored"
    )
    assert selftest.keyring_problem("darwin", "keyring.backends.chainer") is not None
    assert selftest.keyring_problem("linux", "keyring.backends.fail") is None  # CI's build box
    windows = ["MME", "Windows DirectSound", "Windows WASAPI", "Windows WDM-KS"]
    assert selftest.host_api_problem("win32", windows) is None
    assert selftest.host_api_problem("win32", ["MME"]) == (
        "PortAudio has no Windows WASAPI (only MME)"
    )
    assert selftest.host_api_problem("darwin", ["Core Audio"]) is None


def test_the_self_test_opens_and_closes_an_output_stream_on_the_default_speaker(pulse):
    detail = selftest.check_portaudio()
    assert "output stream on 'default' (ALSA" in detail and detail.endswith("opened and closed")


def test_the_hotkey_helpers_answer_is_judged_per_system():
    read = "error “<ctrl>+<nosuchkey>” is not a key combination TalkApp knows (example: …)."
    assert "reads combinations" in selftest.hotkey_helper_verdict("darwin", read)
    missing = "error The global hotkey needs the Python package pynput (pip install …)."
    assert selftest.hotkey_helper_verdict("linux", missing).startswith("the helper process answers")
    for system in ("darwin", "win32"):
        with pytest.raises(selftest.CheckFailed, match="hotkey helper answered"):
            selftest.hotkey_helper_verdict(system, missing)
    with pytest.raises(selftest.CheckFailed, match="answered 'nothing'"):
        selftest.hotkey_helper_verdict("linux", "")
