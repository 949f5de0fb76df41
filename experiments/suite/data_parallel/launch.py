"""Run torchrun as a child process and never wait on it unboundedly.

torchrun starts in a session of its own. Its stdout is read line by line:
progress goes to the caller, a rank's failure line is kept. The launch ends
when torchrun exits, when a rank has reported a failure and torchrun has not
exited within a grace period, or at the deadline; on every path whatever is
left of its process tree is killed (`Tree`: every process seen below it, and
its session's process group). torchrun's stderr (its log, the workers'
tracebacks) goes to a file, whose lines explain a failure without a worker's
own report (a worker killed by a signal).

`python -m experiments.suite.data_parallel.launch` is the command a second
machine runs to join a coordinator's run (README: "Data parallelism on two machines").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from experiments.suite.data_parallel import Config, plan
from experiments.suite.data_parallel.plan import ERROR_PREFIX, PREFIX

WORKER = Path(__file__).resolve().with_name("worker.py")


class LaunchFailed(RuntimeError):
    """The launch ended without a result; the message says how (a line for the result file)."""


@dataclass
class Outcome:
    returncode: int | None  # None: killed at the deadline or after a failure
    wall_s: float
    startup_s: float | None  # until the first line from a worker
    errors: list[dict[str, object]] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the OS picks it), for a rendezvous on this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def local_address(host: str, port: int) -> str:
    """This machine's address on the route to the coordinator (no packet is sent)."""
    if plan.is_loopback(host):
        return "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as route:
        route.connect((host, port))
        return str(route.getsockname()[0])


def interfaces() -> dict[str, list[str]]:
    return {
        name: [a.address for a in addresses] for name, addresses in psutil.net_if_addrs().items()
    }


def environment(threads: int, address: str) -> dict[str, str]:
    """The workers' environment: one explicit thread count (torchrun would set 1 itself, with a
    warning), and gloo bound to the interface of `address` unless the user chose one."""
    env = {**plan.platform_environment(platform.system()), **os.environ}
    env["OMP_NUM_THREADS"] = str(threads)
    # the workers' lines are read as UTF-8, whatever the console's code page (GBK, cp1252)
    env["PYTHONIOENCODING"] = "utf-8"
    interface = plan.interface_for(address, interfaces())
    if interface and "GLOO_SOCKET_IFNAME" not in env:
        env["GLOO_SOCKET_IFNAME"] = interface
    return env


class Tree:
    """The launcher and every process seen below it while it ran. Remembering them matters: a
    worker whose launcher has died is an orphan that no tree walk from the launcher finds."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, psutil.Process] = {}
        with contextlib.suppress(psutil.Error):
            self.seen[pid] = psutil.Process(pid)
        self.refresh()

    def refresh(self) -> None:
        root = self.seen.get(self.pid)
        if root is None:
            return
        with contextlib.suppress(psutil.Error):
            for child in root.children(recursive=True):
                self.seen.setdefault(child.pid, child)

    def kill(self) -> None:
        """SIGKILL all of them (a stopped process dies too): the ones seen, by process id
        (psutil refuses a reused id), and the launcher's session's process group."""
        self.refresh()
        for process in self.seen.values():
            with contextlib.suppress(psutil.Error):
                process.kill()
        if hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(map(_alive, self.seen.values())):
            time.sleep(0.02)


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (a killed orphan stays one until its new parent reaps it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _take(
    line: str | None, outcome: Outcome, progress: Callable[[str], None], started: float
) -> bool:
    """Handle one line of the workers' stdout; True if it reports a failure."""
    if line is None:  # end of output
        return False
    if outcome.startup_s is None:
        outcome.startup_s = time.perf_counter() - started
    if line.startswith(ERROR_PREFIX):
        try:
            outcome.errors.append(json.loads(line[len(ERROR_PREFIX) :]))
        except ValueError:
            outcome.errors.append({"rank": "?", "error": line[len(ERROR_PREFIX) :]})
        return True
    if line.startswith(PREFIX):
        progress(line)
    return False


