"""The frozen app's entry point: the `talkapp` command (no arguments: the desktop app)."""

from talkapp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
