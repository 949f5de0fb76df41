"""The layout holds: experiments are found, not listed; each has its section, partial, test and
README entry; the report reads only the contract and never needs torch; adding an experiment
takes its own files and nothing else."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import experiments.suite
import report.render.sections
from experiments.contract import declaration
from report import cli as report_cli
from report.render import environment as render_environment
from tests.conftest import ROOT

SUITE = ROOT / "experiments" / "suite"
CATALOGUES = ROOT / "report" / "words" / "locale" / "zh" / "LC_MESSAGES"


def _declared() -> list[str]:
    return declaration.names()


def test_every_experiment_folder_is_declared_and_nothing_else() -> None:
    folders = sorted(p.parent.name for p in SUITE.glob("*/__init__.py"))
    assert folders and sorted(_declared()) == folders
    assert {"cpu_vs_gpu", "mixed_precision"} <= set(folders)


@pytest.mark.parametrize("name", _declared())
def test_every_experiment_has_its_section_partial_test_and_readme_entry(name: str) -> None:
    assert (ROOT / "report" / "render" / "sections" / f"{name}.py").is_file(), "section module"
    assert (ROOT / "templates" / "sections" / f"{name}.html.j2").is_file(), "section partial"
    assert (ROOT / "tests" / f"test_{name}.py").is_file(), "test file"
    assert (SUITE / name / "measure.py").is_file(), "measuring module"
    assert (CATALOGUES / f"{name}.po").is_file(), "catalogue"
    assert f"`{name}`" in (ROOT / "README.md").read_text(encoding="utf-8"), "README entry"


@pytest.mark.parametrize("name", _declared())
def test_every_declaration_is_complete(name: str) -> None:
    declared = declaration.get(name)
    assert set(declared.profiles) == set(declaration.PROFILE_NAMES)
    assert declared.measure == f"experiments.suite.{name}.measure"
    assert declared.title.strip()


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_report_imports_nothing_from_experiments_but_the_contract() -> None:
    offending = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "report").rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] == "experiments" and not module.startswith("experiments.contract")
    ]
    assert offending == []


def test_the_contract_uses_only_the_standard_library() -> None:
    allowed_roots = set(sys.stdlib_module_names) | {"experiments"}
    for path in (ROOT / "experiments" / "contract").rglob("*.py"):
        for module in _imports(path):
            assert module.split(".")[0] in allowed_roots, f"{path.name} imports {module}"
            if module.startswith("experiments"):
                assert module.startswith("experiments.contract"), f"{path.name}: {module}"


@pytest.mark.slow
def test_every_report_module_imports_and_renders_with_torch_unimportable() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "report").rglob("*.py")
        if p.name != "__main__.py"
    )
    fixture = next((ROOT / "tests" / "fixtures" / "runs" / "fixture-machine-a").iterdir())
    code = textwrap.dedent(
        f"""
        import importlib, sys
        sys.modules["torch"] = None  # any import of torch now raises ImportError
        for name in {modules!r}:
            importlib.import_module(name)
        from report.render.load import load_run
        from report.render.page import render_html
        from report.diff.compare import diff, load_inputs
        from pathlib import Path
        render_html(load_run(Path({str(fixture)!r})))
        diff(load_inputs([Path({str(fixture)!r}), Path({str(fixture)!r})]))
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_no_module_is_over_about_400_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n}"
        for folder in ("experiments", "report", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 420
    ]
    assert long == []


# --------------------------------------------------------------------------
# Adding an experiment: its module(s), its section and partial; nothing else.

TOY_DECLARATION = """
from dataclasses import dataclass
from experiments.contract.declaration import Declaration, N_, device_metrics
from experiments.contract.shapes import NUMBER, device_entry


@dataclass(frozen=True)
class Config:
    seed: int = 0
    repeats: int = 5


DECLARATION = Declaration(
    name="toy",
    order=99,
    title=N_("A toy experiment"),
    config=Config,
    profiles={p: Config() for p in ("smoke", "quick", "default")},
    data_spec={"answer": int, "per_device": [device_entry(times_s=[NUMBER])]},
    metrics=lambda data: device_metrics(
        data["per_device"], lambda e: [("sleep", N_("a short sleep"), {}, e["times_s"])]
    ),
    measure=f"{__name__}.measure",
)
"""

TOY_MEASURE = """
import time
from experiments.core.harness import device_record, run_repeats


def run(config, devices, ctx):
    runs = run_repeats(
        devices, lambda d: (lambda: time.sleep(0.001)), warmup=1, repeats=config.repeats,
        ctx=ctx, what="toy",
    )
    return {
        "answer": 42,
        "per_device": [{**device_record(r.device), "times_s": r.times_s} for r in runs],
    }
"""

