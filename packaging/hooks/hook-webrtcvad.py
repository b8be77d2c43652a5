# The contrib hook copies the metadata of 'webrtcvad' and breaks the build: the installed
# distribution is 'webrtcvad-wheels' (recipe: shared/recipes/headless-linux.md section 7).
from PyInstaller.utils.hooks import copy_metadata

try:
    datas = copy_metadata("webrtcvad-wheels")
except Exception:  # noqa: BLE001 - an older webrtcvad under its own name
    datas = copy_metadata("webrtcvad")
