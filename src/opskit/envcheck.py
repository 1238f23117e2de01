"""Environment check: is this machine ready for the workshop?

The welcome notebook runs ``from opskit.envcheck import report; report()`` and ``opskit check-env`` prints the same
table. The check looks packages up with ``importlib.util.find_spec`` and ``importlib.metadata.version``, so it never
imports the heavy packages it checks (only the final figure test imports matplotlib), and every failure becomes a
row with the fix, never a traceback. The output shows versions only (no paths, no timings), so it is the same on
every machine set up from the same lock file.

Examples
--------
>>> from opskit.envcheck import check_environment
>>> rows = check_environment()
>>> rows[0].component
'python'
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path
from typing import Callable, NamedTuple, TextIO

from opskit.i18n import Text, label

SETUP_COMMAND = "python3 kit.py setup"
PYTHON_MINIMUM = (3, 11)
OK, PROBLEM = "ok", "problem"

FIX = Text(f"运行 README 中的安装命令: {SETUP_COMMAND}", f"run the README setup command: {SETUP_COMMAND}")

# Fonts with Chinese glyphs that matplotlib can use; any one is enough for chart labels.
CJK_FONTS = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC", "Noto Serif CJK SC",
    "Source Han Sans SC", "Source Han Sans CN", "PingFang SC", "Heiti SC", "STHeiti", "Hiragino Sans GB",
    "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Arial Unicode MS",
)


@dataclass(frozen=True)
class Requirement:
    """A package the course needs: distribution name, import name and an accepted version range.

    ``minimum`` is inclusive, ``below`` exclusive, ``exact`` pins one version.

    >>> Requirement("pandas", "pandas", minimum="2.2", below="4").accepts("3.0.1")
    True
    """

    distribution: str
    module: str
    minimum: str | None = None
    below: str | None = None
    exact: str | None = None

    def describe(self) -> str:
        if self.exact:
            return f"=={self.exact}"
        parts = ([f">={self.minimum}"] if self.minimum else []) + ([f"<{self.below}"] if self.below else [])
        return ",".join(parts) or "any"

    def accepts(self, version: str) -> bool:
        found = release(version)
        if self.exact:
            return _padded(found, release(self.exact)) == _padded(release(self.exact), found)
        if self.minimum and _padded(found, release(self.minimum)) < _padded(release(self.minimum), found):
            return False
        if self.below and _padded(found, release(self.below)) >= _padded(release(self.below), found):
            return False
        return True


# Mirrors [project.dependencies] in pyproject.toml (a test keeps them in step).
REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("jupyterlab", "jupyterlab", minimum="4.2", below="5"),
    Requirement("ipywidgets", "ipywidgets", minimum="8.1", below="9"),
    Requirement("ipykernel", "ipykernel", minimum="6.29"),
    Requirement("pandas", "pandas", minimum="2.2", below="4"),
    Requirement("numpy", "numpy", minimum="1.26"),
    Requirement("scipy", "scipy", minimum="1.11"),
    Requirement("matplotlib", "matplotlib", minimum="3.8"),
    Requirement("seaborn", "seaborn", minimum="0.13"),
    Requirement("lifetimes", "lifetimes", exact="0.11.3"),
    Requirement("autograd", "autograd", minimum="1.7"),
    Requirement("charset-normalizer", "charset_normalizer", minimum="3.3"),
    Requirement("openpyxl", "openpyxl", minimum="3.1"),
    Requirement("voila", "voila", minimum="0.5"),
    Requirement("tqdm", "tqdm", minimum="4.66"),
    Requirement("jinja2", "jinja2", minimum="3.1"),
)


class CheckRow(NamedTuple):
    """One line of the check: what was checked, what is required, what was found, ``"ok"``/``"problem"``, the fix."""

    component: str
    required: str
    found: str
    status: str
    advice: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


def release(version: str) -> tuple[int, ...]:
    """The numeric release part of a version string: ``"2.2.3rc1"`` -> ``(2, 2, 3)``."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(version))
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return a + (0,) * max(0, len(b) - len(a))


