"""Finding the run folders under the paths given, and reading each as far as it can be read.

A path is a run folder (it holds run.json) or a folder searched for run folders at any
depth (a shared drive's `results/<label>/<run-id>/`). Nothing found is fatal but finding
nothing at all: a folder whose run.json or environment.json cannot be read is left out
with one line naming the file; a bad experiment file leaves out that experiment only; a
second copy of the same measurements (the same run under two names) is counted once (the
one in the folder the runner named, results/<label>/<run id>, is kept).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from experiments.contract import declaration
from experiments.contract.format import RUN_FILE, SCHEMA_VERSION, ResultFormatError
from report.render.load import RunResults, load_run


@dataclass(frozen=True)
class Problem:
    """A file left out, and why, in the reader's own one line."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Copy:
    """A run folder holding exactly the measurements of another (`of`): counted once."""

    path: Path
    of: Path


@dataclass
class Collected:
    runs: list[RunResults] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)
    # run folders written by an older version of the format, upgraded when read: version
    upgraded: dict[Path, int] = field(default_factory=dict)
    searched: int = 0  # run folders found (before leaving out or merging copies)


def _search(root: Path) -> list[Path]:
    """Folders under `root` that hold an entry named run.json (a file, or anything else the
    reader will then name as unreadable), following links to folders, each folder once."""
    found = []
    seen: set[str] = set()
    for folder, folders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link back up the tree: walked already
            folders[:] = []
            continue
        seen.add(real)
        folders.sort()
        if RUN_FILE in files or RUN_FILE in folders:
            found.append(Path(folder))
    return sorted(found)


def run_folders(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Every run folder under the paths, each once, in a stable order."""
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if not path.exists():
            problems.append(Problem(path, "no such file or folder"))
        elif not path.is_dir():
            problems.append(Problem(path, "not a folder: give run folders or folders of them"))
        elif os.path.lexists(path / RUN_FILE):
            found.append(path)
        else:
            found += _search(path)
    unique: dict[Path, Path] = {}
    for folder in found:
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values()), problems


def _written_version(folder: Path) -> int | None:
    """The format version run.json was written in (the reader upgrades older ones)."""
    try:
        version = json.loads((folder / RUN_FILE).read_text(encoding="utf-8")).get("schema_version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, int) else None


def _fingerprint(run: RunResults) -> str:
    """The run's measurements: its experiment files' digests (a copied folder's files are
    the same bytes; hashing what the reader already hashed costs nothing more)."""
    names = sorted(f"{name}.json" for name in run.experiments)
    return " ".join(f"{name}={run.sha256[name]}" for name in names)


def _at_home(run: RunResults) -> bool:
    """Whether a run sits where the runner put it (results/<its label>/<its run id>): of two
    copies, that one is the original."""
    folder = run.directory
    return (folder.parent.name, folder.name) == (run.manifest["label"], run.manifest["run_id"])


def _note_version(collected: Collected, run: RunResults) -> None:
    version = _written_version(run.directory)
    if version is not None and version < SCHEMA_VERSION:
        collected.upgraded[run.directory] = version


def collect(paths: Sequence[Path], progress: Callable[[int, int], None] | None = None) -> Collected:
    """Read every run folder under `paths` (progress(done, total) between folders)."""
    folders, problems = run_folders(paths)
    collected = Collected(problems=problems, searched=len(folders))
    seen: dict[str, RunResults] = {}
    for index, folder in enumerate(folders):
        if progress is not None:
            progress(index, len(folders))
        try:
            run = load_run(folder, tolerant=True)
        except ResultFormatError as error:
            collected.problems.append(Problem(error.path, error.detail))
            continue
        collected.problems += [Problem(e.path, e.detail) for e in run.unreadable]
        if run.manifest["profile"] not in declaration.PROFILE_NAMES:
            reason = f"field 'profile': {run.manifest['profile']!r} is not a profile of this tool"
            collected.problems.append(Problem(folder / RUN_FILE, reason))
            continue
        if not run.experiments:
            finished = any(e["file"] for e in run.manifest["experiments"].values())
            reason = "no experiment could be read" if finished else "no experiment finished"
            collected.problems.append(Problem(folder / RUN_FILE, reason))
            continue
        # the same run: the same measurements, or the same label and run id (a copy of which
        # one file was damaged would otherwise count twice)
        identity = (run.manifest["label"], run.manifest["run_id"])
        measured = _fingerprint(run)
        kept = seen.get(measured) or seen.get(repr(identity))
        if kept is not None:
            if _at_home(run) and not _at_home(kept):  # the original came second
                collected.runs[collected.runs.index(kept)] = run
                collected.upgraded.pop(kept.directory, None)
                _note_version(collected, run)
                seen[measured] = seen[repr(identity)] = run
                run, kept = kept, run
            collected.copies.append(Copy(run.directory, kept.directory))
            continue
        seen[measured] = seen[repr(identity)] = run
        _note_version(collected, run)
        collected.runs.append(run)
    if progress is not None:
        progress(len(folders), len(folders))
    return collected
