# Runtime hook: frozen sounddevice loads the PortAudio bundled with the app. sounddevice asks
# ctypes.util.find_library("portaudio") first, which never looks inside the bundle: on Linux
# the app would then need the system's libportaudio2, and on macOS/Windows it could pick up a
# Homebrew or stray PortAudio before its own (recipe: shared/recipes/headless-linux.md, 3.6).
import ctypes.util
import os
import sys


def _bundled_portaudio():
    root = getattr(sys, "_MEIPASS", "")
    if sys.platform == "win32" and "SD_ENABLE_ASIO" in os.environ:
        return None  # the user asked sounddevice for its ASIO build: let it choose
    candidates = [os.path.join(root, "libportaudio.so.2")]  # Linux: the system library, copied
    wheel = os.path.join(root, "_sounddevice_data", "portaudio-binaries")  # macOS, Windows wheels
    candidates += [
        os.path.join(wheel, name)
        for name in (
            "libportaudio.dylib",
            "libportaudio64bit.dll",
            "libportaudioarm64.dll",
            "libportaudio32bit.dll",
        )
    ]
    return next((path for path in candidates if os.path.isfile(path)), None)


def _install():
    bundled = _bundled_portaudio()
    if bundled is None:
        return
    find_library = ctypes.util.find_library

    def find_library_in_bundle(name):
        return bundled if name == "portaudio" else find_library(name)

    ctypes.util.find_library = find_library_in_bundle


_install()
