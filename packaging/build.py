"""Build TalkApp's double-click package: one command, the same on every OS.

    python packaging/build.py --target linux|macos|windows [--self-test] [--no-archive] [--clean]
    python packaging/build.py --target windows --archive-only   # after signing the built folder

Run it with the Python that has TalkApp's dependencies and the `packaging` extra installed
(`pip install '.[packaging]'`), on the OS you build for (PyInstaller does not cross-compile).

  linux    dist/talkapp/           one folder; run dist/talkapp/talkapp       (+ .tar.gz)
  macos    dist/TalkApp.app        this machine's architecture                (+ .dmg, hdiutil)
  windows  dist/TalkApp/           TalkApp.exe, windowed, icon, version info  (+ .zip)
                                   and talkapp-cli.exe, the console build

--self-test runs the frozen app's `--self-test` afterwards and fails the build if it fails (on
macOS also launched as a user would, `open -W`; on Windows also through talkapp-cli.exe).
A macOS build is refused when an installed wheel needs a newer macOS than Info.plist declares,
and its Info.plist is checked with `plutil -lint` and for the keys macOS needs.
Environment: TALKAPP_CODESIGN_IDENTITY signs the macOS app (and its .dmg); see packaging/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "talkapp_bundle", Path(__file__).resolve().parent / "bundle.py"
)
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)

SPEC = bundle.PACKAGING / "talkapp.spec"
SELF_TEST_TIMEOUT_S = 180


class BuildError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="packaging/build.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--target", choices=bundle.TARGETS, required=True, help="the OS to build for (this one)"
    )
    parser.add_argument(
        "--self-test", action="store_true", help="run the frozen app's --self-test afterwards"
    )
    parser.add_argument("--no-archive", action="store_true", help="skip the .tar.gz / .dmg / .zip")
    parser.add_argument(
        "--archive-only",
        action="store_true",
        help="only pack the folder already built (signed in between, as the workflow does)",
    )
    parser.add_argument(
        "--clean", action="store_true", help="drop PyInstaller's cache first (a from-scratch build)"
    )
    parser.add_argument(
        "--dist", type=Path, default=bundle.ROOT / "dist", help="output folder (default dist/)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=bundle.ROOT / "build" / "pyinstaller",
        help="PyInstaller's work folder (default build/pyinstaller/)",
    )
    args = parser.parse_args(argv)
    try:
        return build(args)
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1


def build(args: argparse.Namespace) -> int:
    target = args.target
    if target != bundle.host_target():
        raise BuildError(
            f"--target {target} must be built on {target}; this is {bundle.host_target()} "
            "(PyInstaller does not cross-compile: use the CI workflow, "
            ".github/workflows/package.yml)"
        )
    icon = bundle.icon_for(target)
    if icon is not None and not icon.is_file():
        raise BuildError(
            f"{icon.relative_to(bundle.ROOT)} is missing; make it with: python packaging/icons.py"
        )
    version = bundle.version()
    if args.archive_only:
        archive = _archive(bundle.bundle_path(args.dist, target), args.dist, version, target)
        print(f"build.py: {archive} — {archive.stat().st_size / 1e6:.0f} MB", flush=True)
        return 0
    too_old = bundle.check_macos_minimum(bundle.MACOS_MINIMUM, bundle.installed_wheel_tags())
    if target == "macos" and too_old:
        raise BuildError(too_old)
    print(
        f"build.py: TalkApp {version} for {target} ({bundle.arch()}), "
        f"Python {sys.version.split()[0]}",
        flush=True,
    )

    started = time.monotonic()
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(args.dist),
        "--workpath",
        str(args.work),
        str(SPEC),
    ]
    if args.clean:
        command.insert(3, "--clean")
    result = subprocess.run(command, cwd=bundle.ROOT, check=False)
    if result.returncode:
        raise BuildError(f"PyInstaller failed (exit status {result.returncode})")
    if target == "linux":
        strip_python(bundle.bundle_path(args.dist, target))
    built = time.monotonic() - started
    app = bundle.bundle_path(args.dist, target)
    print(f"build.py: {app} — {_megabytes(app):.0f} MB, built in {built:.0f} s", flush=True)

    if target == "macos":
        check_info_plist(app / "Contents" / "Info.plist")
    if args.self_test:
        self_test(bundle.frozen_executable(args.dist, target))
        if target == "macos":
            self_test_as_launched(app)
        if target == "windows":
            self_test(app / f"{bundle.CLI_NAME}.exe")
    if not args.no_archive:
        archive = _archive(app, args.dist, version, target)
        print(f"build.py: {archive} — {archive.stat().st_size / 1e6:.0f} MB", flush=True)
    return 0


def _archive(app: Path, dist: Path, version: str, target: str) -> Path:
    if not app.exists():
        raise BuildError(f"{app} is not there: build it first")
    return {"linux": tarball, "macos": dmg, "windows": zipfile}[target](app, dist, version)


def check_info_plist(path: Path) -> None:
    """`plutil -lint`, then the keys macOS needs (bundle.plist_problems)."""
    import plistlib

    lint = subprocess.run(
        ["plutil", "-lint", str(path)], check=False, capture_output=True, text=True
    )
    if lint.returncode:
        raise BuildError(f"plutil -lint {path}: {lint.stdout.strip() or lint.stderr.strip()}")
    with path.open("rb") as file:
        problems = bundle.plist_problems(plistlib.load(file))
    if problems:
        raise BuildError(f"{path}: " + "; ".join(problems))
    print(f"build.py: Info.plist ok (LSMinimumSystemVersion {bundle.MACOS_MINIMUM})", flush=True)


def self_test_as_launched(app: Path) -> None:
    """The self-test started as Finder starts the app (`open -W -a`: Launch Services, the
    bundle's Info.plist, its signature), its output taken through `open --stdout`."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "self-test.txt"
        print(f"build.py: open -W -n -a {app} --args --self-test", flush=True)
        subprocess.run(
            ["open", "-W", "-n", "--stdout", str(log), "--stderr", str(log), "-a", str(app),
             "--args", "--self-test"],
            check=False, timeout=SELF_TEST_TIMEOUT_S,
        )  # fmt: skip
        text = log.read_text(errors="replace") if log.exists() else ""
    print(text, end="", flush=True)
    verdict = bundle.self_test_verdict(text)
    if verdict is not None:
        raise BuildError(f"the app launched with `open` did not pass its self-test: {verdict}")


def strip_python(app: Path) -> None:
    """Strip debug symbols from Python's own libraries: a self-built Python (pyenv, as on the CI
    box) ships them unstripped -- libpython 23 -> 6 MB, the stdlib's extensions 11 -> 3 MB. Only
    those: stripping the wheels' auditwheel-patched libraries breaks them."""
    strip = shutil.which("strip")
    if strip is None:
        print("build.py: no `strip` (binutils); Python's libraries stay unstripped", flush=True)
        return
    files = [
        *app.glob("_internal/libpython3*.so*"),
        *app.glob("_internal/python3*/lib-dynload/*.so"),
    ]
    files = [f for f in files if f.is_file() and not f.is_symlink()]
    if files:
        subprocess.run([strip, "--strip-unneeded", *map(str, files)], check=True)


def self_test(executable: Path) -> None:
    """The frozen app checks itself (talkapp/selftest.py). Its stdout is a pipe, so a windowed
    Windows exe can print too."""
    print(f"build.py: {executable} --self-test", flush=True)
    started = time.monotonic()
    try:
        result = subprocess.run(
            [str(executable), "--self-test"],
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=SELF_TEST_TIMEOUT_S,
            text=True,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        raise BuildError(
            f"the frozen self-test did not finish in {SELF_TEST_TIMEOUT_S} s"
        ) from None
    print(result.stdout, end="", flush=True)
    if result.returncode:
        raise BuildError(f"the frozen self-test failed (exit status {result.returncode})")
    print(f"build.py: frozen self-test passed in {time.monotonic() - started:.1f} s", flush=True)


def tarball(app: Path, dist: Path, version: str) -> Path:
    archive = dist / f"talkapp-{version}-linux-{bundle.arch()}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(app, arcname=f"talkapp-{version}")
    return archive


def zipfile(app: Path, dist: Path, version: str) -> Path:
    base = dist / f"TalkApp-{version}-windows-{bundle.arch()}"
    return Path(shutil.make_archive(str(base), "zip", root_dir=app.parent, base_dir=app.name))


def dmg(app: Path, dist: Path, version: str) -> Path:
    """A compressed disk image holding the app and an Applications link to drag it onto."""
    image = dist / f"TalkApp-{version}-macos-{bundle.arch()}.dmg"
    image.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as staging:
        subprocess.run(
            ["ditto", str(app), str(Path(staging) / app.name)], check=True
        )  # keeps links, xattrs, signatures
        os.symlink("/Applications", Path(staging) / "Applications")
        subprocess.run(
            [
                "hdiutil",
                "create",
                "-volname",
                f"TalkApp {version}",
                "-srcfolder",
                staging,
                "-fs",
                "HFS+",
                "-format",
                "UDZO",
                "-ov",
                str(image),
            ],
            check=True,
        )
    identity = os.environ.get("TALKAPP_CODESIGN_IDENTITY")
    if identity:
        subprocess.run(["codesign", "--sign", identity, "--timestamp", str(image)], check=True)
    return image


def _megabytes(path: Path) -> float:
    total = sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1e6


if __name__ == "__main__":
    raise SystemExit(main())
