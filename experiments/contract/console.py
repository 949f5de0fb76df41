"""What the console can show: both command lines print through streams set up here.

A Windows console window shows any character (Python writes UTF-16 to it), but
once output is redirected (a pipe, a file, an IDE's or nox's capture) Python
encodes it in the ANSI code page: cp936 on a Chinese Windows, which has every
Chinese character, cp1252 on a Western one, which has none. Python's default
there is to crash on stdout (UnicodeEncodeError) and to print `\\u6b63\\u5728`
on stderr. Neither helps a reader, so the streams replace what they cannot
encode (a "?"), and a command whose messages are translated asks `can_show`
first and speaks English where the console cannot show its language. Files are
never affected: they are always UTF-8.
"""

from __future__ import annotations

import codecs
import io
import sys
from typing import TextIO


def tolerant_streams() -> None:
    """stdout and stderr replace what their encoding lacks instead of failing or escaping."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def can_encode(text: str, stream: TextIO | None) -> bool:
    """Whether `stream` can show every character of `text` (a stream that names no encoding
    is taken to be Unicode, as in-memory streams are)."""
    encoding = getattr(stream, "encoding", None) if stream is not None else None
    if not encoding:
        return True
    try:
        codecs.encode(text, encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def can_show(text: str) -> bool:
    """Whether both stdout and stderr can show `text`."""
    return can_encode(text, sys.stdout) and can_encode(text, sys.stderr)
