"""No call of an API that only one platform has, outside a check of the platform.

Windows' Python has no `os.fchmod` (before 3.13), `os.getloadavg`, `fcntl`, `os.killpg` or
`signal.SIGKILL`; POSIX has no `msvcrt` or `signal.SIGBREAK`. Such a call passes every
test on the platform that has it and crashes on the other, so the product and report
code is read here: each use must sit under a platform check (`sys.platform`, `os.name`,
`platform.system()`), a `hasattr`/`getattr` test, an early return from one, or a `try`
that catches the ImportError/AttributeError. The Windows lane (`nox -s windows`) runs the
code; this test keeps a new unguarded call from reaching it in the first place.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("experiments", "report")

# module -> attributes that exist on one platform only
ONE_PLATFORM_ATTRIBUTES = {
    "os": {
        "fchmod", "fchown", "chown", "lchown", "getloadavg", "killpg", "getpgid", "setpgid",
        "setsid", "getsid", "setpgrp", "fork", "forkpty", "getuid", "geteuid", "getgid",
        "getegid", "setuid", "setgid", "getgroups", "sched_getaffinity", "sched_setaffinity",
        "sched_setscheduler", "sched_getscheduler", "sysconf", "pathconf", "statvfs",
        "fstatvfs", "uname", "wait3", "wait4", "mkfifo", "mknod", "nice", "getpriority",
        "setpriority", "openpty", "ttyname", "startfile", "posix_fadvise", "pipe2",
    },
    "signal": {
        "SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGSTOP",
        "SIGCONT", "SIGPIPE", "SIGTSTP", "alarm", "setitimer", "getitimer", "pause",
        "pthread_kill", "pthread_sigmask", "sigwait", "siginterrupt", "SIGBREAK",
        "CTRL_C_EVENT", "CTRL_BREAK_EVENT",
    },
    "time": {"clock_gettime", "clock_settime", "tzset", "pthread_getcpuclockid"},
    "ctypes": {"windll", "WinDLL", "oledll", "WinError", "FormatError"},
}  # fmt: skip
ONE_PLATFORM_MODULES = {
    "fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "posix", "syslog", "crypt",
    "msvcrt", "winreg", "_winapi", "winsound", "nt",
}  # fmt: skip
GUARD_EXCEPTIONS = {"ImportError", "ModuleNotFoundError", "AttributeError", "OSError"}


def _is_platform_test(test: ast.expr) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and (
            (
                isinstance(node.value, ast.Name)
                and node.value.id == "sys"
                and node.attr == "platform"
            )
            or (isinstance(node.value, ast.Name) and node.value.id == "os" and node.attr == "name")
        ):
            return True
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id in ("hasattr", "getattr"):
                return True
            if (
                isinstance(function, ast.Attribute)
                and function.attr == "system"
                and isinstance(function.value, ast.Name)
                and function.value.id == "platform"
            ):
                return True
    return False


def _ends_the_block(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue | ast.Break)


def _catches_absence(handlers: list[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        kinds = handler.type
        names = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds] if kinds else []
        if any(isinstance(name, ast.Name) and name.id in GUARD_EXCEPTIONS for name in names):
            return True
    return False


def _one_platform_use(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.attr in ONE_PLATFORM_ATTRIBUTES.get(node.value.id, ())
    ):
        return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] in ONE_PLATFORM_MODULES:
                return f"import {alias.name}"
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module.split(".")[0] in ONE_PLATFORM_MODULES:
            return f"from {node.module} import …"
        found = ONE_PLATFORM_ATTRIBUTES.get(node.module, set())
        names = [alias.name for alias in node.names if alias.name in found]
        if names:
            return f"from {node.module} import {', '.join(names)}"
    return None


def unguarded_uses(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each one-platform API used outside a platform guard."""

    def visit(node: ast.AST, guarded: bool) -> Iterator[tuple[int, str]]:
        if not guarded:
            use = _one_platform_use(node)
            if use is not None:
                yield getattr(node, "lineno", 0), use
        if isinstance(node, ast.If | ast.IfExp | ast.While) and _is_platform_test(node.test):
            yield from visit(node.test, guarded)
            for part in (node.body, node.orelse):
                for child in part if isinstance(part, list) else [part]:
                    yield from visit(child, True)
            return
        if isinstance(node, ast.Try) and _catches_absence(node.handlers):
            for child in node.body:
                yield from visit(child, True)
            for handler in node.handlers:
                yield from visit(handler, guarded)
            for child in [*node.orelse, *node.finalbody]:
                yield from visit(child, guarded)
            return
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield from visit_block(value, guarded)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        yield from visit(item, guarded)
            elif isinstance(value, ast.AST):
                yield from visit(value, guarded)

    def visit_block(body: list[ast.stmt], guarded: bool) -> Iterator[tuple[int, str]]:
        for statement in body:
            yield from visit(statement, guarded)
            # `if sys.platform == "win32": …; return` guards what follows it
            if (
                isinstance(statement, ast.If)
                and _is_platform_test(statement.test)
                and (_ends_the_block(statement.body) or _ends_the_block(statement.orelse))
            ):
                guarded = True

    yield from visit(ast.parse(source), False)


def _sources() -> list[Path]:
    return sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ("import os\nos.fchmod(3, 0o644)\n", ["os.fchmod"]),
        ("import os\nx = [round(v) for v in os.getloadavg()]\n", ["os.getloadavg"]),
        ("import fcntl\n", ["import fcntl"]),
        ("from signal import SIGKILL\n", ["from signal import SIGKILL"]),
        ("import os, signal\ndef f(pid):\n    os.killpg(pid, signal.SIGKILL)\n",
         ["os.killpg", "signal.SIGKILL"]),
        ("import msvcrt\n", ["import msvcrt"]),
        ("import sys, os\nif sys.platform != 'win32':\n    os.fchmod(3, 0o644)\n", []),
        ("import sys\nif sys.platform == 'win32':\n    import msvcrt\nelse:\n    import fcntl\n",
         []),
        ("import os, signal\nif hasattr(os, 'killpg'):\n    os.killpg(1, signal.SIGKILL)\n", []),
        ("import os\nn = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') "
         "else 1\n", []),
        ("import sys\ndef f():\n    if sys.platform == 'win32':\n        return 0\n"
         "    import fcntl\n    return 1\n", []),
        ("import sys\ndef f():\n    if sys.platform == 'win32':\n        x = 0\n"
         "    import fcntl\n", ["import fcntl"]),
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n", []),
        ("try:\n    import fcntl\nexcept ValueError:\n    pass\n", ["import fcntl"]),
        ("import platform, os\nif platform.system() == 'Linux':\n"
         "    os.sched_setaffinity(0, {0})\n", []),
    ],
)  # fmt: skip
def test_the_reader_tells_guarded_from_unguarded(snippet: str, found: list[str]) -> None:
    assert [use for _, use in unguarded_uses(snippet)] == found


def test_no_one_platform_api_outside_a_platform_guard() -> None:
    sources = _sources()
    assert len(sources) > 50  # the folders were found
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {use}"
        for path in sources
        for line, use in unguarded_uses(path.read_text(encoding="utf-8"))
    ]
    assert problems == []
