"""Files only their owner can read: settings, logs and recordings (voice and transcripts) are
created 0600 in folders 0700, whatever the umask; new files are opened with O_NOFOLLOW, and
those that must be new (a recording's) with O_EXCL too, so a symlink planted where one will
be written cannot redirect it. (On Windows the modes mean little; the per-user folders are the
protection there.)"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o700
FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def private_folder(path: Path, tighten: bool = True) -> Path:
    """Create `path` and any missing parents as 0700. `tighten`: an existing `path` is made
    0700 too (our own folders); False for a folder the user chose, which may be shared."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            pass
        else:
            os.chmod(folder, FOLDER_MODE)  # mkdir's mode is masked by the umask
    if tighten and path not in missing and path.stat().st_mode & 0o077:
        os.chmod(path, FOLDER_MODE)
    return path


def new_private_folder(path: Path) -> Path:
    """Create `path` (0700); FileExistsError if anything is there already."""
    private_folder(path.parent, tighten=False)
    path.mkdir(mode=FOLDER_MODE)
    os.chmod(path, FOLDER_MODE)
    return path


def open_private_append(path: Path, encoding: str = "utf-8") -> IO:
    """Open `path` to append text, created 0600 (made 0600 if it existed), never through a
    symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | _NOFOLLOW | _CLOEXEC
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, FILE_MODE)
        return os.fdopen(descriptor, "a", encoding=encoding)
    except BaseException:
        os.close(descriptor)
        raise


def open_private(
    path: Path, mode: str = "w", exclusive: bool = False, encoding: str | None = "utf-8"
) -> IO:
    """Open `path` for writing as a 0600 file, never through a symlink. `exclusive`: the file
    must not exist yet (FileExistsError otherwise). `mode` is "w" or "wb"."""
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _BINARY
    flags |= os.O_EXCL if exclusive else os.O_TRUNC
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, FILE_MODE)  # an existing file keeps its mode otherwise
        if "b" in mode:
            return os.fdopen(descriptor, "wb")
        return os.fdopen(descriptor, "w", encoding=encoding)
    except BaseException:
        os.close(descriptor)
        raise