# The two look-ups the check relies on; tests monkeypatch them to simulate missing or old packages.
def installed_version(distribution: str) -> str | None:
    """Installed version of a distribution, or None if it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def importable(module: str) -> bool:
    """Whether ``module`` can be imported, found without importing it."""
    try:
        return util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _cell(text: Text) -> str:
    """A short table cell in the current language; both languages separated by a space, not " / "."""
    return text.render(sep=" ")


def _problem(component: str, required: str, found: str, advice: Text) -> CheckRow:
    return CheckRow(component, required, found, PROBLEM, str(advice))


def check_python(version: tuple[int, ...] | None = None) -> CheckRow:
    """Python >= 3.11. Shows major.minor only, so the stored notebook output does not change with patch releases."""
    version = tuple(sys.version_info[:2]) if version is None else tuple(version)
    required = ">=" + ".".join(map(str, PYTHON_MINIMUM))
    found = ".".join(map(str, version[:2]))
    if version[:2] >= PYTHON_MINIMUM:
        return CheckRow("python", required, found, OK)
    return _problem("python", required, found, Text(
        "安装 Python 3.11 或更新版本,然后运行 " + SETUP_COMMAND,
        "install Python 3.11 or newer, then run " + SETUP_COMMAND,
    ))


def check_package(requirement: Requirement) -> CheckRow:
    """One package: importable, and installed in the accepted version range."""
    name, required = requirement.distribution, requirement.describe()
    version = installed_version(requirement.distribution)
    if version is None or not importable(requirement.module):
        return _problem(name, required, _cell(Text("未安装", "not installed")), FIX)
    if not requirement.accepts(version):
        return _problem(name, required, version, Text(
            f"需要 {name}{required},已安装 {version};{FIX.zh}",
            f"needs {name}{required}, found {version}; {FIX.en}",
        ))
    return CheckRow(name, required, version, OK)


def check_cdnow() -> CheckRow:
    """The CDNOW master file bundled inside lifetimes (``opskit.datasets.cdnow_path``)."""
    component, required = "CDNOW", "lifetimes/datasets/CDNOW_master.txt"
    try:
        from opskit.datasets.cdnow import cdnow_path

        path = cdnow_path("master")
    except Exception as error:  # lifetimes or pandas missing, file removed: all mean "reinstall"
        return _problem(component, required, _cell(Text("缺失", "missing")), Text(
            f"{_first_line(error)};{FIX.zh}", f"{_first_line(error)}; {FIX.en}"))
    size = path.stat().st_size
    return CheckRow(component, required, f"{size / 1e6:.1f} MB", OK)


def repo_root() -> Path | None:
    """The repository checkout this opskit runs from (``src/opskit`` inside it), or None for an installed wheel."""
    package = Path(__file__).resolve().parent
    root = package.parent.parent
    if package.parent.name == "src" and (root / "pyproject.toml").is_file():
        return root
    return None


def _manifest_sizes(manifest: object) -> dict[str, int | None]:
    """File name -> expected bytes (None if not given), from ``{"files": {...}}``, ``{name: info}`` or a list."""
    files = manifest.get("files", manifest) if isinstance(manifest, dict) else manifest
    sizes: dict[str, int | None] = {}
    if isinstance(files, dict):
        items = files.items()
    elif isinstance(files, list):
        items = []
        for entry in files:
            if not isinstance(entry, dict):
                raise ValueError("manifest entries must be objects")
            name = entry.get("path") or entry.get("file") or entry.get("name")
            if not name:
                raise ValueError("manifest entry without a path")
            items.append((name, entry))
    else:
        raise ValueError("manifest must list files")
    for name, info in items:
        expected = info.get("bytes", info.get("size")) if isinstance(info, dict) else None
        sizes[str(name)] = int(expected) if isinstance(expected, (int, float)) else None
    return sizes


def check_datasets(data_dir: str | os.PathLike | None = None) -> CheckRow | None:
    """The shipped ``datasets/`` files listed in ``datasets/manifest.json`` are present, with their sizes.

    Looks in ``data_dir``, else ``$OPSKIT_DATA_DIR``, else ``datasets/`` of the repo checkout. Returns None when
    opskit does not run from a checkout and no folder is given (an installed package ships no datasets folder).
    """
    if data_dir is None and os.environ.get("OPSKIT_DATA_DIR"):
        data_dir = os.environ["OPSKIT_DATA_DIR"]
    if data_dir is None:
        root = repo_root()
        if root is None:
            return None
        data_dir = root / "datasets"
    data_dir = Path(data_dir)
    component, required = "datasets/", "manifest.json"
    advice = Text(
        "从仓库恢复 datasets/ 文件夹(git checkout -- datasets)或运行 python -m opskit.datasets.build",
        "restore the datasets/ folder from the repository (git checkout -- datasets) "
        "or run python -m opskit.datasets.build",
    )
    manifest_path = data_dir / "manifest.json"
    if not manifest_path.is_file():
        return _problem(component, required, _cell(Text("缺失", "missing")), advice)
    try:
        sizes = _manifest_sizes(json.loads(manifest_path.read_text(encoding="utf-8")))
    except (ValueError, AttributeError, TypeError) as error:
        return _problem(component, required, _cell(Text("无法读取", "unreadable")),
                        Text(f"{_first_line(error)};{advice.zh}", f"{_first_line(error)}; {advice.en}"))
    bad = []
    for name, expected in sorted(sizes.items()):
        path = data_dir / name
        if not path.is_file() or (expected is not None and path.stat().st_size != expected):
            bad.append(name)
    found = f"{len(sizes) - len(bad)}/{len(sizes)} files"
    if bad:
        listed = ", ".join(bad[:5]) + (" …" if len(bad) > 5 else "")
        return _problem(component, f"{len(sizes)} files", found,
                        Text(f"缺失或大小不符: {listed};{advice.zh}", f"missing or changed: {listed}; {advice.en}"))
    return CheckRow(component, f"{len(sizes)} files", found, OK)


def check_figure() -> CheckRow:
    """A matplotlib figure can be drawn with the Agg backend (without switching the notebook's backend)."""
    component, required = "matplotlib Agg", _cell(Text("能绘图", "can draw"))
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(2, 1), dpi=100)
        canvas = FigureCanvasAgg(figure)
        figure.add_subplot().plot([0, 1, 2], [1, 3, 2])
        canvas.draw()
        width, height = canvas.get_width_height()
    except Exception as error:
        return _problem(component, required, _cell(Text("失败", "failed")),
                        Text(f"{_first_line(error)};{FIX.zh}", f"{_first_line(error)}; {FIX.en}"))
    return CheckRow(component, required, f"{width}x{height} px", OK)


