# livekit.rtc loads its native FFI library (liblivekit_ffi.so / .dylib / livekit_ffi.dll, the
# WebRTC audio-processing module behind the `aec` echo mode) with ctypes, from the package
# `livekit.rtc.resources` via importlib.resources: bundle both the library and that package.
from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("livekit.rtc")
hiddenimports = ["livekit.rtc.resources"]
excludedimports = ["IPython"]  # livekit.rtc.jupyter: notebooks only