def run(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout_s: float,
    grace_s: float,
    progress: Callable[[str], None],
) -> Outcome:
    """Run one launcher to its end, within `timeout_s`; see the module's docstring."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        process = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        assert process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        outcome = Outcome(None, 0.0, None)
        failed_at: float | None = None
        tree = Tree(process.pid)
        try:
            while True:
                tree.refresh()
                now = time.perf_counter()
                if now - started > timeout_s or (failed_at and now - failed_at > grace_s):
                    break
                if process.poll() is not None:
                    reader.join(timeout=grace_s)  # the rest of what the workers wrote
                    while not lines.empty():
                        _take(lines.get_nowait(), outcome, progress, started)
                    outcome.returncode = process.returncode
                    break
                with contextlib.suppress(queue.Empty):
                    if _take(lines.get(timeout=0.1), outcome, progress, started):
                        failed_at = failed_at or time.perf_counter()
        finally:
            tree.kill()
            process.wait()
            reader.join(timeout=5)
            process.stdout.close()
        outcome.wall_s = time.perf_counter() - started
        log.seek(0)
        outcome.log_tail = log.read().splitlines()[-40:]
    failure = why(outcome, timeout_s)
    if failure is not None:
        if outcome.log_tail:
            print("torchrun's log, last lines:", *outcome.log_tail, sep="\n  ", file=sys.stderr)
        raise LaunchFailed(failure)
    return outcome


def root_cause(log: Sequence[str]) -> tuple[str, str, str] | None:
    """(rank, exit code, what happened) from the "Root Cause" block torchrun prints when a
    worker fails, e.g. ("1", "-9", "Signal 9 (SIGKILL)") for a killed worker."""
    start = next((i for i, line in enumerate(log) if "Root Cause" in line), None)
    if start is None:
        return None
    fields: dict[str, str] = {}
    for line in log[start:]:
        name, sep, value = line.strip().partition(":")
        if sep and name.strip() in ("rank", "exitcode", "traceback"):
            fields.setdefault(name.strip(), value.strip())
    rank = fields.get("rank", "?").split(" ")[0]
    exitcode = fields.get("exitcode", "?").split(" ")[0]
    cause = re.sub(r" received by PID \d+", "", fields.get("traceback", ""))
    return rank, exitcode, cause


def why(outcome: Outcome, timeout_s: float) -> str | None:
    """Why a launch failed, one line (None if it did not). A worker killed by a signal cannot
    say so itself: torchrun's root cause names it, and the others' errors are only its
    consequence (torchrun stops them with SIGTERM). Otherwise a worker's own error says most."""
    cause = root_cause(outcome.log_tail)
    if cause is not None and cause[2].startswith("Signal"):
        return f"worker_died: rank {cause[0]}, s{cause[2][1:]}"  # "signal 9 (SIGKILL)"
    own = [e for e in outcome.errors if not str(e["error"]).startswith("SignalException")]
    if own or outcome.errors:
        first = (own or outcome.errors)[0]
        return f"worker_failed: rank {first['rank']}: {first['error']}"
    if any(line.rstrip().endswith("RendezvousTimeoutError") for line in outcome.log_tail):
        return "rendezvous_timeout: not every machine joined within the join timeout"
    if outcome.returncode is None:
        return f"launch_timeout: no result within {timeout_s:g} s"
    if outcome.returncode != 0:
        last = outcome.log_tail[-1].strip() if outcome.log_tail else "no output"
        return f"launcher_failed: torchrun exited with {outcome.returncode}: {last}"
    return None


def _capacities(threads: int) -> dict[str, int]:
    """This machine's processes by kind of device (torch is imported for the GPU count only
    here: it takes seconds, and a joining machine that is told its process count needs none)."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return {"cpu": (psutil.cpu_count(logical=False) or 1) // threads, "cuda": gpus}


def main(argv: Sequence[str] | None = None) -> int:
    """Join a coordinator's data-parallel run from this machine (see the README)."""
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="python -m experiments.suite.data_parallel.launch",
        description="Join the data_parallel experiment that a coordinator machine runs "
        "(python -m experiments --only data_parallel --set data_parallel.nnodes=N "
        "--set data_parallel.rdzv_endpoint=HOST:PORT).",
    )
    parser.add_argument("--nnodes", type=int, required=True, help="machines in the run")
    parser.add_argument("--rdzv-endpoint", required=True, help="the coordinator's HOST:PORT")
    parser.add_argument("--nproc-per-node", type=int, default=0, help="0: one per core/GPU")
    parser.add_argument("--rdzv-id", default=defaults.rdzv_id)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--join-timeout-s", type=int, default=defaults.join_timeout_s)
    parser.add_argument("--collective-timeout-s", type=int, default=defaults.collective_timeout_s)
    parser.add_argument("--launch-timeout-s", type=int, default=defaults.launch_timeout_s)
    parser.add_argument("--shutdown-timeout-s", type=int, default=defaults.shutdown_timeout_s)
    args = parser.parse_args(argv)
    host, port = plan.parse_endpoint(args.rdzv_endpoint)
    address = local_address(host, port)
    nproc = args.nproc_per_node or plan.nproc_per_node(_capacities(args.threads))
    with tempfile.TemporaryDirectory(prefix="data-parallel-") as scratch:
        command = plan.launcher_command(
            sys.executable,
            nnodes=args.nnodes,
            nproc=nproc,
            endpoint=args.rdzv_endpoint,
            rdzv_id=args.rdzv_id,
            join_timeout_s=args.join_timeout_s,
            shutdown_timeout_s=args.shutdown_timeout_s,
            is_host=False,
            local_addr=address,
            system=platform.system(),
            log_dir=Path(scratch),
            worker=WORKER,
            worker_args=["--collective-timeout-s", str(args.collective_timeout_s)],
        )
        print(" ".join(command), file=sys.stderr)
        print(
            f"joining the coordinator at {args.rdzv_endpoint} (waiting up to "
            f"{args.join_timeout_s} s for it) with {nproc} process(es)",
            file=sys.stderr,
        )
        # SIGTERM ends this process through `run`'s cleanup, as Ctrl-C does: torchrun sits in
        # a session of its own and would otherwise outlive it
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        try:
            run(
                command,
                environment(args.threads, address),
                timeout_s=args.launch_timeout_s,
                grace_s=args.shutdown_timeout_s + 2,
                progress=lambda line: print(line, file=sys.stderr),
            )
        except LaunchFailed as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print("done: the coordinator wrote the results", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
