"""The PDF is optional equipment: WeasyPrint needs Pango, a system library that Windows, a Mac
or a minimal Linux may lack. Without it the HTML and Markdown are still written, and one line
says how to install Pango on this system (from WeasyPrint's own installation guide)."""

from __future__ import annotations

import contextlib
import io
import logging
import platform
from pathlib import Path
from types import ModuleType

from report.words.i18n import _


class PdfUnavailable(Exception):
    """No PDF backend on this machine; the text is the one line a user sees."""


def install_advice(system: str, distribution_ids: tuple[str, ...] = ()) -> str:
    """How to get Pango (what WeasyPrint needs) on this operating system."""
    if system == "Windows":
        return _(
            "install MSYS2 (https://www.msys2.org), run `pacman -S mingw-w64-ucrt-x86_64-pango` "
            "in its UCRT64 shell, then in PowerShell "
            '`$env:WEASYPRINT_DLL_DIRECTORIES="C:\\msys64\\ucrt64\\bin"`'
        )
    if system == "Darwin":
        return _(
            "install Pango with Homebrew: `brew install pango` (on Apple silicon, also "
            "`export DYLD_FALLBACK_LIBRARY_PATH=/opt/homebrew/lib`)"
        )
    if any(d in ("fedora", "rhel", "centos") for d in distribution_ids):
        return _("install Pango: `sudo dnf install pango`")
    if any(d in ("debian", "ubuntu") for d in distribution_ids):
        return _(
            "install Pango: `sudo apt install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0`"
        )
    return _("install Pango 1.44 or newer with your system's package manager")


def _distribution_ids() -> tuple[str, ...]:
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return ()
    ids = [release.get("ID", ""), *release.get("ID_LIKE", "").split()]
    return tuple(i for i in ids if i)


def backend() -> ModuleType:
    """WeasyPrint, or PdfUnavailable saying what is missing and how to install it here."""
    banner = io.StringIO()
    try:
        # Where a library is missing, WeasyPrint prints a banner of its own before it raises;
        # the one line below says the same and what to do on this system.
        with contextlib.redirect_stdout(banner), contextlib.redirect_stderr(banner):
            import weasyprint
    except (OSError, ImportError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise PdfUnavailable(
            _("no PDF: WeasyPrint cannot load its system libraries ({error}); {advice}").format(
                error=first_line, advice=install_advice(platform.system(), _distribution_ids())
            )
        ) from None
    # WeasyPrint logs every CSS property it ignores at WARNING; the CSS is print-first,
    # so only errors are worth a user's attention.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    module: ModuleType = weasyprint
    return module


def html_to_pdf(html: str, base_url: Path) -> bytes:
    """The page printed on A4 (raises PdfUnavailable where there is no backend)."""
    weasyprint = backend()
    pdf = weasyprint.HTML(string=html, base_url=str(base_url)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
