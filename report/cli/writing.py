"""Writing a command's outputs, as render, diff and class all do: the PDF where this machine
can print one, every file all or nothing, one line per file written, and the one line that
says why there is no PDF."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from report.words import i18n


def add_pdf(files: dict[str, bytes | str], name: str, html: str, base: Path) -> str | None:
    """The PDF of `html` added to `files`; or why it could not be made (None: it was)."""
    from report.outputs.pdf import PdfUnavailable, html_to_pdf

    print(i18n._("rendering {file} …").format(file=name), file=sys.stderr, flush=True)
    try:
        files[name] = html_to_pdf(html, base)
    except PdfUnavailable as missing:
        return str(missing)
    return None


def write(out: Path, files: Mapping[str, bytes | str]) -> list[Path] | None:
    """Every file written, or none and one line saying why (None)."""
    from report.outputs.files import OutputError, write_all

    try:
        return write_all(out, files)
    except OutputError as error:
        print(i18n._("error: nothing written: {reason}").format(reason=error), file=sys.stderr)
        return None


def say_written(out: Path, written: list[Path]) -> None:
    """One line per file in the output folder; figures in a subfolder as one line."""
    for path in written:
        if path.parent == out:
            print(i18n._("written: {path}").format(path=path))
    figures = [p for p in written if p.parent != out]
    if figures:
        print(
            i18n._("written: {count} figures in {folder}").format(
                count=len(figures), folder=figures[0].parent
            )
        )


def say_no_pdf(message: str, reason: str, written: list[Path], out: Path) -> None:
    """Why there is no PDF, and where the complete HTML is (`message` has {reason}, {html})."""
    html = next((p for p in written if p.suffix == ".html"), out)
    print(message.format(reason=reason, html=html), file=sys.stderr)


def remove_stale(out: Path, written: list[Path], candidates: list[Path]) -> None:
    """Earlier outputs of the same page that this one did not write (the PDF of a run with
    --no-pdf, a figure of a plot this page no longer has): removed, so that the folder holds
    one page's files, not two pages' mixed."""
    kept = {path.resolve() for path in written}
    for path in candidates:
        if path.is_file() and path.resolve() not in kept:
            path.unlink(missing_ok=True)
