# Runtime hook: TLS roots for wss://. The frozen app's OpenSSL looks for CA certificates where
# the *build* machine's Python keeps them (on macOS a path inside a Python.framework the user
# does not have; on Linux the build distro's OpenSSL folder). When that finds none and the user
# set neither SSL_CERT_FILE nor SSL_CERT_DIR, point OpenSSL at certifi's bundle inside the app.
# A system with its own roots keeps them (a company's own CA stays trusted); Windows adds its
# certificate store either way.
import os
import ssl
import sys


def _system_has_roots():
    paths = ssl.get_default_verify_paths()  # cafile/capath are None when they do not exist
    if paths.cafile:
        return True
    return bool(paths.capath) and any(entry.is_file() for entry in os.scandir(paths.capath))


def _install():
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return
    bundled = os.path.join(getattr(sys, "_MEIPASS", ""), "certifi", "cacert.pem")
    if os.path.isfile(bundled) and not _system_has_roots():
        os.environ["SSL_CERT_FILE"] = bundled


_install()
