"""Slide decks: generated from course/slides/NN-*.md, self-contained, deterministic, escaped, one per module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opskit import cli
from opskit.course import MODULES
from opskit.slides import build_slides, deck_sources, render_deck, split_slides

REPO = Path(__file__).resolve().parents[1]
SLIDES = REPO / "course" / "slides"


def test_every_module_has_a_deck_and_the_html_is_current():
    assert sorted(deck_sources(SLIDES)) == sorted(m.stem for m in MODULES)
    report = build_slides(SLIDES, check=True)
    assert report.stale == [], "run `opskit slides`: " + ", ".join(map(str, report.stale))
    assert report.missing_decks == []
    assert len(report.unchanged) == len(MODULES) + 1  # the decks and index.html


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.stem)
def test_each_deck_is_self_contained_and_navigable(module):
    html = (SLIDES / "html" / f"{module.stem}.html").read_text(encoding="utf-8")
    assert html.count('<section class="slide"') >= 4
    assert "ArrowRight" in html and "ArrowLeft" in html  # keyboard navigation
    # nothing is fetched: no external scripts, styles, fonts or images
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", html)
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert module.id in html.split("<title>")[1].split("</title>")[0]


def test_rendering_is_deterministic_and_files_are_rewritten_only_on_change(tmp_path):
    source = (SLIDES / "02-rfm-tiering.md").read_text(encoding="utf-8")
    assert render_deck(source, "02-rfm-tiering") == render_deck(source, "02-rfm-tiering")
    (tmp_path / "02-rfm-tiering.md").write_text(source, encoding="utf-8")
    first = build_slides(tmp_path)
    data = (tmp_path / "html" / "02-rfm-tiering.html").read_bytes()
    second = build_slides(tmp_path)
    assert [p.name for p in first.written] == ["02-rfm-tiering.html", "index.html"]
    assert second.written == [] and len(second.unchanged) == 2
    assert (tmp_path / "html" / "02-rfm-tiering.html").read_bytes() == data
    assert "00-welcome" in first.missing_decks


def test_check_mode_reports_stale_html_and_writes_nothing(tmp_path):
    (tmp_path / "00-welcome.md").write_text("# Hello\n", encoding="utf-8")
    report = build_slides(tmp_path, check=True)
    assert {p.name for p in report.stale} == {"00-welcome.html", "index.html"}
    assert not (tmp_path / "html").exists()


def test_html_in_the_source_is_escaped_never_interpreted():
    html = render_deck('# T <script>alert("x")</script>\n\n<img src=x onerror=alert(1)>\n\n- `a < b`', "00-welcome")
    body = html.split("<body>")[1]
    assert "<script>alert" not in body and "<img" not in body
    assert "&lt;script&gt;" in body and "&lt;img" in body and "a &lt; b" in body
    assert "<title>T &lt;script&gt;" in html


def test_remote_images_are_refused_with_the_slide_number():
    with pytest.raises(ValueError, match=r"00-welcome.*2") as error:
        render_deck("# A\n---\n![chart](https://example.com/x.png)", "00-welcome")
    assert "网络" in str(error.value)


def test_slides_split_on_separator_lines_not_inside_code_or_tables():
    text = "# A\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\n---\n```\n---\n## B\n???\nsay this\n---\n\n---\n"
    slides = split_slides(text)
    assert len(slides) == 2
    assert "```\n---\n```" in slides[0][0] and "|---|---|" in slides[0][0]
    assert slides[1] == ("## B", "say this")
    html = render_deck(text, "00-welcome")
    assert '<aside class="notes"><p>say this</p>' in html


def test_a_deck_named_after_no_module_is_an_error(tmp_path):
    (tmp_path / "07-extra.md").write_text("# x", encoding="utf-8")
    with pytest.raises(ValueError, match="07-extra.md"):
        deck_sources(tmp_path)
    with pytest.raises(ValueError, match="no slides"):
        render_deck("\n---\n\n", "00-welcome")


def test_cli_slides_check_passes_on_the_repo(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert cli.main(["slides", "--check"]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_cli_slides_check_fails_on_stale_html(tmp_path, monkeypatch, capsys):
    (tmp_path / "course" / "solutions").mkdir(parents=True)
    (tmp_path / "course" / "slides").mkdir()
    (tmp_path / "course" / "slides" / "00-welcome.md").write_text("# Hi\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["slides", "--check"]) == 1
    captured = capsys.readouterr()
    assert "opskit slides" in captured.err and "00-welcome.html" in captured.err
    assert cli.main(["slides"]) == 0 and cli.main(["slides", "--check"]) == 0
