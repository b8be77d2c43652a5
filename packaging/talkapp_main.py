"""The frozen app's entry point: the `talkapp` command (no arguments: the desktop app).
`--tool-worker` runs a tool's worker process (talkapp/tools/isolated.py: a frozen app has no
`python -m`), `--hotkey-helper` the global hotkey's listener process (talkapp/ui/hotkey_helper.py),
before anything else is imported. A command typed at a console for the windowed
Windows exe (`TalkApp.exe devices`) prints to that console (talkapp/platform/console.py)."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["--tool-worker"]:
        from talkapp.tools.worker import main as worker
    elif sys.argv[1:2] == ["--hotkey-helper"]:
        del sys.argv[1]  # the helper reads its combination from argv[1:]
        from talkapp.ui.hotkey_helper import main as worker
    else:
        if sys.argv[1:] and sys.stdout is None:
            from talkapp.platform.console import attach_parent_console

            console = attach_parent_console(stdout=sys.stdout)
            if console is not None:
                sys.stdout = sys.stderr = console
        from talkapp.cli import main as worker
    raise SystemExit(worker())
