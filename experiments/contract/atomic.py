"""Writing a file so that a crash, a full disk or Ctrl-C never leaves half of it.

The one way this project writes a file that anyone reads: the bytes go in full
to a temporary file beside the target, which is closed, then renamed over the
target (`os.replace`, atomic on Windows, macOS and Linux alike). Result files
(`format.write_document`) and reports (`report.outputs.files.write_all`) both stage
their files here.

Two platform rules live here once. POSIX gives `mkstemp`'s file the mode 0600,
and results are meant to be shared, so it is widened to what the umask allows;
Windows has no such mode (and no `os.fchmod` before Python 3.13): a new file
there inherits its folder's permissions, which is what sharing wants. And
Windows refuses to remove a file that is still open, so a temporary is closed
before it is removed, on every path.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def shareable_mode() -> int:
    """The mode a new shared file gets on POSIX: read-write for all the umask allows."""
    return 0o666 & ~_umask()


def stage(target: Path, data: bytes) -> Path:
    """`data` in full in a new, closed temporary file beside `target`; its path.

    On any failure the temporary is gone and the error is raised; `target` is untouched.
    The caller renames it into place (`os.replace`) or removes it."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with open(fd, "wb", closefd=True) as handle:
            if sys.platform != "win32":
                os.fchmod(handle.fileno(), shareable_mode())
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # the with block has closed the file, so Windows lets it go
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (UTF-8 when a str) to `path` all at once, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    temporary = stage(path, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise
