"""Slide decks for the workshop, generated from Markdown in the repo: ``course/slides/NN-*.md`` -> ``html/NN-*.html``.

Each deck is one self-contained HTML file (inline CSS and JavaScript, no fonts, scripts or images from the network),
so it opens from a USB stick in an offline classroom. Keys: → / Space / PageDown next, ← / PageUp previous,
Home / End, ``n`` shows the speaker notes, ``f`` full screen; the slide number is kept in the address (``#5``).

Source format
-------------
- Slides are separated by a line holding only ``---``.
- A line holding only ``???`` starts the speaker notes of that slide (hidden until ``n`` is pressed).
- The first ``# `` heading is the deck's title. The file name must be a module's stem (``02-rfm-tiering.md``).
- Raw HTML in the source is shown as text, never interpreted; images must be local files.

Markdown is rendered with ``mistune`` (already installed with JupyterLab's nbconvert): no new dependency.

Examples
--------
>>> html = render_deck("# Title\\n\\n---\\n\\n## Two\\n\\n- a <b>\\n\\n???\\n\\nsay hello", "00-welcome")
>>> html.count('<section class="slide"'), "&lt;b&gt;" in html, '<aside class="notes">' in html
(2, True, True)
"""

from __future__ import annotations

import html as _html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from opskit.i18n import Text

__all__ = ["SLIDES_SUBDIR", "SlidesReport", "build_slides", "deck_sources", "render_deck", "split_slides"]

SLIDES_SUBDIR = Path("course") / "slides"
HTML_SUBDIR = "html"
_REMOTE = re.compile(r"""<(?:img|source|video|audio|iframe)\b[^>]*\bsrc=["']?(?:https?:)?//""", re.IGNORECASE)


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


def split_slides(markdown: str) -> list[tuple[str, str]]:
    """``(slide, notes)`` pairs from a deck's Markdown; blank slides are dropped. Fenced code is never split.

    >>> split_slides("# A\\n---\\n## B\\n???\\nnote")
    [('# A', ''), ('## B', 'note')]
    """
    text = markdown.replace("\r\n", "\n").lstrip("\ufeff")
    parts: list[list[list[str]]] = [[[], []]]  # per slide: [body lines, notes lines]
    in_notes, fence = False, ""
    for line in text.split("\n"):
        stripped = line.strip()
        if fence:
            fence = "" if stripped.startswith(fence) else fence
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif stripped == "---" and line.startswith("---"):
            parts.append([[], []])
            in_notes = False
            continue
        elif stripped == "???" and line.startswith("???"):
            in_notes = True
            continue
        parts[-1][1 if in_notes else 0].append(line)
    slides = [("\n".join(body).strip(), "\n".join(notes).strip()) for body, notes in parts]
    return [(body, notes) for body, notes in slides if body or notes]


def _markdown():
    try:
        import mistune
    except ImportError as error:  # pragma: no cover - mistune comes with nbconvert
        raise ModuleNotFoundError(str(Text("生成幻灯片需要 mistune(随 JupyterLab 安装)",
                                           "building slides needs mistune (installed with JupyterLab)"))) from error
    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


_CSS = """
:root { --ink: #1f2933; --accent: #b5252b; --muted: #6b7280; --paper: #fffdf8; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: #222; }
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "Helvetica Neue",
       Arial, sans-serif; color: var(--ink); }
.slide { display: none; position: absolute; inset: 0; margin: auto; width: min(100vw, 177.78vh);
         height: min(100vh, 56.25vw); background: var(--paper); padding: 5vh 6vw; overflow: hidden;
         font-size: min(3.2vh, 1.8vw); line-height: 1.45; }
.slide.current { display: block; }
.slide h1 { font-size: 2.2em; color: var(--accent); margin: 0.2em 0 0.4em; }
.slide h2 { font-size: 1.6em; color: var(--accent); margin: 0 0 0.5em; border-bottom: 0.08em solid var(--accent); }
.slide h3 { font-size: 1.2em; margin: 0.6em 0 0.3em; }
.slide li { margin: 0.25em 0; }
.slide code { font-family: "Cascadia Mono", Menlo, Consolas, monospace; background: #f1eee6; padding: 0 0.2em; }
.slide pre { background: #f1eee6; padding: 0.6em 0.8em; font-size: 0.8em; overflow: hidden; }
.slide pre code { background: none; padding: 0; }
.slide table { border-collapse: collapse; font-size: 0.85em; }
.slide th, .slide td { border: 1px solid #d4cfc4; padding: 0.25em 0.6em; text-align: left; }
.slide th { background: #f1eee6; }
.slide blockquote { margin: 0.6em 0; padding: 0.2em 1em; border-left: 0.25em solid var(--accent); color: #374151; }
.slide .notes { display: none; }
body.show-notes .slide .notes { display: block; position: absolute; left: 0; right: 0; bottom: 0; max-height: 40%;
       overflow: auto; background: #fff3c4; border-top: 2px solid #d4a017; padding: 0.6em 6vw; font-size: 0.75em; }
.footer { position: fixed; right: 1.2em; bottom: 0.6em; color: var(--muted); font-size: 14px; z-index: 2; }
@media print {
  html, body { background: white; height: auto; }
  .slide { display: block; position: relative; width: 100%; height: auto; min-height: 100vh; page-break-after: always;
           font-size: 16pt; }
  .footer { display: none; }
}
"""

