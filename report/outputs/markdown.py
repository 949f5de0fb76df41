"""The report as Markdown, for notes kept in Typora, Obsidian, a blog or GitHub.

It is made from the report's own HTML (the same sections, tables and words,
no second set of templates to keep in step): headings, paragraphs, lists,
tables (pipe tables, header first; merged header cells are spelled out),
callouts as quotes, and each figure written as an SVG file in `figures/`
next to the Markdown, linked relatively so every viewer finds it.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from report.outputs.escaping import markdown_code, markdown_text

INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}
SKIPPED = {"style", "script", "head", "title"}


def _edge(text: str, at_end: bool) -> int:
    """How many characters at one end of an emphasised run are spaces or punctuation."""
    count = 0
    characters = reversed(text) if at_end else iter(text)
    for character in characters:
        if not (character.isspace() or unicodedata.category(character).startswith("P")):
            break
        count += 1
    return count


def emphasised(delimiter: str, content: str) -> str:
    """`content` between delimiters, with its leading and trailing spaces and punctuation
    outside them: Markdown opens "**" only before a non-space, and next to punctuation only
    where a space or punctuation is on the other side, so "**Status: **ok", "**状态：**未完成"
    and "和**（4）激活值**" would show their asterisks. A run of punctuation alone ("?")
    stays as it is."""
    lead, trail = _edge(content, False), _edge(content, True)
    if lead + trail >= len(content):
        return f"{delimiter}{content}{delimiter}" if content.strip() else content
    core = content[lead : len(content) - trail]
    return f"{content[:lead]}{delimiter}{core}{delimiter}{content[len(content) - trail :]}"


@dataclass
class _Table:
    rows: list[list[str]] = field(default_factory=list)
    header_rows: int = 0
    in_head: bool = False
    row: list[str] | None = None
    cell: list[str] | None = None
    span: int = 1
    # (row index, column) -> text carried down by a rowspan
    carried: dict[tuple[int, int], str] = field(default_factory=dict)


class _Converter(HTMLParser):
    def __init__(self, figure_name: str, figure_dir: str) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.text: list[str] = []
        self.figures: dict[str, bytes] = {}
        self.figure_name = figure_name
        self.figure_dir = figure_dir
        self.section = "report"
        self.skip = 0
        self.list_depth = 0
        self.quote = False
        self.table: _Table | None = None
        self.caption: list[str] | None = None
        self.image: tuple[str, str] | None = None
        self.code = 0  # inside <code>: text stays as it is
        # where each open inline element's text starts: (the list it goes to, its index)
        self.opened: list[tuple[list[str], int]] = []
        self.skipping: list[str] = []  # the open tags whose content is left out

    # -- text ---------------------------------------------------------------
    def _sink(self) -> list[str]:
        if self.caption is not None:
            return self.caption
        if self.table is not None and self.table.cell is not None:
            return self.table.cell
        return self.text

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = markdown_code(data) if self.code else markdown_text(data)
        self._sink().append(re.sub(r"\s+", " ", text))

    def _flush(self, prefix: str = "") -> None:
        text = "".join(self.text).strip()
        self.text = []
        if text:
            self.blocks.append(prefix + text)

    # -- tags ---------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in SKIPPED or "running-title" in (attributes.get("class") or ""):
            self.skip += 1
            self.skipping.append(tag)
            return
        if self.skip:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
                self.skip += 1
            return
        if tag == "section" and attributes.get("id"):
            self.section = str(attributes["id"])
        elif tag in ("h1", "h2", "h3", "p", "dt", "dd"):
            self._flush()
        elif tag == "div":
            self._flush()
            self.quote = self.quote or "callout" in (attributes.get("class") or "")
        elif tag == "ul":
            self._flush()
            self.list_depth += 1
        elif tag == "li":
            self._flush()
        elif tag == "br":
            self._sink().append(" ")
        elif tag in INLINE:
            sink = self._sink()
            self.opened.append((sink, len(sink)))
            self.code += tag == "code"
        elif tag == "table":
            self._flush()
            self.table = _Table()
        elif tag == "thead" and self.table:
            self.table.in_head = True
        elif tag == "tr" and self.table:
            self.table.row = []
        elif tag in ("td", "th") and self.table:
            self.table.cell = []
            self.table.span = int(attributes.get("colspan") or 1)
            rowspan = int(attributes.get("rowspan") or 1)
            if rowspan > 1 and self.table.row is not None:
                self.table.carried[(len(self.table.rows) + 1, len(self.table.row))] = ""
        elif tag == "figure":
            self._flush()
        elif tag == "img":
            self.image = (str(attributes.get("src") or ""), str(attributes.get("alt") or ""))
        elif tag == "figcaption":
            self.caption = []

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skipping[-1]:
                self.skipping.pop()
                self.skip -= 1
            return
        if tag in ("h1", "h2", "h3"):
            self._flush("#" * int(tag[1]) + " ")
        elif tag in ("p", "dd"):
            self._flush("> " if self.quote else "")
        elif tag == "dt":
            text = "".join(self.text).strip()
            self.text = []
            if text:
                self.blocks.append(f"**{text}**")
        elif tag == "div" and self.quote:
            self._flush("> ")
            self.quote = False
        elif tag == "li":
            self._flush("  " * (self.list_depth - 1) + "- ")
        elif tag == "ul":
            self.list_depth -= 1
        elif tag in INLINE:
            sink, start = self.opened.pop() if self.opened else (self._sink(), len(self._sink()))
            content = "".join(sink[start:])
            delimiter = INLINE[tag]
            sink[start:] = [
                f"{delimiter}{content}{delimiter}"
                if tag == "code"
                else emphasised(delimiter, content)
            ]
            self.code -= tag == "code"
        elif tag in ("td", "th") and self.table and self.table.cell is not None:
            text = "".join(self.table.cell).strip().replace("\n", " ")
            assert self.table.row is not None
            self.table.row.extend([text] * self.table.span)
            self.table.cell = None
        elif tag == "tr" and self.table and self.table.row is not None:
            row = self.table.row
            for (index, column), text in sorted(self.table.carried.items()):
                if index == len(self.table.rows):
                    row.insert(column, text)
            self.table.rows.append(row)
            if self.table.in_head:
                self.table.header_rows += 1
            self.table.row = None
        elif tag == "thead" and self.table:
            self.table.in_head = False
        elif tag == "table" and self.table:
            self.blocks.append(_pipe_table(self.table))
            self.table = None
        elif tag == "figcaption" and self.caption is not None:
            caption = "".join(self.caption).strip()
            self.caption = None
            self._figure(caption)

    def _figure(self, caption: str) -> None:
        if not self.image:
            return
        source, alt = self.image
        self.image = None
        if not source.startswith("data:image/svg+xml;base64,"):
            return
        number = sum(1 for name in self.figures if name.startswith(f"{self.section}-")) + 1
        name = self.figure_name.format(section=self.section, number=number)
        self.figures[name] = base64.b64decode(source.split(",", 1)[1])
        self.blocks.append(f"![{markdown_text(alt)}]({self.figure_dir}/{name})")
        if caption:
            self.blocks.append(f"*{caption}*")


def _pipe_table(table: _Table) -> str:
    if not table.rows:
        return ""
    width = max(len(r) for r in table.rows)
    rows = [r + [""] * (width - len(r)) for r in table.rows]
    heads = max(1, table.header_rows)
    # Several header rows (a grouped header) become one: the words of each column joined.
    header = [
        " ".join(dict.fromkeys(cell for r in rows[:heads] if (cell := r[column])))
        for column in range(width)
    ]
    body = rows[heads:] if table.header_rows else rows[1:]
    if not table.header_rows:
        header = rows[0]

    def line(cells: list[str]) -> str:
        # a pipe in a code span still ends a cell; text pipes are escaped already
        return "| " + " | ".join(re.sub(r"(?<!\\)\|", r"\\|", c) or " " for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * width, *(line(r) for r in body)])


def from_html(
    html: str, figure_name: str, figure_dir: str = "figures"
) -> tuple[str, dict[str, bytes]]:
    """The Markdown of a rendered report and its figures ({file name: SVG bytes}).

    `figure_name` is a pattern with {section} and {number}, e.g. "{section}-{number}.svg".
    """
    converter = _Converter(figure_name, figure_dir)
    converter.feed(html)
    converter.close()
    converter._flush()
    text = "\n\n".join(block for block in converter.blocks if block.strip())
    text = re.sub(r"\*\*\s*\*\*", "", text)
    return text.strip() + "\n", converter.figures
