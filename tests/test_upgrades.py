"""Version 1 files read as version 2: on the shipped fixtures (real v1 data of every
experiment), and for every sentence version 1 could write."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from experiments.contract import format as rf
from experiments.contract.upgrades import UPGRADES
from report.diff.compare import diff, load_inputs
from report.render.load import load_run
from report.render.page import render_html
from tests.conftest import V1_FIXTURES

V1_RUNS = sorted(run for label in V1_FIXTURES.iterdir() for run in label.iterdir())
OLD_QUICK = next((V1_FIXTURES / "old-quick").iterdir())


def test_the_shipped_fixtures_are_version_1_on_disk() -> None:
    files = [f for run in V1_RUNS for f in run.glob("*.json")]
    assert len(files) == 5 + 5 + 8  # three runs: two of five files, one of eight
    assert {json.loads(f.read_text(encoding="utf-8"))["schema_version"] for f in files} == {1}


@pytest.mark.parametrize("run", V1_RUNS, ids=lambda p: p.parent.name)
def test_every_v1_fixture_file_reads_as_the_current_version(run: Path) -> None:
    loaded = load_run(run)
    documents = [loaded.manifest, loaded.environment, *loaded.experiments.values()]
    assert {d["schema_version"] for d in documents} == {rf.SCHEMA_VERSION}
    for document in loaded.experiments.values():
        assert "title" not in document and "device_names" not in document


@pytest.mark.slow
def test_a_v1_run_of_every_experiment_renders() -> None:
    html = render_html(load_run(OLD_QUICK))
    assert "nan" not in html.lower().replace("nanosecond", "")
    assert "CUDA graphs need a CUDA device" in html  # a v1 error text, now a worded reason


def _v1(name: str) -> dict[str, Any]:
    return dict(json.loads((OLD_QUICK / name).read_text(encoding="utf-8")))


def test_v1_sentences_become_identifiers() -> None:
    step = UPGRADES[1](_v1("step_overhead.json"))
    cuda_graph = next(
        v for v in step["data"]["per_device"][0]["variants"] if v["variant"] == "cuda_graph"
    )
    assert cuda_graph["unsupported"] == {"code": "needs_cuda"}
    assert all("description" not in v for v in step["data"]["per_device"][0]["variants"])

    batch = UPGRADES[1](_v1("batch_size_scaling.json"))["data"]
    assert batch["data_source"] == {"kind": "synthetic", "path": None}
    assert batch["quality"]["widths"] == [64, 64, 10] and "model" not in batch["quality"]
    assert batch["quality"]["dataset"]["name"] == "digits"

    mixed = UPGRADES[1](_v1("mixed_precision.json"))["data"]["per_device"][0]["workloads"]
    assert [w["data_source"]["kind"] for w in mixed] == ["synthetic", "iris", "digits"]

    iris = UPGRADES[1](_v1("cpu_vs_gpu.json"))["data"]["iris"]["model"]
    assert iris == {"widths": [4, 10, 3], "parameters": 83}

    environment = UPGRADES[1](_v1("environment.json"))
    assert environment["unavailable"] == [
        {"source": "gpu", "code": "torch_cpu_build", "detail": None}
    ]


def test_the_old_noise_rule_is_marked_as_such() -> None:
    """Version 1 changed the meaning of exceeds_noise without a version: files with a p-value
    used the Kruskal–Wallis test, files without one the spread rule."""
    current = _v1("logging_interval.json")
    verdict = UPGRADES[1](current)["data"]["per_device"][0]["notes_intervals"]
    assert verdict["rule"] == "kruskal_wallis"
    older = copy.deepcopy(current)
    for entry in older["data"]["per_device"]:
        del entry["notes_intervals"]["p_value"], entry["notes_intervals"]["alpha"]
    verdict = UPGRADES[1](older)["data"]["per_device"][0]["notes_intervals"]
    assert verdict["rule"] == "spread_over_2sd"
    assert (
        verdict["exceeds_noise"]
        == current["data"]["per_device"][0]["notes_intervals"]["exceeds_noise"]
    )


@pytest.mark.parametrize(
    ("text", "record"),
    [
        (
            "too slow on this device: one step took 5.80 s, so its runs would take about "
            "232 s (limit 60 s)",
            {"code": "too_slow", "step_s": 5.8, "projected_s": 232.0, "limit_s": 60.0},
        ),
        ("RuntimeError: CUDA graphs need a CUDA device", {"code": "needs_cuda"}),
        (
            "TypeError: fused=True needs CUDA",
            {"code": "error", "error": "TypeError: fused=True needs CUDA"},
        ),
    ],
)
def test_v1_reasons(text: str, record: dict[str, Any]) -> None:
    document = _v1("mixed_precision.json")
    document["data"]["per_device"][0]["workloads"][0]["modes"][1]["unsupported"] = text
    upgraded = UPGRADES[1](document)
    assert upgraded["data"]["per_device"][0]["workloads"][0]["modes"][1]["unsupported"] == record


@pytest.mark.parametrize(
    ("text", "record"),
    [
        (
            "Intel Core 12th generation, i9 tier",
            {"line": "intel_core", "generation": 12, "tier": "i9"},
        ),
        ("Ryzen 5000 series, Ryzen 7 tier", {"line": "ryzen", "generation": 5000, "tier": "7"}),
        (
            "Intel Core Ultra series 1, Ultra 7 tier",
            {"line": "intel_core_ultra", "generation": 1, "tier": "7"},
        ),
        ("Apple M2 generation Pro", {"line": "apple", "generation": "M2", "tier": "Pro"}),
        (None, None),
    ],
)
def test_v1_cpu_generations(text: str | None, record: dict[str, Any] | None) -> None:
    from experiments.core.hardware_names import cpu_generation

    document = _v1("environment.json")
    document["cpu"]["generation"] = text
    assert UPGRADES[1](document)["cpu"]["generation"] == record
    # the probe of today writes the same record for the same CPU
    names = {
        "intel_core": "12th Gen Intel(R) Core(TM) i9-12900KF",
        "ryzen": "AMD Ryzen 7 5800X 8-Core Processor",
        "intel_core_ultra": "Intel(R) Core(TM) Ultra 7 155H",
        "apple": "Apple M2 Pro",
    }
    if record:
        assert cpu_generation(names[record["line"]]) == record


def test_the_upgrade_does_not_change_the_input_and_a_bad_v1_file_is_one_line(
    tmp_path: Path,
) -> None:
    original = _v1("cpu_vs_gpu.json")
    frozen = copy.deepcopy(original)
    UPGRADES[1](original)
    assert original == frozen
    broken = copy.deepcopy(original)
    broken["data"]["iris"]["model"]["description"] = "a small network"
    path = tmp_path / "cpu_vs_gpu.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(rf.ResultFormatError, match="cannot upgrade from version 1"):
        rf.read_document(path)


def test_the_format_history_names_every_version() -> None:
    assert {version for version, _ in rf.HISTORY} == set(range(1, rf.SCHEMA_VERSION + 1))
    assert set(UPGRADES) == set(range(1, rf.SCHEMA_VERSION))


def test_the_diff_of_v1_fixtures_reads_them_upgraded() -> None:
    idle = next((V1_FIXTURES / "fixture-machine-a").iterdir())
    busy = next((V1_FIXTURES / "fixture-machine-b-busy").iterdir())
    result = diff(load_inputs([idle, busy]))
    names = [row.name for row in result.rows[1]][:2]
    assert names == ["Iris loop, per epoch, cpu", "step at N = 16, cpu"]
    assert not result.drift[1].measured  # v1 runs had no reference workload


def test_version_2_timings_become_one_chunk_per_repeat() -> None:
    """The v2→v3 step: what v2 read once per repeat is one chunk, exactly as measured."""
    document = load_run(next((V1_FIXTURES / "fixture-machine-a").iterdir())).experiments
    iris = document["cpu_vs_gpu"]["data"]["iris"]
    entry = iris["per_device"][0]
    assert entry["chunk_epochs"] == iris["epochs"]
    assert entry["chunk_epoch_s"] == [t / iris["epochs"] for t in entry["times_s"]]
    for variant in document["step_overhead"]["data"]["per_device"][0]["variants"]:
        assert variant["chunk_step_s"] == variant["step_s"]
    for point in document["cpu_vs_gpu"]["data"]["crossover"]["per_device"][0]["points"]:
        assert point["each_step_s"] == point["step_s"]
    quick = load_run(OLD_QUICK).experiments
    for point in quick["batch_size_scaling"]["data"]["per_device"][0]["points"]:
        assert point["chunk_step_s"] == [t / point["steps"] for t in point["epoch_s"]]
        assert len(point["chunk_step_s"]) == len(point["epoch_s"]) >= 1
    for entry in quick["logging_interval"]["data"]["per_device"]:
        assert entry["direct"] is None  # not measured before version 3: not made up