TOY_SECTION = """
from report.render.sections import section, unfinished


def build(document, run):
    if (shown := unfinished(document)) is not None:
        return shown
    answer = document["data"]["answer"]
    return section(document, {"answer": answer}, [f"The toy answered {answer}."])
"""

TOY_PARTIAL = """<section id="toy"><h2>{{ section.title }}</h2>
<p>The answer is {{ section.context.answer }}.</p></section>
"""


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A seventh experiment written as a newcomer would: four new files in a tree of its own."""
    suite = tmp_path / "suite"
    (suite / "toy").mkdir(parents=True)
    (suite / "toy" / "__init__.py").write_text(TOY_DECLARATION, encoding="utf-8")
    (suite / "toy" / "measure.py").write_text(TOY_MEASURE, encoding="utf-8")
    sections = tmp_path / "sections"
    sections.mkdir()
    (sections / "toy.py").write_text(TOY_SECTION, encoding="utf-8")
    templates = tmp_path / "templates"
    (templates / "sections").mkdir(parents=True)
    (templates / "sections" / "toy.html.j2").write_text(TOY_PARTIAL, encoding="utf-8")
    monkeypatch.setattr(experiments.suite, "__path__", [*experiments.suite.__path__, str(suite)])
    monkeypatch.setattr(
        report.render.sections, "__path__", [*report.render.sections.__path__, str(sections)]
    )
    monkeypatch.setattr(
        render_environment, "TEMPLATE_PATHS", [*render_environment.TEMPLATE_PATHS, templates]
    )
    declaration.declarations.cache_clear()
    yield tmp_path
    for name in [
        m
        for m in sys.modules
        if m.startswith(("experiments.suite.toy", "report.render.sections.toy"))
    ]:
        del sys.modules[name]
    declaration.declarations.cache_clear()


@pytest.mark.slow
def test_adding_an_experiment_needs_only_its_own_files(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from experiments.core import cli as run_cli

    assert "toy" in declaration.names()
    results = toy / "results"
    for _ in range(2):
        args = ["--only", "toy", "--profile", "smoke", "--quiet", "--results", str(results)]
        assert run_cli.main([*args, "--label", "m"]) == 0
    first, second = sorted((results / "m").iterdir())
    assert report_cli.main(["render", str(first), "--no-pdf"]) == 0
    html = (first / "report.html").read_text(encoding="utf-8")
    assert "A toy experiment" in html and "The answer is 42." in html
    assert "The toy answered 42." in html  # its finding reaches the summary
    out = toy / "diff"
    assert report_cli.main(["diff", str(first), str(second), "--out", str(out), "--no-pdf"]) == 0
    assert "| toy | a short sleep, cpu |" in (out / "diff.md").read_text(encoding="utf-8")
    capsys.readouterr()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports, at the top or inside a function
    (a lazy import only hides a cycle), `from package import module` read as the module."""
    paths = [p for top in ("experiments", "report") for p in (ROOT / top).rglob("*.py")]
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"x": {"y"}, "y": {"x"}, "z": set()}) == [["x", "y"]]


def test_no_module_of_the_project_imports_itself_through_others() -> None:
    graph = _import_graph()
    assert "report.cli.options" in graph["report.cli.diff"]  # the graph sees the imports
    assert _cycles(graph) == []


def test_report_is_cut_into_packages_by_job() -> None:
    """Only the package's own entry points sit in report/; every module is in a package."""
    assert sorted(p.name for p in (ROOT / "report").glob("*.py")) == ["__init__.py", "__main__.py"]
    folders = {p.parent for p in (ROOT / "report").rglob("*.py")}
    assert {
        f.relative_to(ROOT).as_posix() for f in folders if not (f / "__init__.py").is_file()
    } == set()
    assert {"cli", "diff", "outputs", "render", "words"} <= {
        f.relative_to(ROOT / "report").parts[0] for f in folders if f != ROOT / "report"
    }


def _string_constants(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def test_the_diff_and_the_class_page_name_no_experiment() -> None:
    """What the diff and the class page show of an experiment beyond its timings comes from
    that experiment's section (`side_by_side`, `headlines`, `across_machines`), so adding an
    experiment edits no diff or class code."""
    names = set(_declared())
    found = [
        f"{path.relative_to(ROOT)}: {text!r}"
        for folder in ("diff", "classview")
        for path in sorted((ROOT / "report" / folder).rglob("*.py"))
        for text in _string_constants(path)
        if names & set(re.findall(r"\w+", text))
    ]
    for name in ("diff.html.j2", "class.html.j2"):
        template = (ROOT / "templates" / name).read_text(encoding="utf-8")
        found += [f"{name}: {n}" for n in sorted(names) if n in template]
    assert found == []
    # the check can see a name: the section modules hold theirs
    assert "cpu_vs_gpu" in set(_string_constants(ROOT / "report/render/sections/cpu_vs_gpu.py"))
