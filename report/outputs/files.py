"""Writing a set of output files all together, or not at all.

A report is several files (HTML, Markdown and its figures, PDFs): a full disk
or a read-only folder half way through must not leave a new report.html
beside an old report.pdf. Every file is first staged in full as a temporary
file in its own folder (`experiments.contract.atomic.stage`, the project's one
atomic writer; a failure there costs nothing: the temporaries are removed), and
only when all are staged are they renamed into place, which needs no space.
An earlier good file is replaced only by a complete new one, never damaged.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from experiments.contract.atomic import stage


class OutputError(Exception):
    """A set of outputs that could not be written; the text is one line naming the path."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise OutputError(path, "is a folder, not a file; move it away or choose another --out")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(parent, "is a file, not a folder; choose another --out")
            break


def write_all(folder: Path, files: Mapping[str, bytes | str]) -> list[Path]:
    """Write `files` ({path relative to folder: content}) all or none; return their paths."""
    staged: list[tuple[Path, Path]] = []
    try:
        for relative, content in files.items():
            target = folder / relative
            _check_target(target)
            # a path from a folder named in another encoding holds lone surrogates: shown as "?"
            data = content.encode("utf-8", "replace") if isinstance(content, str) else content
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise OutputError(target.parent, _reason(error)) from None
            try:
                staged.append((stage(target, data), target))
            except OSError as error:
                raise OutputError(target, _reason(error)) from None
        _swap_in(staged)
    except BaseException:
        for staged_file, _target in staged:
            with contextlib.suppress(OSError):
                staged_file.unlink(missing_ok=True)
        raise
    return [target for _staged_file, target in staged]


def _swap_in(staged: list[tuple[Path, Path]]) -> None:
    """Rename every staged file into place; an earlier file is first moved aside, so that a
    rename refused half way (a file made immutable, a folder gone read-only) can put every
    earlier file back as it was: the set is replaced whole or not at all."""
    done: list[tuple[Path, Path | None]] = []  # (target, its earlier file moved aside)
    try:
        for staged_file, target in staged:
            aside = None
            try:
                if target.exists():
                    aside = target.with_name(f".{target.name}.{os.getpid()}.old")
                    os.replace(target, aside)
                done.append((target, aside))
                os.replace(staged_file, target)
            except OSError as error:
                raise OutputError(target, _reason(error)) from None
    except BaseException:
        for target, aside in reversed(done):
            with contextlib.suppress(OSError):
                if aside is not None:
                    os.replace(aside, target)
                else:
                    target.unlink(missing_ok=True)
        raise
    for _target, aside in done:
        if aside is not None:
            with contextlib.suppress(OSError):
                aside.unlink()
