"""Reading a run folder: every file validated before anything is rendered.

A render that fails here has written nothing: the caller only writes output
after `load_run` returned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.contract.format import (
    ENVIRONMENT_FILE,
    RUN_FILE,
    ResultFormatError,
    read_document,
)


@dataclass(frozen=True)
class RunResults:
    """One run folder, validated: manifest, machine, experiments and file digests."""

    directory: Path
    manifest: dict[str, Any]
    environment: dict[str, Any]
    experiments: dict[str, dict[str, Any]]
    sha256: dict[str, str]
    # experiment files left out by a tolerant read (load_run(..., tolerant=True)), each with
    # the reader's one-line reason; the rest of the run stands
    unreadable: tuple[ResultFormatError, ...] = ()

    @property
    def complete(self) -> bool:
        return bool(self.manifest["status"] == "complete")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_run(directory: Path, *, tolerant: bool = False) -> RunResults:
    """Read run.json, environment.json and each experiment file the manifest names.

    Render and diff refuse a run with any bad file (nothing is drawn from a folder that
    holds one). A class view reads many folders from a shared drive and keeps what it can:
    `tolerant` leaves out a bad experiment file, with its reason in `unreadable`, as if that
    experiment had not run (a bad run.json or environment.json still refuses the run)."""
    if not directory.is_dir():
        raise ResultFormatError(directory, "", "not a run folder (no such directory)")
    manifest = read_document(directory / RUN_FILE, "run")
    environment = read_document(directory / ENVIRONMENT_FILE, "environment")
    sha256 = {
        RUN_FILE: _digest(directory / RUN_FILE),
        ENVIRONMENT_FILE: _digest(directory / ENVIRONMENT_FILE),
    }
    loaded: dict[str, dict[str, Any]] = {}
    unreadable: list[ResultFormatError] = []
    for name, entry in manifest["experiments"].items():
        if entry["file"] is None:
            continue
        path = directory / entry["file"]
        try:
            document = read_document(path, "experiment")
            if document["experiment"] != name:
                raise ResultFormatError(
                    path,
                    "experiment",
                    f"holds {document['experiment']!r}, run.json expects {name!r}",
                )
        except ResultFormatError as error:
            if not tolerant:
                raise
            unreadable.append(error)
            continue
        loaded[name] = document
        sha256[entry["file"]] = _digest(path)
    return RunResults(directory, manifest, environment, loaded, sha256, tuple(unreadable))
