"""The report's language: every sentence a reader sees goes through `_` here.

English is the source language (the messages themselves); other languages are
gettext catalogues. The current language is a context variable, so two
reports in two languages can be rendered in one process.
"""

from __future__ import annotations

import contextlib
import gettext
from collections.abc import Iterator
from contextvars import ContextVar

LANGUAGES = ("en",)
DEFAULT_LANGUAGE = "en"

_SOURCE = gettext.NullTranslations()  # the messages themselves: English
_current: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "report_translations", default=None
)
_current_language: ContextVar[str] = ContextVar("report_language", default=DEFAULT_LANGUAGE)


def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of one language (English needs none: its messages are the source)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    return gettext.NullTranslations()


@contextlib.contextmanager
def using(language: str) -> Iterator[None]:
    """Render in `language` inside the block."""
    token = _current.set(translations(language))
    token_language = _current_language.set(language)
    try:
        yield
    finally:
        _current.reset(token)
        _current_language.reset(token_language)


def language() -> str:
    return _current_language.get()


def _catalogue() -> gettext.NullTranslations:
    return _current.get() or _SOURCE


def _(message: str) -> str:
    """The message in the current language."""
    return _catalogue().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _catalogue().ngettext(singular, plural, count)
