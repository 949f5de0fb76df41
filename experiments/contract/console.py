"""What the console can show: both command lines print through streams set up here.

A Windows console window shows any character (Python writes UTF-16 to it), but
once output is redirected (a pipe, a file, an IDE's or nox's capture) Python
encodes it in the ANSI code page: cp936 on a Chinese Windows, which has every
Chinese character, cp1252 on a Western one, which has none. Python's default
there is to crash on stdout (UnicodeEncodeError) and to print `\\u6b63\\u5728`
on stderr. Neither helps a reader, so the streams replace what they cannot
encode (with a near equivalent where one exists, "μs" for "µs" in GBK, else "?"),
and a command whose messages are translated asks `can_show`
first and speaks English where the console cannot show its language. Files are
never affected: they are always UTF-8.
"""

from __future__ import annotations

import codecs
import io
import sys
from typing import TextIO

# Characters the reports print that a code page may lack, with what to show instead, best
# first: GBK has the Greek mu but not the micro sign, cp1252 the other way round; neither
# has the narrow spaces between a number and its unit.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "\u00b5": ("\u03bc", "u"),  # micro sign
    "\u03bc": ("\u00b5", "u"),  # Greek mu
    "\u00a0": (" ",),
    "\u2009": (" ",),
    "\u202f": (" ",),
    "\u2212": ("-",),  # minus
    "\u2013": ("-",),
    "\u2014": ("-",),
    "\u00d7": ("x",),
    "\u2248": ("~",),
    "\u2264": ("<=",),
    "\u2265": (">=",),
    "\u2026": ("...",),
}
ERRORS = "console_fallback"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    shown = []
    for char in error.object[error.start : error.end]:
        shown.append(
            next((c for c in FALLBACKS.get(char, ()) if can_encode_in(c, error.encoding)), "?")
        )
    return "".join(shown), error.end


codecs.register_error(ERRORS, _fallback)


def can_encode_in(text: str, encoding: str) -> bool:
    try:
        codecs.encode(text, encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def tolerant(stream: TextIO | None) -> None:
    """The stream shows a near equivalent or "?" for what its encoding lacks, instead of
    failing (stdout) or printing `\\u` escapes (stderr)."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors=ERRORS)


def tolerant_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        tolerant(stream)


def can_encode(text: str, stream: TextIO | None) -> bool:
    """Whether `stream` can show every character of `text` (a stream that names no encoding
    is taken to be Unicode, as in-memory streams are)."""
    encoding = getattr(stream, "encoding", None) if stream is not None else None
    return can_encode_in(text, encoding) if encoding else True


def can_show(text: str) -> bool:
    """Whether both stdout and stderr can show `text`."""
    return can_encode(text, sys.stdout) and can_encode(text, sys.stderr)
