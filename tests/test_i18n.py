"""Two languages, one report: complete catalogues, the same numbers in both, Chinese text that
draws everywhere (HTML, PDF, plots) on a machine without CJK fonts, Markdown for notes."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from experiments.core import runner
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress
from report import cli
from report.outputs import fonts, markdown
from report.render.load import load_run
from report.render.page import render_html
from report.words import i18n
from tools import catalogues
from tools import fonts as font_subsets

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_has_a_checked_translation() -> None:
    assert catalogues.check() == []


def test_chinese_text_uses_full_width_punctuation() -> None:
    """,:;?! next to a Chinese character are the full-width forms (,:;?!)."""
    from babel.messages.pofile import read_po

    half_width = re.compile("[\u4e00-\u9fff][,:;?!]|[,:;?!][\u4e00-\u9fff]")
    found = []
    for path in i18n.catalogue_files("zh"):
        with path.open("rb") as handle:
            for message in read_po(handle):
                strings = message.string
                text = strings if isinstance(strings, str) else (list(strings or [""]) or [""])[0]
                found += [f"{path.name}: {m.group()!r}" for m in half_width.finditer(text or "")]
    assert found == []


def test_the_shipped_fonts_draw_every_catalogue_character() -> None:
    """If a translation gains a character the shipped subsets lack, rebuild them:
    python -m tools.fonts build NotoSansCJK-Regular.ttc NotoSansCJK-Bold.ttc"""
    text = "".join(font_subsets.catalogue_characters())
    for face in (*fonts.CATALOGUE_FACES.values(), fonts.FULL_FACE):
        covered = fonts.coverage(face)
        assert {c for c in text if CJK.match(c) and ord(c) not in covered} == set(), face.name
    assert {
        c for c in font_subsets.gb2312_level_1() if ord(c) not in fonts.coverage(fonts.FULL_FACE)
    } == set()


def test_the_language_follows_the_locale_when_not_given() -> None:
    assert i18n.language_from_locale({"LANG": "zh_CN.UTF-8"}, None) == "zh"
    assert i18n.language_from_locale({"LANG": "en_US.UTF-8"}, None) == "en"
    assert i18n.language_from_locale({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US"}, None) == "zh"
    assert i18n.language_from_locale({"LANG": "C.UTF-8"}, 0x0804) == "zh"  # Windows, zh-CN
    assert i18n.language_from_locale({}, 0x0409) == "en"  # Windows, en-US
    assert i18n.language_from_locale({}, None) == "en"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.resolve("fr")


def _visible_numbers(html: str) -> Counter[str]:
    html = re.sub(r"<style>.*?</style>|<img [^>]*>|<code>.*?</code>", " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return Counter(re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text))


def test_both_languages_place_the_same_numbers(smoke_report: Path) -> None:
    english = (smoke_report / "report.html").read_text(encoding="utf-8")
    chinese = (smoke_report / "report.zh.html").read_text(encoding="utf-8")
    assert 'lang="zh-Hans"' in chinese and 'lang="en"' in english
    assert _visible_numbers(english) == _visible_numbers(chinese)
    assert len(CJK.findall(chinese)) > 3000 and not CJK.search(english)


def test_no_section_of_a_real_run_falls_back_to_the_cannot_be_shown_box(
    smoke_report: Path,
) -> None:
    """render turns a section builder's crash into that box so the rest stands; a builder
    that crashed on every run would otherwise pass unseen."""
    english = (smoke_report / "report.html").read_text(encoding="utf-8")
    chinese = (smoke_report / "report.zh.html").read_text(encoding="utf-8")
    assert "cannot be shown" not in english and "无法显示" not in chinese
    assert english.count('<section id="') == chinese.count('<section id="') > 7


def test_a_chinese_report_has_no_english_sentence_left(smoke_report: Path) -> None:
    html = (smoke_report / "report.zh.html").read_text(encoding="utf-8")
    html = re.sub(r"<style>.*?</style>|<img [^>]*>|<code>.*?</code>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "\n", html)
    english = [
        line.strip()
        for line in text.splitlines()
        if re.search(r"\b[a-z]+ [a-z]+ [a-z]+ [a-z]+\b", line) and not CJK.search(line)
    ]
    assert english == []


def test_markdown_links_resolve_and_every_table_has_a_header(smoke_report: Path) -> None:
    for name in ("report.md", "report.zh.md"):
        source = (smoke_report / name).read_text(encoding="utf-8")
        html = MarkdownIt("commonmark").enable("table").render(source)
        images = re.findall(r'<img src="([^"]+)"', html)
        assert len(images) >= 10
        for image in images:
            assert (smoke_report / image).is_file(), image
            assert (smoke_report / image).read_bytes().startswith(b"<?xml")
        tables = html.count("<table>")
        assert tables >= 10 and html.count("<thead>") == tables
        assert "## " in source and "\x00" not in source


@pytest.mark.parametrize(
    ("html", "strong"),
    [
        ("<p><strong>Status: </strong>incomplete</p>", "Status"),
        ("<p><strong>状态：</strong>未完成</p>", "状态"),
        ("<p>a <strong>SLOWER </strong> <em>x</em></p>", "SLOWER"),
        ("<p>1 ms <strong>?</strong> CV 3 %</p>", "?"),
        ("<p>和<strong>（4）激活值</strong>与批量</p>", "4）激活值"),
        ("<p><strong>Figure 2.</strong> The caption</p>", "Figure 2"),
    ],
)
def test_bold_labels_stay_bold_in_markdown(html: str, strong: str) -> None:
    """A label's trailing space and punctuation go outside the closing ** ("**Status: **" and
    "**状态：**未完成" do not close in Markdown)."""
    text, _figures = markdown.from_html(html, "{section}-{number}.svg")
    assert f"<strong>{strong}</strong>" in MarkdownIt("commonmark").render(text)


@pytest.fixture(scope="module")
def chinese_named_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run labelled 实验室电脑 on devices whose names contain Chinese."""
    results = tmp_path_factory.mktemp("cjk")
    run_dir, manifest, environment, configs = runner.start_run(
        results, profile="smoke", only=["logging_interval"], label="实验室电脑"
    )
    devices = [CpuDevice("测试用 CPU 型号"), SimulatedDevice("中文显卡 RTX 龘")]
    runner.execute(run_dir, manifest, environment, configs, devices, Progress(enabled=False))
    return run_dir


