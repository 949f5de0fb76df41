"""`python -m tools.catalogues update|check`: the translation catalogues, kept complete.

Messages are extracted with Babel from the Python sources (`_("…")`, `N_("…")`,
`ngettext`) and the Jinja templates (`{{ _("…") }}`, `{% trans %}` blocks), one
domain per experiment (its declaration, section module and partial) and one,
`report`, for everything shared. `update` merges them into every language's
catalogue, keeping existing translations; `check` lists every message that
lacks a translation, is fuzzy or obsolete, or whose placeholders differ from
the English. The test suite runs `check`.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from experiments.contract import declaration
from report.words.i18n import LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
SHARED = "report"


def domain_sources() -> dict[str, list[Path]]:
    """Which files each catalogue's messages come from."""
    domains: dict[str, list[Path]] = {}
    owned: set[Path] = set()
    for name in declaration.names():
        sections = ROOT / "report" / "render" / "sections"
        files = [
            ROOT / "experiments" / "suite" / name / "__init__.py",
            sections / f"{name}.py",
            *sorted(sections.glob(f"{name}_*.py")),  # a long section's parts
            ROOT / "templates" / "sections" / f"{name}.html.j2",
        ]
        domains[name] = [f for f in files if f.is_file()]
        owned.update(files)
    shared = [
        *sorted((ROOT / "report").rglob("*.py")),
        *sorted((ROOT / "templates").rglob("*.j2")),
    ]
    domains[SHARED] = [f for f in shared if f not in owned]
    return domains


def _extract_file(path: Path) -> Iterator[tuple[int, str | tuple[str, ...]]]:
    method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
    options = {} if path.suffix == ".py" else JINJA_OPTIONS
    for lineno, message, _comments, _context in extract_from_file(
        method, str(path), keywords=KEYWORDS, options=options
    ):
        yield lineno, message


def extract(files: Sequence[Path]) -> Catalog:
    template = Catalog(project="gpu-study-report", fuzzy=False)
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message in _extract_file(path):
            template.add(message, locations=[(relative, lineno)])
    return template


def _po_path(language: str, domain: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def _read(path: Path, language: str) -> Catalog:
    if not path.exists():
        return Catalog(locale=language, project="gpu-study-report", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def update() -> list[Path]:
    """Merge the extracted messages into every catalogue (new ones empty, obsolete dropped)."""
    written = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        for domain, files in domain_sources().items():
            path = _po_path(language, domain)
            catalogue = _read(path, language)
            template = extract(files)
            catalogue.update(template, no_fuzzy_matching=True)
            catalogue.obsolete.clear()
            buffer = io.BytesIO()
            write_po(
                buffer,
                catalogue,
                width=100,
                omit_header=False,
                sort_output=False,
                include_lineno=False,  # line numbers churn on every edit of the source
            )
            before = path.read_bytes() if path.exists() else b""
            if _without_date(buffer.getvalue()) == _without_date(before):
                continue  # only the creation date would change: leave the file alone
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(buffer.getvalue())
            written.append(path)
    return written


def _without_date(po: bytes) -> bytes:
    return re.sub(rb'"POT-Creation-Date: [^"]*"', b"", po)


_BRACES = re.compile(r"\{(\w*)[^{}]*\}")
_PERCENT = re.compile(r"%\((\w+)\)[sdfr]")
_TAGS = re.compile(r"</?([a-z0-9]+)[^>]*>")


def _placeholders(text: str) -> tuple[list[str], list[str], list[str]]:
    return (
        sorted(_BRACES.findall(text)),
        sorted(_PERCENT.findall(text)),
        sorted(_TAGS.findall(text)),
    )


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def check() -> list[str]:
    """Every problem with the catalogues, one line each (an empty list: all complete)."""
    problems = []
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        seen: dict[str, tuple[str, str]] = {}
        for domain, files in domain_sources().items():
            path = _po_path(language, domain)
            where = path.relative_to(ROOT)
            if not path.exists():
                problems.append(f"{where}: missing (run: python -m tools.catalogues update)")
                continue
            catalogue = _read(path, language)
            expected = {m.id for m in extract(files) if m.id}
            present = {m.id for m in catalogue if m.id}
            for message_id in sorted(map(str, expected - present)):
                problems.append(f"{where}: not in the catalogue: {message_id!r}")
            for message_id in sorted(map(str, present - expected)):
                problems.append(f"{where}: obsolete: {message_id!r}")
            for message in catalogue:
                if not message.id:
                    continue
                english = _texts(message.id)
                translated = _texts(message.string)
                label = english[0][:60]
                if message.fuzzy or not all(t.strip() for t in translated):
                    problems.append(f"{where}: untranslated: {label!r}")
                    continue
                for text in translated:
                    if _placeholders(text) != _placeholders(english[-1]):
                        problems.append(f"{where}: placeholders or tags differ: {label!r}")
                key = english[0]
                if key in seen and seen[key][0] != translated[0]:
                    problems.append(
                        f"{where}: {label!r} is translated differently in {seen[key][1]}"
                    )
                seen.setdefault(key, (translated[0], domain))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.catalogues",
        description="Extract the report's messages into the translation catalogues "
        "(update) or list what is missing (check).",
    )
    parser.add_argument("command", choices=("update", "check"))
    args = parser.parse_args(argv)
    if args.command == "update":
        for path in update():
            print(f"updated: {path.relative_to(ROOT)}")
    problems = check()
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
