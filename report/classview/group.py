"""Runs sorted into machines, and machines into groups whose figures may be ranked together.

- A machine is a label and the hardware its runs report (CPU model, cores, threads, RAM,
  GPUs, operating system). Runs that share both are one machine run several times; two
  machines under one label (two students who kept the default label of the same laptop
  model are one machine to this tool, unless their hardware differs) are told apart as
  "label (2)". Host names are never stored, so nothing finer exists.
- A cohort is one profile: a `quick` run measures a shortened experiment and is never
  ranked beside a `default` one.
- Within a cohort, an experiment's figures are ranked together only where its settings
  are equal (`settings_groups`): the class's most common settings first, any other
  settings apart, each named by what differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.contract import declaration
from experiments.contract.format import ENVIRONMENT_FILE, RUN_FILE
from report.outputs.escaping import terminal_text
from report.render.load import RunResults

# The profiles in the order a page shows them: the notes' settings first.
PROFILE_ORDER = ("default", "quick", "smoke")


def hardware(environment: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a machine's hardware in its environment.json."""
    cpu = environment["cpu"]
    gpus = tuple((g["name"], g.get("total_memory_bytes")) for g in environment["gpus"])
    nvidia = environment.get("nvidia") or {}
    unused = tuple((g["name"], g.get("total_memory_bytes")) for g in nvidia.get("gpus", []))
    return (
        cpu.get("model"),
        cpu.get("physical_cores"),
        cpu.get("logical_threads"),
        environment["memory"].get("total_bytes"),
        gpus or unused,
        environment["os"]["system"],
    )


def started(run: RunResults) -> tuple[str, str]:
    return (str(run.manifest.get("started_utc") or ""), str(run.directory))


@dataclass
class Machine:
    """One machine's runs of one profile, oldest first."""

    key: tuple[Any, ...]
    label: str  # as the page names it
    runs: list[RunResults]
    mine: bool = False

    @property
    def latest(self) -> RunResults:
        return self.runs[-1]

    @property
    def environment(self) -> dict[str, Any]:
        return self.latest.environment

    def runs_with(self, experiment: str) -> list[RunResults]:
        """This machine's runs that finished the experiment (`ok`), oldest first."""
        return [
            r
            for r in self.runs
            if (d := r.experiments.get(experiment)) is not None and d["status"] == "ok"
        ]


@dataclass
class Cohort:
    profile: str
    machines: list[Machine] = field(default_factory=list)


def _letters(index: int) -> str:
    """A, B, …, Z, AA, AB, …: spreadsheet column names."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def machine_names(
    runs: Sequence[RunResults], anonymous: str | None = None
) -> dict[tuple[Any, ...], str]:
    """The page's name of every machine: its label, "label (2)" for a second machine under
    the same label, or, with `anonymous` ("Machine {letter}"), letters in label order."""
    keys: dict[tuple[Any, ...], tuple[str, str]] = {}
    for run in sorted(runs, key=started):
        key = (run.manifest["label"], *hardware(run.environment))
        keys.setdefault(key, started(run))
    names: dict[tuple[Any, ...], str] = {}
    if anonymous is not None:  # letters in the order the machines first ran, not by label
        ordered = sorted(keys, key=lambda k: keys[k])
        return {key: anonymous.format(letter=_letters(i)) for i, key in enumerate(ordered)}
    used: set[str] = set()
    for key in sorted(keys, key=lambda k: keys[k]):
        # a label is text from a file: control characters shown as escapes, none left empty
        label = terminal_text(str(key[0])).strip() or "unlabelled"
        name, number = label, 1
        while name in used:  # "label (2)", unless a real label is already called that
            number += 1
            name = f"{label} ({number})"
        used.add(name)
        names[key] = name
    return names


def cohorts(
    runs: Sequence[RunResults],
    names: dict[tuple[Any, ...], str],
    mine: Path | None = None,
    mine_id: tuple[str, str] | None = None,
) -> list[Cohort]:
    """The runs by profile, then by machine (machines in name order); `mine` (a run folder)
    or `mine_id` (its label and run id, for a copy that was counted as the original) marks
    the reader's own machine."""
    mine_key = None
    if mine is not None or mine_id is not None:
        own = next(
            (
                r
                for r in runs
                if (mine is not None and r.directory.resolve() == mine.resolve())
                or (r.manifest["label"], r.manifest["run_id"]) == mine_id
            ),
            None,
        )
        if own is not None:
            mine_key = (own.manifest["label"], *hardware(own.environment))
    by_profile: dict[str, dict[tuple[Any, ...], Machine]] = {}
    for run in sorted(runs, key=started):
        key = (run.manifest["label"], *hardware(run.environment))
        machines = by_profile.setdefault(run.manifest["profile"], {})
        if key not in machines:
            machines[key] = Machine(key, names[key], [], mine=key == mine_key)
        machines[key].runs.append(run)
    rank = {p: i for i, p in enumerate(PROFILE_ORDER)}
    return [
        Cohort(profile, sorted(machines.values(), key=lambda m: m.label))
        for profile, machines in sorted(
            by_profile.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])
        )
    ]


@dataclass
class SettingsGroup:
    """Machines whose runs of one experiment used the same settings, and those runs."""

    config: dict[str, Any]
    members: list[tuple[Machine, list[RunResults]]]
    differs: list[str] = field(default_factory=list)  # "key: this vs the class's"


def _config_key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def settings_groups(cohort: Cohort, experiment: str) -> list[SettingsGroup]:
    """An experiment's machines by its settings, the most common first; a machine whose runs
    used several settings appears in each group with the runs of that group."""
    groups: dict[str, SettingsGroup] = {}
    for machine in cohort.machines:
        by_config: dict[str, list[RunResults]] = {}
        for run in machine.runs_with(experiment):
            config = run.experiments[experiment]["config"]
            by_config.setdefault(_config_key(config), []).append(run)
        for key, runs in by_config.items():
            config = runs[-1].experiments[experiment]["config"]
            groups.setdefault(key, SettingsGroup(config, [])).members.append((machine, runs))
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1].members), item[0]))
    found = [group for _key, group in ordered]
    if found:
        main = found[0].config
        for group in found[1:]:
            group.differs = [
                f"{key}: {group.config.get(key)!r} vs {main.get(key)!r}"
                for key in sorted(set(main) | set(group.config))
                if group.config.get(key) != main.get(key)
            ]
    return found


# --------------------------------------------------------------------------
# An anonymous page (--anonymize) names files without the folders around them: folder names
# are labels, and paths hold user names.

_QUOTED_PATH = re.compile(r"""(['"])((?:[A-Za-z]:)?[\\/][^'"]*)\1""")


def run_folders_named(cohorts: Sequence[Cohort]) -> dict[Path, str]:
    """Every run folder of the page, by the name of its machine."""
    return {run.directory: m.label for c in cohorts for m in c.machines for run in m.runs}


def anonymous_path(path: Path, folders: dict[Path, str]) -> str:
    """A file as an anonymous page names it: its machine and its name where it belongs to a
    run of the page, its name where that is a result file's, else nothing ("")."""
    for folder, machine in folders.items():
        if path == folder:
            return machine
        if path.parent == folder:
            return f"{machine}/{path.name}"
    known = {RUN_FILE, ENVIRONMENT_FILE, *(f"{n}.json" for n in declaration.names())}
    return path.name if path.name in known else ""


def anonymous_reason(reason: str) -> str:
    """A reader's reason with every quoted path cut to its last part."""
    return _QUOTED_PATH.sub(lambda m: m.group(1) + Path(m.group(2)).name + m.group(1), reason)
