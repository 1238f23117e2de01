"""Course tooling: the course map, navigation cells, and learner copies generated from the solution notebooks.

``course/solutions/`` holds the solution notebooks, the single source of truth. ``notebooks/`` holds the learner
copies, generated mechanically by :func:`build_learner_copies` so that they cannot drift (the fastbook ``clean/``
idea); :func:`check_learner_copies_in_sync` tells CI and the test suite when someone forgot ``opskit build``.

Why nbgrader's preprocessors make the learner copies
----------------------------------------------------
``ClearSolutions``, ``ClearHiddenTests`` and ``ClearOutput`` run here as ordinary nbconvert preprocessors, with no
nbgrader database (``enforce_metadata=False``). That gives one well-kept implementation of the ``### BEGIN SOLUTION``
/ ``### END SOLUTION`` convention instead of a home-made stripper, and trainers who already run nbgrader can take the
solution notebooks as they are. nbgrader is a development dependency, so it is imported only when a copy is built.

Our stubs differ from nbgrader's defaults: the code stub is a comment (no ``raise``), so a learner copy still runs
from top to bottom and an exercise check reports "not attempted" instead of the notebook stopping with an error.

Conventions
-----------
- Navigation cells (``< previous | contents | next >``) are markdown cells tagged ``opskit-nav``, first and last in
  every course notebook; the index notebook's table is the cell tagged ``opskit-index``. Both are generated from
  :data:`MODULES` by :func:`update_navigation` and are not learner content.
- Cells tagged ``trainer-only`` (for example ``q1.assert_check_passed()``) are dropped from learner copies.
- Every learner copy carries ``metadata.opskit = {"source", "source_sha256", "build_sha256"}``. Content hashes
  ignore outputs, execution counts, UI state and the generated navigation, so running a notebook is not "editing" it.

Examples
--------
>>> from opskit.course import MODULES, module_by_id
>>> module_by_id("02").filename
'02-rfm-tiering.ipynb'
>>> sum(module.minutes for module in MODULES)
440
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import nbformat
from nbformat import NotebookNode

from opskit.i18n import Text


# --------------------------------------------------------------------------------------------------------------
# The course map
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Module:
    """One lesson of the course: id ``"00"``..``"06"``, notebook file stem, bilingual title, planned minutes."""

    id: str
    stem: str
    title_zh: str
    title_en: str
    minutes: int

    @property
    def filename(self) -> str:
        return f"{self.stem}.ipynb"

    @property
    def title(self) -> Text:
        return Text(self.title_zh, self.title_en)

    def heading(self) -> str:
        """``"02 客户分层 RFM tiering"``: always both languages, so generated cells do not depend on a setting."""
        return f"{self.id} {self.title_zh} {self.title_en}"


MODULES: tuple[Module, ...] = (
    Module("00", "00-welcome", "欢迎", "Welcome", 20),
    Module("01", "01-customer-data", "客户数据管理", "Customer data collection", 60),
    Module("02", "02-rfm-tiering", "客户分层", "RFM tiering", 60),
    Module("03", "03-clv-prediction", "客户终身价值预测", "CLV prediction", 75),
    Module("04", "04-lifecycle", "会员生命周期运营", "Lifecycle strategies", 60),
    Module("05", "05-store-compass", "店铺分析罗盘", "Store-analysis compass", 75),
    Module("06", "06-capstone", "综合实战", "Capstone and your own data", 90),
)

INDEX_NOTEBOOK = "index.ipynb"
INDEX_TITLE = Text("课程目录", "Course contents")

NAV_TAG = "opskit-nav"
INDEX_TAG = "opskit-index"
TRAINER_ONLY_TAG = "trainer-only"
NAV_TOP_ID, NAV_BOTTOM_ID, INDEX_TABLE_ID = "opskit-nav-top", "opskit-nav-bottom", "opskit-index-table"

CODE_STUB = "# YOUR CODE HERE / 在此填写代码"
TEXT_STUB = "YOUR ANSWER HERE / 在此填写答案"
BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's delimiters, matched inside a line

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
STAMP_KEY = "opskit"
BUILD_HINT = Text("运行 `opskit build` 重新生成学员副本", "run `opskit build` to regenerate the learner copies")

# State an editor or a run adds; not part of what a notebook *says*.
_VOLATILE_NOTEBOOK_METADATA = frozenset(
    {STAMP_KEY, "kernelspec", "language_info", "widgets", "celltoolbar", "toc", "varInspector", "vscode",
     "interpreter", "colab", "accelerator", "papermill"}
)
_VOLATILE_CELL_METADATA = frozenset({"execution", "ExecuteTime", "collapsed", "scrolled", "pycharm", "vscode"})


def course_map(modules: Sequence[Module] = MODULES):
    """The course at a glance: one row per module with its title and planned time, and a total.

    Examples
    --------
    >>> course_map()["minutes"].iloc[-1]
    440
    """
    import pandas as pd

    rows = [
        {"module": m.id, "title": f"{m.title_zh} {m.title_en}", "minutes": m.minutes, "notebook": m.filename}
        for m in modules
    ]
    rows.append({"module": "", "title": "合计 Total", "minutes": sum(m.minutes for m in modules), "notebook": ""})
    return pd.DataFrame(rows)


def module_by_id(name: str, modules: Sequence[Module] = MODULES) -> Module:
    """The module for an id (``"02"``), a stem (``"02-rfm-tiering"``) or a file name (``"02-rfm-tiering.ipynb"``).

    >>> module_by_id("02-rfm-tiering.ipynb").id
    '02'
    """
    key = str(name).strip()
    key = key[: -len(".ipynb")] if key.endswith(".ipynb") else key
    for module in modules:
        if key in (module.id, module.stem):
            return module
    known = ", ".join(module.stem for module in modules)
    raise ValueError(str(Text(f"课程中没有模块 {name!r};可选: {known}", f"no module {name!r} in the course; choose from: {known}")))


# --------------------------------------------------------------------------------------------------------------
# Reading, writing and hashing notebooks
# --------------------------------------------------------------------------------------------------------------
def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def _is_generated(cell: Any) -> bool:
    tags = _tags(cell)
    return NAV_TAG in tags or INDEX_TAG in tags


def read_notebook(path: str | os.PathLike) -> NotebookNode:
    """Read a notebook as nbformat v4; a clear bilingual ``ValueError`` naming the file if it is not a notebook."""
    path = Path(path)
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise
    except Exception as error:  # invalid JSON, not a notebook, an old major version
        raise ValueError(
            str(Text(f"{path} 不是有效的笔记本: {error}", f"{path} is not a valid notebook: {error}"))
        ) from error


def _ensure_cell_ids(nb: NotebookNode, name: str) -> None:
    """Give cells without an id a deterministic one, so the same input always gives the same output bytes."""
    nb.nbformat, nb.nbformat_minor = 4, max(int(nb.get("nbformat_minor", 5)), 5)
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not cell_id or cell_id in seen:
            digest = hashlib.sha256(f"{name}\0{index}\0{_source(cell)}".encode()).hexdigest()
            cell_id = digest[:12]
            while cell_id in seen:  # identical cells in one notebook
                cell_id = hashlib.sha256(cell_id.encode()).hexdigest()[:12]
            cell["id"] = cell_id
        seen.add(cell_id)


def notebook_bytes(nb: NotebookNode) -> bytes:
    """Serialise like Jupyter does (nbformat v4, one-space indent, sorted keys), with a trailing newline."""
    text = nbformat.writes(nb, version=4)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _lf(data: bytes) -> bytes:
    """Line endings as we write them: a checkout with git's autocrlf is not "out of sync"."""
    return data.replace(b"\r\n", b"\n")