def test_a_chinese_label_and_device_name_show_as_themselves(chinese_named_run: Path) -> None:
    assert chinese_named_run.parent.name == "实验室电脑"
    assert runner.slug("实验室电脑") != runner.slug("实验室平板")
    for language in ("en", "zh"):
        html = render_html(load_run(chinese_named_run), language)  # warnings are errors here
        assert "实验室电脑" in html and "测试用 CPU 型号" in html and "中文显卡 RTX 龘" in html
        # every Chinese character has a glyph: the shipped subsets, or a subset of the full
        # face embedded for this report (龘 is in neither: it is named, never a silent box)
        assert fonts.missing(html) == {"龘"}
    assert "Noto Sans CJK SC Extra" in render_html(load_run(chinese_named_run), "en")


def test_a_chinese_pdf_renders(chinese_named_run: Path, tmp_path: Path) -> None:
    from report.outputs.pdf import PdfUnavailable, backend

    try:
        backend()
    except PdfUnavailable as missing:  # Windows without GTK: the lane checks exit 3 instead
        pytest.skip(str(missing))
    target = tmp_path / "run"
    shutil.copytree(chinese_named_run, target)
    assert cli.main(["render", str(target), "--lang", "zh"]) == 0
    assert (target / "report.zh.pdf").read_bytes().startswith(b"%PDF-")
    assert (target / "report-logging_interval.zh.pdf").is_file()
    assert (
        (target / "report.zh.md")
        .read_text(encoding="utf-8")
        .startswith("# 为什么我的 GPU 比 CPU 还慢\uff1f")
    )
