"""The frozen app's entry point: the `talkapp` command (no arguments: the desktop app).
`--tool-worker` runs a tool's worker process (talkapp/tools/isolated.py: a frozen app has no
`python -m`), before anything else is imported."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--tool-worker"]:
        from talkapp.tools.worker import main as worker
    else:
        from talkapp.cli import main as worker
    raise SystemExit(worker())
