"""Loaded by the Windows lane's Python only (its `python311._pth` names this folder): a
workaround for a gap of Wine 8, not of Windows, kept out of the product.

Once torch's profiler (Kineto) has run in a process, Wine 8 never finishes that process's
exit: the results are written and Python's own shutdown completes, then the one thread left
waits forever in the DLL-detach path (gdb: NtWaitForAlertByThreadId; winedbg cannot attach,
"error 5"; `os._exit` hangs the same way). `TerminateProcess` on itself does end it, with
the code it is given. So in such a process the last exit handler flushes the standard
streams and ends the process with the code Python would have returned; every other process
exits as it would on Windows. step_overhead's operation count is the product's one use of
the profiler. The code is what `sys.exit` was given (the product's command lines end with
`sys.exit(main())`) or 1 after an uncaught exception; a profiling process that ended with
`raise SystemExit(n)` instead would exit 0, which no process of the lane does.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType, TracebackType
from typing import Any

_state: dict[str, Any] = {"code": 0, "profiled": False}


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1  # Python prints a non-integer exit argument and returns 1


def _recording_exit(code: object = None) -> None:
    _state["code"] = _exit_code(code)
    _original_exit(code)  # type: ignore[arg-type]


def _recording_excepthook(
    kind: type[BaseException], value: BaseException, trace: TracebackType | None
) -> None:
    _state["code"] = 1
    _original_excepthook(kind, value, trace)


def _end_profiled_process() -> None:
    if not _state["profiled"]:
        return
    import ctypes
    from ctypes import wintypes

    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    kernel = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    kernel.GetCurrentProcess.restype = wintypes.HANDLE
    kernel.TerminateProcess.argtypes = [wintypes.HANDLE, wintypes.UINT]
    kernel.TerminateProcess(kernel.GetCurrentProcess(), _state["code"] & 0xFFFFFFFF)


class _WatchProfiler(importlib.abc.MetaPathFinder):
    """Marks the process once torch's profiler prepares a trace: the one moment Kineto
    starts, whichever way (`profile`'s context or `start`) the profiler is used."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if name != "torch.profiler.profiler":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            prepare = module._KinetoProfile.prepare_trace

            def prepare_trace(self: Any) -> None:
                _state["profiled"] = True
                prepare(self)

            module._KinetoProfile.prepare_trace = prepare_trace

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_original_exit = sys.exit
_original_excepthook = sys.excepthook
if sys.platform == "win32":
    sys.exit = _recording_exit
    sys.excepthook = _recording_excepthook
    atexit.register(_end_profiled_process)  # registered first: runs last
    sys.meta_path.insert(0, _WatchProfiler())
