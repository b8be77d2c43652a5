"""`python -m talkapp.simulator` serves in the foreground and prints its URL when ready."""

from __future__ import annotations

import subprocess
import sys


def test_the_module_prints_its_url_and_serves():
    proc = subprocess.Popen(
        [sys.executable, "-m", "talkapp.simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/v1")
        assert int(url.rsplit(":", 1)[1].split("/")[0]) > 0
        assert proc.poll() is None  # still serving
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_simulator_imports_neither_the_client_codec_nor_openai():
    check = (
        "import pkgutil, importlib, sys, talkapp.simulator as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('talkapp.simulator.' + m.name)\n"
        "bad = [m for m in sys.modules "
        "if m.startswith(('talkapp.protocol', 'talkapp.session', 'openai'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