_JS = """
(function () {
  var slides = document.querySelectorAll('.slide');
  var counter = document.getElementById('counter');
  var current = 0;
  function show(n) {
    current = Math.max(0, Math.min(slides.length - 1, n));
    for (var i = 0; i < slides.length; i++) { slides[i].classList.toggle('current', i === current); }
    counter.textContent = (current + 1) + ' / ' + slides.length;
    if (location.hash !== '#' + (current + 1)) { history.replaceState(null, '', '#' + (current + 1)); }
  }
  function fromHash() { var n = parseInt(location.hash.slice(1), 10); return isNaN(n) ? 0 : n - 1; }
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === 'ArrowRight' || k === 'ArrowDown' || k === 'PageDown' || k === ' ' || k === 'Enter') { show(current + 1); }
    else if (k === 'ArrowLeft' || k === 'ArrowUp' || k === 'PageUp' || k === 'Backspace') { show(current - 1); }
    else if (k === 'Home') { show(0); }
    else if (k === 'End') { show(slides.length - 1); }
    else if (k === 'n' || k === 'N') { document.body.classList.toggle('show-notes'); }
    else if ((k === 'f' || k === 'F') && document.documentElement.requestFullscreen) {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { document.documentElement.requestFullscreen(); }
    }
    else { return; }
    e.preventDefault();
  });
  document.addEventListener('click', function (e) {
    if (e.target.closest('a')) { return; }
    show(e.clientX > window.innerWidth / 3 ? current + 1 : current - 1);
  });
  window.addEventListener('hashchange', function () { show(fromHash()); });
  show(fromHash());
})();
"""


def _deck_title(slides: Sequence[tuple[str, str]], fallback: str) -> str:
    for body, _ in slides:
        for line in body.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return fallback


def render_deck(markdown: str, name: str) -> str:
    """One self-contained HTML slide deck from a deck's Markdown source. Same input, same bytes.

    Parameters
    ----------
    markdown : str
        The source (see the module docstring for the format).
    name : str
        The deck's name, used in error messages and as the title if the source has no ``# `` heading.

    Raises
    ------
    ValueError
        If the deck has no slides or loads an image or media from the network.
    """
    slides = split_slides(markdown)
    if not slides:
        raise _error(f"{name}: 没有幻灯片内容", f"{name}: the deck has no slides")
    render = _markdown()
    sections = []
    for number, (body, notes) in enumerate(slides, start=1):
        inner = render(body)
        if notes:
            inner += f'<aside class="notes">{render(notes)}</aside>\n'
        if _REMOTE.search(inner):
            raise _error(f"{name} 第 {number} 张幻灯片从网络加载图片或媒体;课堂可能没有网络,请使用本地文件",
                         f"{name}, slide {number}, loads an image or media from the network; classrooms may be "
                         "offline: use a local file")
        sections.append(f'<section class="slide" id="slide-{number}">\n{inner}</section>')
    title = _html.escape(_deck_title(slides, name), quote=True)
    hint = _html.escape(str(Text("← → 翻页 · n 备注 · f 全屏", "← → slides · n notes · f full screen")))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f"<!-- generated by `opskit slides` from course/slides/{_html.escape(name)}.md: edit the source, not this -->\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + f'\n<div class="footer"><span title="{hint}">{hint}</span> · <span id="counter"></span></div>\n'
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )


