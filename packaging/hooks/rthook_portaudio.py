# Runtime hook: frozen sounddevice loads the PortAudio bundled with the app. sounddevice asks
# ctypes.util.find_library("portaudio") first, which never looks inside the bundle: on Linux
# the app would then need the system's libportaudio2, and on macOS/Windows it could pick up a
# Homebrew or stray PortAudio before its own (recipe: shared/recipes/headless-linux.md, 3.6).
import ctypes.util
import os
import platform
import struct
import sys


def _candidates(root, system, machine, bits):
    """Where this system's PortAudio is in the bundle: on Windows the DLL sounddevice itself
    picks for this process (arm64 when the machine says ARM, else by the pointer size), on
    macOS the dylib, on Linux the copied system library; never another system's first."""
    wheel = os.path.join(root, "_sounddevice_data", "portaudio-binaries")  # macOS, Windows wheels
    if system == "win32":
        name = "libportaudioarm64.dll" if "arm" in machine.lower() else f"libportaudio{bits}bit.dll"
        return [os.path.join(wheel, name)]
    if system == "darwin":
        return [os.path.join(wheel, "libportaudio.dylib")]
    return [os.path.join(root, "libportaudio.so.2")]  # Linux: the system library, copied


def _bundled_portaudio():
    if sys.platform == "win32" and "SD_ENABLE_ASIO" in os.environ:
        return None  # the user asked sounddevice for its ASIO build: let it choose
    root = getattr(sys, "_MEIPASS", "")
    bits = struct.calcsize("P") * 8
    candidates = _candidates(root, sys.platform, platform.machine(), bits)
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