def _write_bytes(path: Path, data: bytes) -> None:
    """Write atomically: a crash mid-write never leaves a half notebook behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def content_hash(nb: NotebookNode) -> str:
    """SHA-256 of what a notebook says: cells (id, type, source, attachments, non-UI metadata) and authored metadata.

    Outputs, execution counts, kernel info, widget state, the ``opskit`` stamp and the generated navigation cells
    are ignored, so executing a notebook or regenerating its navigation does not change its hash.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", id="a")])
    >>> ran = copy.deepcopy(nb); ran.cells[0].execution_count = 1
    >>> content_hash(nb) == content_hash(ran)
    True
    """
    cells = [
        {
            "id": cell.get("id"),
            "cell_type": cell.get("cell_type"),
            "source": _source(cell),
            "attachments": cell.get("attachments", {}),
            "metadata": {k: v for k, v in cell.get("metadata", {}).items() if k not in _VOLATILE_CELL_METADATA},
        }
        for cell in nb.cells
        if not _is_generated(cell)
    ]
    metadata = {k: v for k, v in nb.metadata.items() if k not in _VOLATILE_NOTEBOOK_METADATA}
    payload = json.dumps({"cells": cells, "metadata": metadata}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Navigation
# --------------------------------------------------------------------------------------------------------------
def _link(text: str, target: str, present: Iterable[str]) -> str:
    return f"[{text}]({target})" if target in set(present) else text


def navigation_markdown(name: str, present: Iterable[str], modules: Sequence[Module] = MODULES) -> str:
    """The ``< previous | contents | next >`` line for notebook ``name``; only notebooks in ``present`` are linked.

    >>> navigation_markdown("01-customer-data.ipynb", ["index.ipynb", "00-welcome.ipynb"])
    '[< 00 欢迎 Welcome](00-welcome.ipynb) | [课程目录 Course contents](index.ipynb) | 02 客户分层 RFM tiering >'
    """
    present = set(present)
    contents = INDEX_TITLE.render("both", sep=" ")
    parts: list[str] = []
    if name == INDEX_NOTEBOOK:
        parts.append(contents)  # the index does not link to itself
        if modules:
            parts.append(_link(f"{modules[0].heading()} >", modules[0].filename, present))
        return " | ".join(parts)
    position = [module.filename for module in modules].index(name)
    if position > 0:
        previous = modules[position - 1]
        parts.append(_link(f"< {previous.heading()}", previous.filename, present))
    parts.append(_link(contents, INDEX_NOTEBOOK, present))
    if position + 1 < len(modules):
        following = modules[position + 1]
        parts.append(_link(f"{following.heading()} >", following.filename, present))
    return " | ".join(parts)


def _minutes(total: int) -> str:
    hours, minutes = divmod(total, 60)
    return f"{total} 分钟 min ({hours} 小时 h {minutes:02d} 分 min)" if hours else f"{total} 分钟 min"


def index_table_markdown(present: Iterable[str], modules: Sequence[Module] = MODULES) -> str:
    """The index notebook's table of modules (module, title, time, link); modules not yet in the folder unlinked."""
    present = set(present)
    lines = [
        f"## {INDEX_TITLE.render('both', sep=' ')}",
        "",
        "| 模块 Module | 标题 Title | 时长 Time | 笔记本 Notebook |",
        "|---|---|---|---|",
    ]
    for module in modules:
        if module.filename in present:
            link = f"[{module.filename}]({module.filename})"
        else:
            link = f"{module.filename} (尚未提供 not yet available)"
        lines.append(f"| {module.id} | {module.title_zh} {module.title_en} | {module.minutes} 分钟 min | {link} |")
    lines.append(f"| | **合计 Total** | **{_minutes(sum(m.minutes for m in modules))}** | |")
    return "\n".join(lines)