def deck_sources(slides_dir: str | os.PathLike = SLIDES_SUBDIR) -> dict[str, Path]:
    """Module stem -> deck source, for every ``NN-*.md`` in ``slides_dir`` that names a course module.

    Raises
    ------
    ValueError
        For a ``NN-*.md`` file whose name is not a module stem (a typo would silently drop a deck).
    """
    from opskit.course import MODULES

    slides_dir = Path(slides_dir)
    if not slides_dir.is_dir():
        raise _error(f"找不到幻灯片文件夹 {slides_dir}", f"slides folder {slides_dir} does not exist")
    stems = {module.stem for module in MODULES}
    sources = {}
    for path in sorted(slides_dir.glob("[0-9][0-9]-*.md")):
        if path.stem not in stems:
            listed = ", ".join(sorted(stems))
            raise _error(f"{path}: 文件名不是课程模块名;可选: {listed}",
                         f"{path}: the file name is not a course module's; choose from: {listed}")
        sources[path.stem] = path
    return sources


def _index_page(decks: Sequence[str]) -> str:
    """``html/index.html``: a list of the decks in course order."""
    from opskit.course import MODULES

    items = []
    for module in MODULES:
        label = _html.escape(module.heading())
        if module.stem in decks:
            items.append(f'<li><a href="{module.stem}.html">{label}</a> · {module.minutes} 分钟 min</li>')
        else:
            items.append(f"<li>{label} · 尚无幻灯片 no deck yet</li>")
    title = "客户运营管理 · 幻灯片 / Customer operations management · slides"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<!-- generated by `opskit slides` -->\n"
        "<style>body { font-family: \"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\", sans-serif; "
        "margin: 3em auto; max-width: 50em; line-height: 1.8; } a { color: #b5252b; }</style>\n"
        f"</head>\n<body>\n<h1>{title}</h1>\n<ul>\n" + "\n".join(items) + "\n</ul>\n</body>\n</html>\n"
    )


@dataclass
class SlidesReport:
    """What :func:`build_slides` wrote (or, with ``check``, would write)."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # check mode: files that differ from a fresh build
    missing_decks: list[str] = field(default_factory=list)  # module stems without a source

    def __str__(self) -> str:
        lines = [str(Text(f"幻灯片: 写入 {len(self.written)},未变 {len(self.unchanged)}",
                          f"slides: {len(self.written)} written, {len(self.unchanged)} unchanged"))]
        lines += [f"  {Text('写入', 'written')}: {path}" for path in self.written]
        lines += [f"  {Text('过期', 'out of date')}: {path}" for path in self.stale]
        if self.missing_decks:
            lines.append(f"  {Text('缺少幻灯片源文件', 'modules without a deck')}: {', '.join(self.missing_decks)}")
        return "\n".join(lines)


def build_slides(
    slides_dir: str | os.PathLike = SLIDES_SUBDIR, html_dir: str | os.PathLike | None = None, *, check: bool = False
) -> SlidesReport:
    """Render every deck source in ``slides_dir`` to ``html_dir`` (default ``slides_dir/html``), plus ``index.html``.

    Files are written only when their bytes change, so a second run writes nothing. With ``check`` nothing is
    written and ``report.stale`` lists the files that are missing or differ (for CI).

    Examples
    --------
    >>> print(build_slides("course/slides"))   # doctest: +SKIP
    幻灯片: 写入 0,未变 8 / slides: 0 written, 8 unchanged
    """
    from opskit.course import MODULES, _write_bytes

    slides_dir = Path(slides_dir)
    html_dir = slides_dir / HTML_SUBDIR if html_dir is None else Path(html_dir)
    sources = deck_sources(slides_dir)
    outputs = {
        html_dir / f"{stem}.html": render_deck(path.read_text(encoding="utf-8"), stem) for stem, path in sources.items()
    }
    outputs[html_dir / "index.html"] = _index_page(list(sources))
    report = SlidesReport(missing_decks=[m.stem for m in MODULES if m.stem not in sources])
    for path, text in outputs.items():
        data = text.encode("utf-8")
        current = path.read_bytes().replace(b"\r\n", b"\n") if path.is_file() else None
        if current == data:
            report.unchanged.append(path)
        elif check:
            report.stale.append(path)
        else:
            _write_bytes(path, data)
            report.written.append(path)
    return report
