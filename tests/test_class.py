"""The class view: a messy shared folder of real runs becomes one page, machines are told
apart and merged as they should be, nothing incomparable is ranked together, and every
"slower" or "faster" is the diff's own decision."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt

from experiments.contract import format as rf
from report import cli
from report.classview import group, rank
from report.classview.collect import collect
from report.diff.compare import DiffResult, diff, load_input
from report.diff.stats import CANNOT_TELL, FASTER, SLOWER, WITHIN_DRIFT, WITHIN_NOISE
from report.words.i18n import using
from tests.conftest import FIXTURES, V1_FIXTURES
from tests.html_text import read, text_of

CLASS = FIXTURES.parent / "class"
LABELS = sorted(p.name for p in CLASS.iterdir() if p.is_dir())


def _only(label: str) -> Path:
    (run,) = sorted((CLASS / label).iterdir())
    return run


def _runs(label: str) -> list[Path]:
    return sorted((CLASS / label).iterdir())


@pytest.fixture(scope="module")
def shared_drive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The class fixture as a shared drive holds it, with what such a drive also holds: the
    three fixture runs, a version-1 run, a copy of a run under another name, a run with one
    corrupt experiment file, another tool's run.json and a file that is not a run at all."""
    drive = tmp_path_factory.mktemp("drive") / "results"
    shutil.copytree(CLASS, drive)
    for source in (FIXTURES, V1_FIXTURES / "old-quick"):
        for run in (p for p in source.rglob("run.json")):
            target = drive / run.parent.parent.name / run.parent.name
            shutil.copytree(run.parent, target)
    shutil.copytree(_only("张三的笔记本"), drive / "zhangsan-copy" / "20261206T000000Z")
    broken = drive / "laptop-broken" / "20261206T000001Z"
    shutil.copytree(_only("laptop-zhang"), broken)
    text = (broken / "step_overhead.json").read_text(encoding="utf-8")
    (broken / "step_overhead.json").write_text(text[: len(text) // 2], encoding="utf-8")
    manifest = json.loads((broken / "run.json").read_text(encoding="utf-8"))
    manifest["run_id"] = broken.name  # another run of that laptop, not a copy
    (broken / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    foreign = drive / "somebody-elses-tool" / "run1"
    foreign.mkdir(parents=True)
    (foreign / "run.json").write_text('{"name": "a training run", "epochs": 3}', encoding="utf-8")
    (drive / "notes.txt").write_text("bring the USB stick", encoding="utf-8")
    return drive


def test_the_fixture_class_holds_what_the_issue_asks_for() -> None:
    """At least 12 run folders in all, made by the product on this machine (see README)."""
    folders = [p.parent for p in CLASS.rglob("run.json")]
    profiles = {rf.read_document(f / "run.json")["profile"] for f in folders}
    statuses = {rf.read_document(f / "run.json")["status"] for f in folders}
    assert len(folders) >= 9 and {"quick", "smoke"} <= profiles and "incomplete" in statuses
    assert len(_runs("lab-pc-1")) == 2


def test_collect_keeps_what_it_can_and_names_what_it_leaves_out(shared_drive: Path) -> None:
    collected = collect([shared_drive, shared_drive / "nowhere"])
    left_out = {
        p.path.relative_to(shared_drive).as_posix()
        if p.path.is_relative_to(shared_drive)
        else p.path.name: p.reason
        for p in collected.problems
    }
    assert left_out.keys() == {
        "nowhere",
        "laptop-broken/20261206T000001Z/step_overhead.json",
        "somebody-elses-tool/run1/run.json",
    }
    assert "not valid JSON" in left_out["laptop-broken/20261206T000001Z/step_overhead.json"]
    assert "schema_version" in left_out["somebody-elses-tool/run1/run.json"]
    broken = next(
        r
        for r in collected.runs
        if r.manifest["label"] == "laptop-zhang" and "laptop-broken" in str(r.directory)
    )
    assert "step_overhead" not in broken.experiments and "cpu_vs_gpu" in broken.experiments
    (copy,) = collected.copies
    assert copy.path.parent.name == "zhangsan-copy" and copy.of.parent.name == "张三的笔记本"
    assert {p.parent.name for p in collected.upgraded} == {"old-quick"}
    assert collected.searched == len(collected.runs) + len(collected.copies) + 1


def _environment(model: str, gpus: list[str]) -> dict[str, Any]:
    return {
        "cpu": {"model": model, "physical_cores": 4, "logical_threads": 8},
        "memory": {"total_bytes": 16 << 30},
        "gpus": [{"name": name, "total_memory_bytes": 8 << 30} for name in gpus],
        "os": {"system": "Windows"},
    }


class _Run:
    """Enough of a RunResults for naming and grouping."""

    def __init__(self, label: str, started: str, environment: dict[str, Any], profile: str):
        self.manifest = {
            "label": label,
            "run_id": started,
            "started_utc": started,
            "profile": profile,
        }
        self.environment = environment
        self.directory = Path(f"/drive/{label}/{started}")
        self.experiments: dict[str, Any] = {}


def test_machines_are_a_label_and_its_hardware() -> None:
    laptop = _environment("Intel Core i7-12700H", ["NVIDIA GeForce RTX 3060 Laptop GPU"])
    desktop = _environment("AMD Ryzen 7 5800X", ["NVIDIA GeForce RTX 3080"])
    runs: Any = [
        _Run("gaming-laptop", "2026-12-01T10:00:00Z", laptop, "default"),
        _Run("gaming-laptop", "2026-12-02T10:00:00Z", laptop, "default"),  # run again
        _Run("gaming-laptop", "2026-12-03T10:00:00Z", desktop, "default"),  # another machine
        _Run("lab", "2026-12-01T09:00:00Z", desktop, "quick"),
    ]
    names = group.machine_names(runs)
    assert sorted(names.values()) == ["gaming-laptop", "gaming-laptop (2)", "lab"]
    cohorts = group.cohorts(runs, names, mine=runs[2].directory)
    assert [c.profile for c in cohorts] == ["default", "quick"]  # never ranked together
    default = {m.label: m for m in cohorts[0].machines}
    assert len(default["gaming-laptop"].runs) == 2 and not default["gaming-laptop"].mine
    assert default["gaming-laptop (2)"].mine
    anonymous = group.machine_names(runs, "Machine {letter}")
    assert sorted(anonymous.values()) == ["Machine A", "Machine B", "Machine C"]
    assert group._letters(25) == "Z" and group._letters(26) == "AA" and group._letters(701) == "ZZ"


@pytest.fixture(scope="module")
def result(shared_drive: Path) -> rank.ClassResult:
    collected = collect([shared_drive])
    names = group.machine_names(collected.runs)
    cohorts = group.cohorts(collected.runs, names)
    with using("en"):
        return rank.build(collected, cohorts)


def _cohort(result: rank.ClassResult, profile: str) -> rank.CohortView:
    return next(c for c in result.cohorts if c.cohort.profile == profile)


def _experiment(cohort: rank.CohortView, name: str) -> rank.ExperimentView:
    return next(e for e in cohort.experiments if e.name == name)


def test_runs_of_other_profiles_and_settings_are_ranked_apart(result: rank.ClassResult) -> None:
    quick = _cohort(result, "quick")
    assert [c.cohort.profile for c in result.cohorts] == ["quick", "smoke"]
    machines = {m.label: m for m in quick.cohort.machines}
    assert len(machines["lab-pc-1"].runs) == 2  # one machine, run twice
    assert "ci-runner" not in machines  # smoke: its own cohort
    groups = _experiment(quick, "cpu_vs_gpu").groups
    main_labels = {m.label for m, _runs in groups[0].group.members}
    apart = [g for g in groups[1:] if any(m.label == "laptop-zhang" for m, _ in g.group.members)]
    assert "laptop-zhang" not in main_labels and apart
    assert any(d.startswith("threads: 2 vs 1") for d in apart[0].group.differs)
    # the same settings elsewhere: laptop-zhang ranks with the others in step_overhead
    step = _experiment(quick, "step_overhead").groups[0]
    assert "laptop-zhang" in {m.label for m, _runs in step.group.members}


@pytest.mark.slow
def test_every_verdict_is_the_diffs_own(result: rank.ClassResult) -> None:
    """Each comparison with the class median gives the ratio, p and threshold that
    `nox -s diff` gives for the same two runs (its family is the page, so only the adjusted
    p differs), and the page's family is corrected as one."""
    checked = 0
    diffs: dict[tuple[Path, Path], DiffResult] = {}
    for cohort in result.cohorts:
        for experiment in cohort.experiments:
            for view in experiment.groups:
                for ranking in view.rankings:
                    median = ranking.median
                    for figure in ranking.figures:
                        if figure.comparison is None or median is None:
                            continue
                        assert len(figure.runs) == 1 and len(median.runs) == 1  # latest only
                        runs = (median.runs[0].directory, figure.runs[0].directory)
                        if runs not in diffs:
                            diffs[runs] = diff([load_input(path) for path in runs], force=True)
                        assert figure.metric is not None
                        key = figure.metric.key
                        (row,) = [r for r in diffs[runs].rows[1] if r.metric.key == key]
                        mine, theirs = figure.comparison, row.comparison
                        assert mine.ratio == pytest.approx(theirs.ratio, rel=1e-12)
                        assert mine.p_value == pytest.approx(theirs.p_value, rel=1e-9)
                        assert mine.threshold == pytest.approx(theirs.threshold, rel=1e-12)
                        if mine.adjusted_p is not None and mine.p_value is not None:
                            assert mine.adjusted_p >= mine.p_value
                        checked += 1
    assert checked >= 10
    verdicts = {c.verdict for c in result.comparisons}
    assert verdicts <= {SLOWER, FASTER, WITHIN_NOISE, WITHIN_DRIFT, CANNOT_TELL}
    assert result.tested == sum(1 for c in result.comparisons if c.adjusted_p is not None)


def test_the_planted_slowdown_is_found_and_nothing_else_is_called_slower() -> None:
    """The class fixture is one machine under eight labels: laptop-wang ran with every timed
    region stretched 1.5× (a planted slowdown), laptop-li beside a process spinning on the
    second core. laptop-wang comes last where the notes' loop and step are ranked and is the
    only machine called slower (where the 1.5× clears this machine's drift); no run of the
    same idle machine is called slower or faster anywhere."""
    collected = collect([CLASS])
    with using("en"):
        result = rank.build(
            collected, group.cohorts(collected.runs, group.machine_names(collected.runs))
        )
    rankings = {
        r.key: r for e in _cohort(result, "quick").experiments for r in e.groups[0].rankings
    }
    for key in ("iris/cpu", "notes/cpu", "fastest/cpu"):
        assert rankings[key].figures[-1].machine.label == "laptop-wang", key
    called = {
        (f.machine.label, f.comparison.verdict)
        for c in result.cohorts
        for e in c.experiments
        for g in e.groups
        for r in g.rankings
        for f in r.figures
        if f.comparison is not None and f.comparison.verdict in (SLOWER, FASTER)
    }
    assert called == {("laptop-wang", SLOWER)}


@pytest.mark.slow
def test_the_page_renders_in_both_languages(shared_drive: Path, tmp_path: Path) -> None:
    mine = _only("张三的笔记本")
    for language in ("en", "zh"):
        out = tmp_path / language
        args = ["class", str(shared_drive), "--out", str(out), "--no-pdf", "--lang", language]
        assert cli.main([*args, "--mine", str(shared_drive / "张三的笔记本" / mine.name)]) == 0
        tail = "" if language == "en" else ".zh"
        html = (out / f"class{tail}.html").read_text(encoding="utf-8")
        page = read(html)
        assert {"quick", "smoke", "read", "how"} <= page.texts.keys()
        assert "quick-cpu_vs_gpu" in page.texts and "quick-data_parallel" in page.texts
        visible = re.sub(r"data:[^\"')\s]*", "", html).lower()
        assert "nan" not in visible.replace("nanoseconds", "")
        assert html.count('class="mine"') >= 8  # the machines table and every ranking
        assert "laptop-broken" in text_of(html, "read") and "zhangsan-copy" in text_of(html, "read")
        source = (out / f"class{tail}.md").read_text(encoding="utf-8")
        rendered = MarkdownIt("commonmark").enable("table").render(source)
        for image in re.findall(r'<img src="([^"]+)"', rendered):
            assert (out / image).read_bytes().startswith(b"<?xml")
        assert "**" not in re.sub(r"<code>.*?</code>", "", rendered)
    chinese = (tmp_path / "zh" / "class.zh.html").read_text(encoding="utf-8")
    # the reader's own one-line reasons stay as written (as code), like a program's error
    shown = re.sub(r"<(style|code)\b.*?</\1>", " ", chinese, flags=re.DOTALL)
    words = re.sub(r"<[^>]+>|[A-Za-z0-9_.-]*[-_/][A-Za-z0-9_./-]*", " ", shown)
    english = re.findall(r"\b[a-z]+ [a-z]+ [a-z]+ [a-z]+\b", words)
    assert english == []


def test_class_json_and_anonymous_sharing(shared_drive: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared"
    args = ["class", str(shared_drive), "--out", str(out), "--no-pdf", "--anonymize"]
    assert cli.main([*args, "--lang", "en"]) == 0
    document = json.loads((out / "class.json").read_text(encoding="utf-8"))
    assert (document["schema_version"], document["kind"]) == (1, "class")
    everything = "".join(p.read_text(encoding="utf-8") for p in out.glob("class*"))
    for label in ("lab-pc-1", "laptop-zhang", "张三的笔记本", "fixture-machine-a"):
        assert label not in everything
    names = {m["name"] for c in document["cohorts"] for m in c["machines"]}
    assert names and all(re.fullmatch(r"Machine [A-Z]+", n) for n in names)
    verdicts = [
        f
        for c in document["cohorts"]
        for e in c["experiments"]
        for g in e["groups"]
        for figure in g["figures"]
        for f in figure["ranked"]
        if "verdict" in f
    ]
    assert verdicts and all(f["threshold"] >= 1.05 for f in verdicts)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--alpha", "2"], "--alpha 2.0"),
        (["--mine", "nowhere"], "not a run folder"),
    ],
)
def test_bad_options_stop_before_anything_is_written(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli.main(["class", str(FIXTURES), "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_a_folder_without_runs_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["class", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run folder" in err


@pytest.mark.slow
def test_the_pdf_is_written(tmp_path: Path) -> None:
    out = tmp_path / "pdf"
    assert cli.main(["class", str(FIXTURES), "--out", str(out), "--lang", "zh"]) == 0
    assert (out / "class.zh.pdf").read_bytes().startswith(b"%PDF-")


def test_what_a_hostile_drive_holds_is_named_or_merged(tmp_path: Path) -> None:
    """Links to folders followed, a run.json that is a folder or a dangling link named, an
    unknown profile refused (it would name files), a damaged copy of a run still one run,
    a real label that looks like a second machine's name never shared."""
    drive = tmp_path / "drive"
    shutil.copytree(_only("laptop-li"), drive / "laptop-li" / "run")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(_only("laptop-wang"), elsewhere / "run")
    (drive / "linked").symlink_to(elsewhere, target_is_directory=True)
    (drive / "loop").mkdir()
    (drive / "loop" / "back").symlink_to(drive, target_is_directory=True)
    (drive / "folder-run" / "run.json").mkdir(parents=True)
    (drive / "dangling").mkdir()
    (drive / "dangling" / "run.json").symlink_to(tmp_path / "nothing")
    profiled = drive / "profiled"
    shutil.copytree(_only("张三的笔记本"), profiled)
    manifest = json.loads((profiled / "run.json").read_text(encoding="utf-8"))
    manifest["profile"] = "../../escape"
    (profiled / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    damaged = drive / "usb" / "copy"
    shutil.copytree(_only("laptop-li"), damaged)
    (damaged / "memory_breakdown.json").write_text("{", encoding="utf-8")
    renamed = drive / "renamed"
    shutil.copytree(_only("lab-pc-3"), renamed)
    manifest = json.loads((renamed / "run.json").read_text(encoding="utf-8"))
    manifest["label"] = "laptop-li (2)"
    (renamed / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    collected = collect([drive])
    left_out = {p.path.relative_to(drive).as_posix(): p.reason for p in collected.problems}
    assert {"folder-run/run.json", "dangling/run.json", "profiled/run.json"} <= left_out.keys()
    assert "is not a profile of this tool" in left_out["profiled/run.json"]
    labels = sorted(r.manifest["label"] for r in collected.runs)
    assert labels == ["laptop-li", "laptop-li (2)", "laptop-wang"]  # the link followed once
    (copy,) = collected.copies
    assert copy.path.parent.name == "usb" or copy.of.parent.name == "usb"
    names = group.machine_names(collected.runs)
    assert len(set(names.values())) == len(names) == 3


@pytest.mark.slow
def test_an_anonymous_page_names_no_folder_and_old_outputs_go(tmp_path: Path) -> None:
    drive = tmp_path / "results"
    shutil.copytree(_only("laptop-li"), drive / "laptop-li" / "run")
    shutil.copytree(_runs("lab-pc-1")[0], drive / "lab-pc-1" / "run")
    shutil.copytree(_only("laptop-li"), drive / "laptop-li-backup" / "run")
    broken = drive / "lab-pc-1" / "run" / "step_overhead.json"
    broken.unlink()
    broken.symlink_to(broken)  # a link to itself: "Too many levels of symbolic links: '/…'"
    out = tmp_path / "out"
    args = ["class", str(drive), str(tmp_path / "secret-folder"), "--out", str(out)]
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "old-plot.svg").write_text("<svg/>", encoding="utf-8")
    (out / "class.pdf").write_bytes(b"%PDF- an earlier page")
    assert cli.main([*args, "--no-pdf", "--anonymize", "--lang", "en"]) == 0
    assert not (out / "class.pdf").exists() and not (out / "figures" / "old-plot.svg").exists()
    everything = "".join(p.read_text(encoding="utf-8") for p in out.glob("class*"))
    for secret in ("laptop-li", "lab-pc-1", "secret-folder", str(tmp_path)):
        assert secret not in everything, secret
    assert "step_overhead.json" in everything  # what was left out is still said


def _relabelled(source: Path, target: Path, label: str) -> None:
    shutil.copytree(source, target)
    manifest = json.loads((target / "run.json").read_text(encoding="utf-8"))
    manifest["label"] = label
    (target / "run.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.slow
def test_labels_and_paths_from_a_stranger_cannot_break_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A label with TeX dollars or control characters, a run.json whose kind is a list, an
    anonymous Chinese page: the page is written, its figures are well-formed SVG, and
    class.json names machines the same in every language."""
    drive = tmp_path / "drive"
    _relabelled(_only("laptop-li"), drive / "a" / "run", "$\\frac{$ x\x1b[31m")
    _relabelled(_only("laptop-zhang"), drive / "b" / "run", "   ")
    _relabelled(_only("laptop-wang"), drive / "c" / "run", "wang")
    odd = drive / "d" / "run"
    _relabelled(_only("张三的笔记本"), odd, "odd")
    text = (odd / "run.json").read_text(encoding="utf-8")
    (odd / "run.json").write_text(text.replace('"kind": "run"', '"kind": ["run"]'), "utf-8")
    out = tmp_path / "out"
    assert cli.main(["class", str(drive), "--out", str(out), "--no-pdf", "--lang", "zh"]) == 0
    assert "d/run/run.json：field 'kind'" in capsys.readouterr().err.replace("\\", "/")
    for svg in (out / "figures").glob("*.svg"):
        ElementTree.parse(svg)  # well-formed: no raw control character in a label
    html = (out / "class.zh.html").read_text(encoding="utf-8")
    assert "\x1b" not in html and "\\x1b" in html and "unlabelled" in html
    assert (
        cli.main(
            ["class", str(drive), "--out", str(out), "--anonymize", "--lang", "zh", "--no-pdf"]
        )
        == 0
    )
    document = json.loads((out / "class.json").read_text(encoding="utf-8"))
    names = {m["name"] for c in document["cohorts"] for m in c["machines"]}
    assert names == {"Machine A", "Machine B", "Machine C"}
    assert "机器 A" in (out / "class.zh.html").read_text(encoding="utf-8")
    assert cli.main(["class", "/dev/null", "--out", str(tmp_path / "x")]) == 2
    with pytest.raises(SystemExit) as stopped:  # argparse's own exit for a bad argument
        cli.main(["class", "", "--out", str(tmp_path / "x")])
    assert stopped.value.code == 2 and "an empty path" in capsys.readouterr().err