def _generated_cell(source: str, cell_id: str, tag: str) -> NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source, id=cell_id)
    cell.metadata = {"deletable": False, "editable": False, "tags": [tag]}
    return cell


def new_index_notebook(present: Iterable[str], modules: Sequence[Module] = MODULES) -> NotebookNode:
    """A fresh index notebook: title, introduction and the module table (navigation is added separately)."""
    intro = nbformat.v4.new_markdown_cell(
        "# 客户运营管理 · 课程目录 / Customer operations management · course contents\n\n"
        "按顺序学习下面的笔记本;每个笔记本的顶部和底部都有导航链接。\n\n"
        "Work through the notebooks below in order; each has navigation links at its top and bottom.",
        id="opskit-index-intro",
    )
    table = _generated_cell(index_table_markdown(present, modules), INDEX_TABLE_ID, INDEX_TAG)
    nb = nbformat.v4.new_notebook(cells=[intro, table])
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    return nb


def apply_navigation(
    nb: NotebookNode, name: str, present: Iterable[str], modules: Sequence[Module] = MODULES
) -> NotebookNode:
    """A copy of ``nb`` with fresh navigation cells at top and bottom (and, for the index, a fresh module table).

    Idempotent: applying it to its own result changes nothing.
    """
    present = sorted(set(present))
    result = copy.deepcopy(nb)
    _ensure_cell_ids(result, name)
    cells = [cell for cell in result.cells if NAV_TAG not in _tags(cell)]
    if name == INDEX_NOTEBOOK:
        table = index_table_markdown(present, modules)
        tables = [i for i, cell in enumerate(cells) if INDEX_TAG in _tags(cell)]
        if tables:
            cells[tables[0]].source = table
        else:  # after the title cell if there is one
            position = 1 if cells and cells[0].cell_type == "markdown" else 0
            cells.insert(position, _generated_cell(table, INDEX_TABLE_ID, INDEX_TAG))
    line = navigation_markdown(name, present, modules)
    result.cells = [
        _generated_cell(line, NAV_TOP_ID, NAV_TAG),
        *cells,
        _generated_cell(line, NAV_BOTTOM_ID, NAV_TAG),
    ]
    _ensure_cell_ids(result, name)
    return result


