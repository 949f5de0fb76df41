"""One process owns a run folder at a time.

The lock is the operating system's own (`flock` on Linux and macOS,
`msvcrt.locking` on Windows) on a file in the run folder, held for as long as
the process runs. The OS drops it when the process ends, however it ends
(Ctrl-C, SIGKILL, a crash, a power cut), so a lock left behind by a dead
process is no lock: the next run takes it. The file also says who holds it,
so the refusal can name the process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

LOCK_FILE = ".run.lock"


class RunFolderBusy(Exception):
    """Another process is writing this run folder; the text is the one line a user sees."""


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    """Windows asks for a region to be unlocked before its file is closed; POSIX drops a
    flock with the file."""
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


def _holder(handle: IO[str]) -> str:
    """Who holds the lock, as its file says. Windows' lock is mandatory: the locked byte
    cannot be read by anyone else, so there the refusal names no process."""
    try:
        handle.seek(0)
        return handle.read().strip() or "another process"
    except OSError:
        return "another process"


@contextlib.contextmanager
def owning(run_dir: Path) -> Iterator[None]:
    """Hold the run folder for the block; RunFolderBusy at once if another process does."""
    path = run_dir / LOCK_FILE
    handle = path.open("a+", encoding="utf-8")
    finished = False
    try:
        if not _try_lock(handle):
            raise RunFolderBusy(
                f"{run_dir}: is being written by {_holder(handle)}; wait until it has finished "
                "(or stop it), then resume"
            )
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        handle.write(f"process {os.getpid()}, running since {started}\n")
        handle.flush()
        yield
        finished = True
        if sys.platform != "win32":
            with contextlib.suppress(OSError):  # done: the folder is shared without it
                path.unlink()
    finally:
        _unlock(handle)
        handle.close()  # closing drops the lock, on every path
    if finished and sys.platform == "win32":
        # Windows removes no open file: only now, and not if another process opened it since
        with contextlib.suppress(OSError):
            path.unlink()
