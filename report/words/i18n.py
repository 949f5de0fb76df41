"""The report's language: every sentence a reader sees goes through `_` here.

English is the source language (the messages themselves). Other languages are
gettext catalogues in `report/locale/<language>/LC_MESSAGES/`: `report.po`
for what the whole report shares and one `<experiment>.po` per experiment, so
adding an experiment adds its own catalogue and edits none. They are read with
Babel, the ecosystem's catalogue library; `python -m tools.catalogues`
extracts the messages and checks every translation.

The current language is a context variable, so two reports in two languages
can be rendered in one process.
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import os
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")
SOURCE_LANGUAGE = "en"
# What the HTML's lang attribute says: Simplified Chinese glyph shapes, not Japanese ones.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


class Catalogue(gettext.NullTranslations):
    """Translations read from .po files; an untranslated message falls back to English."""

    def __init__(self, messages: Mapping[str, str | tuple[str, ...]]) -> None:
        super().__init__()
        self._messages = dict(messages)

    def gettext(self, message: str) -> str:
        found = self._messages.get(message)
        return found if isinstance(found, str) and found else message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        found = self._messages.get(msgid1)
        if isinstance(found, tuple) and found and found[0]:
            # Chinese has one plural form; a language with more would pick by its rule here.
            return found[0]
        return msgid1 if n == 1 else msgid2


def catalogue_files(language: str) -> list[Path]:
    return sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The merged catalogues of one language (English needs none)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    from babel.messages.pofile import read_po

    messages: dict[str, str | tuple[str, ...]] = {}
    for path in catalogue_files(language):
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        for message in catalogue:
            if not message.id or message.fuzzy:
                continue
            key = str(message.id if isinstance(message.id, str) else message.id[0])
            text = message.string
            messages[key] = tuple(text) if isinstance(text, tuple | list) else str(text)
    return Catalogue(messages)


_current: ContextVar[gettext.NullTranslations | None] = ContextVar(
    "report_translations", default=None
)
_current_language: ContextVar[str] = ContextVar("report_language", default=SOURCE_LANGUAGE)
_SOURCE = gettext.NullTranslations()


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


# --------------------------------------------------------------------------
# Which language a user gets when they do not say


def language_from_locale(environ: Mapping[str, str], windows_ui_language: int | None) -> str:
    """Chinese where the user's locale is Chinese, else English.

    POSIX systems (Linux, macOS terminals) say it in LC_ALL, LC_MESSAGES, LANG or
    LANGUAGE (first set wins, as gettext reads them); Windows in the user's UI
    language id (primary language 0x04 is Chinese: 0x0804 zh-CN, 0x0404 zh-TW, …).
    """
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            first = value.split(":")[0].lower()
            return "zh" if first.startswith("zh") else "en"
    if windows_ui_language is not None and windows_ui_language & 0x3FF == 0x04:
        return "zh"
    return "en"


def _windows_ui_language() -> int | None:
    if sys.platform != "win32":
        return None
    try:
        import ctypes

        windll = getattr(ctypes, "windll")  # noqa: B009  (Windows only; mypy runs elsewhere)
        return int(windll.kernel32.GetUserDefaultUILanguage())
    except (OSError, AttributeError):
        return None


def resolve(requested: str) -> str:
    """`auto` (the default of every command) becomes the user's locale's language."""
    if requested == "auto":
        return language_from_locale(os.environ, _windows_ui_language())
    if requested not in LANGUAGES:
        raise ValueError(f"unknown language {requested!r}; choose auto, {', '.join(LANGUAGES)}")
    return requested