def _course_names(folder: Path, modules: Sequence[Module]) -> tuple[list[str], list[str]]:
    """(course notebooks in ``folder`` in course order, index first if present; other ``.ipynb`` files)."""
    files = {path.name for path in folder.glob("*.ipynb") if path.is_file()}
    known = {module.filename for module in modules} | {INDEX_NOTEBOOK}
    ordered = [INDEX_NOTEBOOK] if INDEX_NOTEBOOK in files else []
    ordered += [module.filename for module in modules if module.filename in files]
    return ordered, sorted(files - known)


def _require_folder(folder: str | os.PathLike, what: Text) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(str(Text(f"找不到{what.zh}文件夹 {folder}", f"{what.en} folder {folder} does not exist")))
    return folder


def _planned_navigation(
    folder: Path, modules: Sequence[Module], create_index: bool
) -> tuple[list[str], dict[str, tuple[NotebookNode, bytes | None]]]:
    """Course names after the update, and for each: (notebook with navigation, current file bytes or None)."""
    names, _ = _course_names(folder, modules)
    if create_index and INDEX_NOTEBOOK not in names and names:
        names.insert(0, INDEX_NOTEBOOK)
    planned: dict[str, tuple[NotebookNode, bytes | None]] = {}
    for name in names:
        path = folder / name
        current = _lf(path.read_bytes()) if path.exists() else None
        nb = read_notebook(path) if current is not None else new_index_notebook(names, modules)
        planned[name] = (apply_navigation(nb, name, names, modules), current)
    return names, planned


def update_navigation(
    folder: str | os.PathLike, modules: Sequence[Module] = MODULES, *, create_index: bool = True
) -> list[Path]:
    """Regenerate the navigation cells of every course notebook in ``folder`` and the index notebook's table.

    Only notebooks named in the course map (and ``index.ipynb``) are touched; links point only to notebooks that
    exist in ``folder``. With ``create_index`` the index notebook is created when the folder holds any course
    notebook but no index. Files are rewritten only when their bytes change, so a second run changes nothing.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> update_navigation("course/solutions")  # doctest: +SKIP
    [PosixPath('course/solutions/index.ipynb')]
    """
    folder = _require_folder(folder, Text("笔记本", "notebook"))
    _, planned = _planned_navigation(folder, modules, create_index)
    written = []
    for name, (nb, current) in planned.items():
        data = notebook_bytes(nb)
        if data != current:
            _write_bytes(folder / name, data)
            written.append(folder / name)
    return written


# --------------------------------------------------------------------------------------------------------------
# Learner copies
# --------------------------------------------------------------------------------------------------------------
def _check_solution_regions(nb: NotebookNode, name: str) -> None:
    """Name the notebook and cell of a broken solution region before nbgrader raises a bare RuntimeError."""
    for index, cell in enumerate(nb.cells):
        depth = 0
        for line in _source(cell).split("\n"):
            if BEGIN_SOLUTION in line:
                depth += 1
                if depth > 1:
                    break
            elif END_SOLUTION in line:
                depth -= 1
                if depth < 0:
                    break
        if depth != 0:
            where = f"{name}, cell {index + 1} (id {cell.get('id')})"
            raise ValueError(str(Text(
                f"{where}: `### {BEGIN_SOLUTION}` 与 `### {END_SOLUTION}` 不配对",
                f"{where}: unbalanced or nested `### {BEGIN_SOLUTION}` / `### {END_SOLUTION}`",
            )))


def _nbgrader_preprocessors() -> list[Any]:
    try:
        from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions
    except ImportError as error:
        raise ModuleNotFoundError(str(Text(
            "生成学员副本需要 nbgrader(开发依赖);运行 `python3 kit.py setup`",
            "building learner copies needs nbgrader (a dev dependency); run `python3 kit.py setup`",
        ))) from error
    return [
        ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB, enforce_metadata=False),
        ClearHiddenTests(enforce_metadata=False),
        ClearOutput(),
    ]