def check_chinese_font() -> CheckRow:
    """A font with Chinese glyphs is available to matplotlib, so chart labels do not show as boxes."""
    component, required = _cell(Text("中文字体", "Chinese font")), "CJK"
    try:
        from matplotlib import font_manager

        names = {font.name for font in font_manager.fontManager.ttflist}
    except Exception as error:
        return _problem(component, required, _cell(Text("无法检查", "cannot check")),
                        Text(f"{_first_line(error)};{FIX.zh}", f"{_first_line(error)}; {FIX.en}"))
    if any(name in names for name in CJK_FONTS):
        return CheckRow(component, required, _cell(Text("已找到", "found")), OK)  # no font name: same on every OS
    return _problem(component, required, _cell(Text("未找到", "not found")), Text(
        "Linux: sudo apt-get install fonts-noto-cjk,然后删除 ~/.cache/matplotlib",
        "Linux: sudo apt-get install fonts-noto-cjk, then delete ~/.cache/matplotlib",
    ))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def _guarded(check: Callable[[], CheckRow | None], component: str) -> CheckRow | None:
    """Run one check; an unexpected error becomes a problem row instead of a traceback."""
    try:
        return check()
    except Exception as error:
        return _problem(component, "", _cell(Text("检查出错", "check failed")),
                        Text(f"{_first_line(error)};{FIX.zh}", f"{_first_line(error)}; {FIX.en}"))


def check_environment() -> list[CheckRow]:
    """Check Python, every required package, the bundled data and chart drawing.

    Returns
    -------
    list of CheckRow
        ``(component, required, found, status, advice)``; ``status`` is ``"ok"`` or ``"problem"``.

    Examples
    --------
    >>> problems = [row for row in check_environment() if not row.ok]  # doctest: +SKIP
    """
    checks: list[tuple[Callable[[], CheckRow | None], str]] = [(check_python, "python")]
    checks += [((lambda r=r: check_package(r)), r.distribution) for r in REQUIREMENTS]
    checks += [(check_cdnow, "CDNOW"), (check_datasets, "datasets/"), (check_figure, "matplotlib Agg"),
               (check_chinese_font, "CJK")]
    rows = [_guarded(check, component) for check, component in checks]
    return [row for row in rows if row is not None]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_report(rows: list[CheckRow]) -> str:
    """The bilingual table :func:`report` prints."""
    status_text = {OK: label("正常", "ok"), PROBLEM: label("问题", "PROBLEM")}
    header = [label("组件", "Component"), label("要求", "Required"), label("已安装", "Found"), label("状态", "Status")]
    table = [header] + [[r.component, r.required, r.found, status_text.get(r.status, r.status)] for r in rows]
    widths = [max(_width(line[i]) for line in table) for i in range(len(header))]
    lines = [str(Text("opskit 环境检查", "environment check"))]
    for number, line in enumerate(table):
        lines.append("  ".join(_pad(cell, width) for cell, width in zip(line, widths)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    problems = [row for row in rows if not row.ok]
    if problems:
        lines.append("")
        lines.append(str(Text(f"发现 {len(problems)} 个问题,修复方法:", f"{len(problems)} problem(s) found; how to fix:")))
        lines += [f"- {row.component}: {row.advice}" for row in problems]
    else:
        lines.append(str(Text("全部正常,可以开始学习!", "All checks passed: ready to start!")))
    return "\n".join(lines)


def report(rows: list[CheckRow] | None = None, file: TextIO | None = None) -> None:
    """Print the environment check as a readable bilingual table (returns None, so a notebook shows only the text).

    Examples
    --------
    >>> from opskit.envcheck import report
    >>> report()  # doctest: +SKIP
    """
    print(format_report(check_environment() if rows is None else rows), file=file or sys.stdout)


__all__ = ["CheckRow", "REQUIREMENTS", "Requirement", "SETUP_COMMAND", "check_environment", "format_report",
           "installed_version", "importable", "report"]