def make_learner_notebook(
    solution: NotebookNode, name: str, present: Iterable[str], modules: Sequence[Module] = MODULES
) -> NotebookNode:
    """The learner copy of one solution notebook, in memory (not yet stamped).

    Drops ``trainer-only`` cells, replaces solution regions with stubs and removes hidden tests (nbgrader), clears
    outputs and execution counts, normalises metadata (kernel ``python3``) and regenerates the navigation.
    """
    nb = copy.deepcopy(solution)
    _ensure_cell_ids(nb, name)
    _check_solution_regions(nb, name)  # before dropping cells, so the cell number matches the file
    nb.cells = [cell for cell in nb.cells if TRAINER_ONLY_TAG not in _tags(cell)]
    metadata = {k: v for k, v in nb.metadata.items() if k not in _VOLATILE_NOTEBOOK_METADATA}
    nb.metadata = {**metadata, "kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    resources: dict[str, Any] = {}
    for preprocessor in _nbgrader_preprocessors():
        nb, resources = preprocessor.preprocess(nb, resources)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return apply_navigation(nb, name, present, modules)


def stamp(learner: NotebookNode, source_name: str, solution: NotebookNode) -> NotebookNode:
    """Record where a learner copy came from and what it said when built (``metadata.opskit``)."""
    learner.metadata[STAMP_KEY] = {
        "source": source_name,
        "source_sha256": content_hash(solution),
        "build_sha256": content_hash(learner),
    }
    return learner


def learner_edited(nb: NotebookNode) -> bool:
    """True if a learner copy was changed since it was built (or carries no build stamp at all)."""
    recorded = nb.metadata.get(STAMP_KEY, {}) or {}
    return recorded.get("build_sha256") != content_hash(nb)


@dataclass
class _Target:
    name: str
    data: bytes
    state: str  # "new" | "unchanged" | "update" | "edited"
    reason: Text | None = None


@dataclass
class _Plan:
    solutions_dir: Path
    learner_dir: Path
    names: list[str]
    unknown_solutions: list[str]
    solution_writes: dict[str, tuple[bytes, bool]]  # name -> (bytes, is_new)
    targets: list[_Target]
    stale_generated: list[tuple[str, bool]]  # copies of removed solutions: (name, edited)
    learner_own: list[str]  # unstamped notebooks that are not course notebooks: left alone


def _plan(solutions_dir: Path, learner_dir: Path, modules: Sequence[Module]) -> _Plan:
    solutions_dir = _require_folder(solutions_dir, Text("解答笔记本", "solution notebook"))
    names, planned = _planned_navigation(solutions_dir, modules, create_index=True)
    _, unknown = _course_names(solutions_dir, modules)
    solution_writes = {}
    targets = []
    for name in names:
        solution, current = planned[name]
        data = notebook_bytes(solution)
        if data != current:
            solution_writes[name] = (data, current is None)
        learner = stamp(make_learner_notebook(solution, name, names, modules), name, solution)
        targets.append(_classify(learner_dir / name, notebook_bytes(learner), solution))
    stale_generated, learner_own = [], []
    if learner_dir.is_dir():
        for path in sorted(learner_dir.glob("*.ipynb")):
            if path.name in names:
                continue
            try:
                nb = read_notebook(path)
            except ValueError:
                learner_own.append(path.name)
                continue
            if nb.metadata.get(STAMP_KEY):
                stale_generated.append((path.name, learner_edited(nb)))
            else:
                learner_own.append(path.name)
    return _Plan(solutions_dir, learner_dir, names, unknown, solution_writes, targets, stale_generated, learner_own)


def _classify(path: Path, data: bytes, solution: NotebookNode) -> _Target:
    if not path.exists():
        return _Target(path.name, data, "new", Text("学员副本缺失", "learner copy is missing"))
    if _lf(path.read_bytes()) == data:
        return _Target(path.name, data, "unchanged")
    try:
        existing = read_notebook(path)
    except ValueError:
        return _Target(path.name, data, "edited", Text("文件已损坏或被改写", "the file is not a valid notebook"))
    recorded = existing.metadata.get(STAMP_KEY)
    if not recorded:
        return _Target(path.name, data, "edited", Text("没有生成标记(手工创建或修改)", "no build stamp (made or edited by hand)"))
    if learner_edited(existing):
        return _Target(path.name, data, "edited", Text("生成后被修改过", "edited since it was built"))
    if recorded.get("source_sha256") != content_hash(solution):
        return _Target(path.name, data, "update", Text("解答笔记本已更新", "the solution notebook changed since the build"))
    return _Target(path.name, data, "update", Text("生成结果不同(输出或格式)", "differs from a fresh build (outputs or format)"))


@dataclass(frozen=True)
class SyncProblem:
    """One way ``notebooks/`` differs from what ``opskit build`` would produce."""

    kind: str  # "missing" | "stale" | "extra" | "navigation" | "unknown"
    path: str
    detail: Text

    def __str__(self) -> str:
        hint = _SYNC_HINTS.get(self.kind, BUILD_HINT)
        return f"{self.path}: {self.kind} — {self.detail}; {hint}"


_SYNC_HINTS = {
    "unknown": Text("把它加入 opskit.course.MODULES 或移出该文件夹", "add it to opskit.course.MODULES or move it out"),
    "extra": Text("删除它,或把它的解答放进 course/solutions", "delete it, or put its solution into course/solutions"),
}


def _problems(plan: _Plan) -> list[SyncProblem]:
    problems = []
    for name in plan.unknown_solutions:
        problems.append(SyncProblem("unknown", str(plan.solutions_dir / name), Text("不在课程目录中", "not in the course map")))
    for name, (_, is_new) in plan.solution_writes.items():
        detail = Text("目录笔记本缺失", "the index notebook is missing") if is_new else Text(
            "导航单元格过期", "navigation cells are out of date")
        problems.append(SyncProblem("navigation", str(plan.solutions_dir / name), detail))
    for target in plan.targets:
        if target.state == "new":
            problems.append(SyncProblem("missing", str(plan.learner_dir / target.name), target.reason))
        elif target.state != "unchanged":
            problems.append(SyncProblem("stale", str(plan.learner_dir / target.name), target.reason))
    for name, _ in plan.stale_generated:
        problems.append(SyncProblem("stale", str(plan.learner_dir / name), Text("对应的解答已删除", "its solution notebook was removed")))
    for name in plan.learner_own:
        problems.append(SyncProblem("extra", str(plan.learner_dir / name), Text("不是由解答生成的", "not generated from a solution")))
    return problems


def check_learner_copies_in_sync(
    solutions_dir: str | os.PathLike = "course/solutions",
    learner_dir: str | os.PathLike = "notebooks",
    modules: Sequence[Module] = MODULES,
) -> list[SyncProblem]:
    """Every difference between ``learner_dir`` and what :func:`build_learner_copies` would write; empty when in sync.

    Writes nothing. Each problem's ``str()`` says what is wrong and to run ``opskit build``.

    Examples
    --------
    >>> problems = check_learner_copies_in_sync("course/solutions", "notebooks")  # doctest: +SKIP
    >>> assert not problems, "\\n".join(map(str, problems))  # doctest: +SKIP
    """
    return _problems(_plan(Path(solutions_dir), Path(learner_dir), modules))


class LearnerEditsError(ValueError):
    """Raised instead of overwriting learner-edited notebooks when backups are switched off."""


@dataclass
class BuildReport:
    """What :func:`build_learner_copies` did. ``str(report)`` is a short bilingual summary."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    backed_up: list[Path] = field(default_factory=list)  # the backup files
    solutions_updated: list[Path] = field(default_factory=list)
    left_alone: list[Path] = field(default_factory=list)
    backup_folder: Path | None = None

    def __str__(self) -> str:
        lines = [str(Text(
            f"学员副本: 写入 {len(self.written)},未变 {len(self.unchanged)},删除 {len(self.removed)}",
            f"learner copies: {len(self.written)} written, {len(self.unchanged)} unchanged, {len(self.removed)} removed",
        ))]
        for path in self.solutions_updated:
            lines.append(f"  {Text('更新导航', 'navigation updated')}: {path}")
        for path in self.written:
            lines.append(f"  {Text('写入', 'written')}: {path}")
        for path in self.removed:
            lines.append(f"  {Text('删除', 'removed')}: {path}")
        if self.backed_up:
            lines.append(str(Text(
                f"学员修改过的笔记本已备份到 {self.backup_folder}:",
                f"learner-edited notebooks were backed up to {self.backup_folder}:",
            )))
            lines += [f"  {path.name}" for path in self.backed_up]
        for path in self.left_alone:
            lines.append(f"  {Text('保留(非课程笔记本)', 'left alone (not a course notebook)')}: {path}")
        return "\n".join(lines)


def _backup_folder(backup_dir: Path, now: dt.datetime) -> Path:
    base = backup_dir / now.strftime("%Y%m%d-%H%M%S")
    folder, counter = base, 1
    while folder.exists():  # two builds within one second
        counter += 1
        folder = base.with_name(f"{base.name}-{counter}")
    return folder


def build_learner_copies(
    solutions_dir: str | os.PathLike = "course/solutions",
    learner_dir: str | os.PathLike = "notebooks",
    backup_dir: str | os.PathLike | None = None,
    *,
    force: bool = False,
    backup: bool = True,
    modules: Sequence[Module] = MODULES,
    now: dt.datetime | None = None,
) -> BuildReport:
    """Generate the learner copies in ``learner_dir`` from the solution notebooks in ``solutions_dir``.

    Regenerates navigation in the solution notebooks (creating ``index.ipynb`` if missing), builds each learner
    copy with nbgrader's ``ClearSolutions`` / ``ClearHiddenTests`` / ``ClearOutput``, stamps it and writes it only if
    its bytes change. Copies of solutions that no longer exist are removed; notebooks the build did not make are left
    alone.

    A learner copy whose content differs from what was built (stamp mismatch or no stamp) is first copied to
    ``backup_dir/<timestamp>/<name>`` (default ``.opskit-backups/`` next to ``learner_dir``). With ``backup=False``
    the build refuses (``LearnerEditsError``, listing the notebooks, nothing written) unless ``force=True``.

    Parameters
    ----------
    solutions_dir, learner_dir : path
        Source and target folders.
    backup_dir : path, optional
        Where edited learner copies are saved before being replaced.
    force : bool
        With ``backup=False``: overwrite edited copies without a backup.
    backup : bool
        Back up edited copies (default) rather than refuse.
    modules : sequence of Module
        The course map (tests use a smaller one).
    now : datetime, optional
        Time for the backup folder name.

    Returns
    -------
    BuildReport

    Examples
    --------
    >>> report = build_learner_copies("course/solutions", "notebooks")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    学员副本: 写入 0,未变 8,删除 0 / learner copies: 0 written, 8 unchanged, 0 removed
    """
    solutions_dir, learner_dir = Path(solutions_dir), Path(learner_dir)
    plan = _plan(solutions_dir, learner_dir, modules)
    if plan.unknown_solutions:
        listed = ", ".join(plan.unknown_solutions)
        raise ValueError(str(Text(
            f"{solutions_dir} 中有不在课程目录里的笔记本: {listed};把它们加入 opskit.course.MODULES 或移走",
            f"{solutions_dir} holds notebooks that are not in the course map: {listed}; "
            "add them to opskit.course.MODULES or move them out",
        )))
    edited = [t.name for t in plan.targets if t.state == "edited"] + [n for n, e in plan.stale_generated if e]
    if edited and not backup and not force:
        listed = "\n".join(f"  {learner_dir / name}" for name in edited)
        raise LearnerEditsError(str(Text(
            f"以下学员副本被修改过,未备份时不会覆盖(去掉 --no-backup,或加 --force 丢弃修改):\n{listed}",
            f"these learner copies were edited; not overwriting them without a backup "
            f"(drop --no-backup, or add --force to discard the edits):\n{listed}",
        )))

    report = BuildReport()
    if edited and backup:
        backup_root = Path(backup_dir) if backup_dir is not None else learner_dir.parent / ".opskit-backups"
        report.backup_folder = _backup_folder(backup_root, now or dt.datetime.now())
        report.backup_folder.mkdir(parents=True)
        for name in edited:
            shutil.copy2(learner_dir / name, report.backup_folder / name)
            report.backed_up.append(report.backup_folder / name)

    for name, (data, _) in plan.solution_writes.items():
        _write_bytes(solutions_dir / name, data)
        report.solutions_updated.append(solutions_dir / name)
    learner_dir.mkdir(parents=True, exist_ok=True)
    for target in plan.targets:
        if target.state == "unchanged":
            report.unchanged.append(learner_dir / target.name)
        else:
            _write_bytes(learner_dir / target.name, target.data)
            report.written.append(learner_dir / target.name)
    for name, _ in plan.stale_generated:
        (learner_dir / name).unlink()
        report.removed.append(learner_dir / name)
    report.left_alone = [learner_dir / name for name in plan.learner_own]
    return report


# --------------------------------------------------------------------------------------------------------------
# Recording solution notebooks
# --------------------------------------------------------------------------------------------------------------
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def kernel_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for recording and testing notebooks (the same as ``kit.py``): stable outputs on every machine."""
    env = dict(os.environ if base is None else base)
    env["IPYKERNEL_CELL_NAME"] = "<IPY-INPUT>"  # no temp paths in warnings and tracebacks
    env["PYTHONHASHSEED"] = "0"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("MPLBACKEND", None)  # the kernel picks the inline backend itself
    env.pop("OPSKIT_LANGUAGE", None)  # outputs are recorded in the default (bilingual) language
    return env


def _current_env_kernel_manager() -> type:
    """A kernel manager whose ``python3`` kernel is this interpreter, whatever kernelspecs the machine has."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class CurrentEnvSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            if kernel_name == KERNELSPEC["name"]:
                from ipykernel.kernelspec import RESOURCES, get_kernel_dict

                return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())
            return super().get_kernel_spec(kernel_name)

    class CurrentEnvKernelManager(AsyncKernelManager):
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return CurrentEnvSpecs(data_dir=self.data_dir)

    return CurrentEnvKernelManager


def execute_notebook(nb: NotebookNode, folder: str | os.PathLike, *, timeout: int = 600) -> NotebookNode:
    """Run ``nb`` top to bottom in a fresh ``python3`` kernel of this environment, with ``folder`` as working dir.

    Raises ``nbclient.exceptions.CellExecutionError`` when a cell fails. Returns the executed copy.
    """
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNELSPEC["name"],
        kernel_manager_class=_current_env_kernel_manager(),
        record_timing=False,  # timings would make every recording differ
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=kernel_environment())
    return nb


def record_solutions(
    solutions_dir: str | os.PathLike = "course/solutions",
    names: Sequence[str] | None = None,
    *,
    modules: Sequence[Module] = MODULES,
    timeout: int = 600,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Re-execute solution notebooks in place so their stored outputs are current.

    Parameters
    ----------
    solutions_dir : path
        The solution notebooks.
    names : sequence of str, optional
        Module ids, stems or file names (``"02"``, ``"02-rfm-tiering"``, ``"index"``); all course notebooks if None.
    timeout : int
        Seconds allowed per cell.
    progress : callable, optional
        Called with a line of text before each notebook.

    Returns
    -------
    list of Path
        The notebooks recorded. A notebook whose run fails is not written; the error names it.
    """
    solutions_dir = _require_folder(solutions_dir, Text("解答笔记本", "solution notebook"))
    present, _ = _course_names(solutions_dir, modules)
    if names:
        wanted = []
        for name in names:
            filename = INDEX_NOTEBOOK if name in ("index", INDEX_NOTEBOOK) else module_by_id(name, modules).filename
            if filename not in present:
                raise ValueError(str(Text(f"{solutions_dir / filename} 不存在", f"{solutions_dir / filename} does not exist")))
            wanted.append(filename)
    else:
        wanted = present
    recorded = []
    for filename in wanted:
        path = solutions_dir / filename
        if progress:
            progress(str(Text(f"运行 {path} …", f"running {path} …")))
        nb = apply_navigation(read_notebook(path), filename, present, modules)
        if not any(cell.cell_type == "code" for cell in nb.cells):  # e.g. the index: no kernel needed
            _write_bytes(path, notebook_bytes(nb))
            recorded.append(path)
            continue
        try:
            executed = execute_notebook(nb, solutions_dir, timeout=timeout)
        except Exception as error:
            detail = _ANSI_ESCAPE.sub("", str(error)).strip()  # tracebacks arrive coloured
            raise RuntimeError(str(Text(f"{path} 运行失败", f"{path} failed to run")) + f":\n{detail}") from error
        _write_bytes(path, notebook_bytes(executed))
        recorded.append(path)
    return recorded


# --------------------------------------------------------------------------------------------------------------
# Where the course lives
# --------------------------------------------------------------------------------------------------------------
SOLUTIONS_SUBDIR = Path("course") / "solutions"
LEARNER_SUBDIR = Path("notebooks")


def find_course_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) that contains ``course/solutions``."""
    here = Path.cwd() if start is None else Path(start)
    here = here.resolve()
    for folder in (here, *here.parents):
        if (folder / SOLUTIONS_SUBDIR).is_dir():
            return folder
    raise ValueError(str(Text(
        f"在 {here} 及其上级文件夹中找不到 course/solutions;请在 opskit 文件夹内运行,或用 --root 指定",
        f"no course/solutions folder at or above {here}; run inside the opskit folder or pass --root",
    )))


__all__ = [
    "BUILD_HINT", "BuildReport", "CODE_STUB", "INDEX_NOTEBOOK", "LearnerEditsError", "MODULES", "Module",
    "SyncProblem", "TEXT_STUB", "apply_navigation", "build_learner_copies", "check_learner_copies_in_sync",
    "content_hash", "execute_notebook", "find_course_root", "index_table_markdown", "kernel_environment",
    "learner_edited", "make_learner_notebook", "module_by_id", "navigation_markdown", "new_index_notebook",
    "notebook_bytes", "read_notebook", "record_solutions", "stamp", "update_navigation",
]
