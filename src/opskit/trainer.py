"""Trainer tools for the workshop room: reset a learner's notebooks, and check a learner's progress.

``opskit reset`` and ``opskit progress`` (see :mod:`opskit.cli`) are thin wrappers around :func:`reset_notebooks` and
:func:`check_progress`.

Reset never loses work
----------------------
A learner notebook is put back to the current generated learner copy (exactly the bytes ``opskit build`` would
write). If the learner's file differs from that, it is first copied into a new timestamped backup folder, and the
copy is read back and compared byte for byte before the notebook is replaced. Backup folders are never reused.

Progress without touching the learner's file
--------------------------------------------
The notebook is read, a hidden cell is appended *in memory* that prints :func:`opskit.exercises.scoreboard` as
JSON, and the copy runs headless in a fresh kernel of this environment (``allow_errors``: a cell that fails does
not stop the run, so a notebook that breaks midway is still scored). The learner's file is never written.
Problems the notebook should contain but never bound (e.g. the run broke before ``bind``) are listed as
``not_run``, so every exercise of the lesson appears in the scoreboard.

Examples
--------
>>> from opskit.trainer import check_progress            # doctest: +SKIP
>>> board = check_progress(["classroom/"])              # doctest: +SKIP
>>> board.groupby("learner")["status"].value_counts()   # doctest: +SKIP
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from opskit.i18n import Text

__all__ = [
    "BACKUP_SUBDIR", "NotebookRun", "ResetReport", "STATUS_SYMBOLS", "check_progress", "find_learner_notebooks",
    "fresh_learner_copies", "progress_summary", "render_scoreboard", "reset_notebooks", "run_for_progress",
]

BACKUP_SUBDIR = ".opskit-backups"  # the same place `opskit build` keeps its backups
STATUS_SYMBOLS = {"correct": "✓", "incorrect": "✗", "not_attempted": "○", "not_run": "·"}
_STATUS_ORDER = ("correct", "incorrect", "not_attempted", "not_run")
_MARKER = "@@opskit-progress@@"
_PROGRESS_TAG = "opskit-progress"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SKIPPED_FOLDERS = (BACKUP_SUBDIR, ".ipynb_checkpoints")


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


# --------------------------------------------------------------------------------------------------------------
# Reset
# --------------------------------------------------------------------------------------------------------------
@dataclass
class ResetReport:
    """What :func:`reset_notebooks` did. ``str(report)`` is a short bilingual summary."""

    reset: list[Path] = field(default_factory=list)  # notebooks rewritten to the start
    unchanged: list[Path] = field(default_factory=list)  # already at the start: nothing to do
    backed_up: list[Path] = field(default_factory=list)  # the backup files
    backup_folder: Path | None = None

    def __str__(self) -> str:
        lines = [str(Text(
            f"重置: {len(self.reset)} 个笔记本已恢复到初始状态,{len(self.unchanged)} 个本来就是初始状态",
            f"reset: {len(self.reset)} notebook(s) restored to the start, {len(self.unchanged)} already at the start",
        ))]
        lines += [f"  {Text('已重置', 'reset')}: {path}" for path in self.reset]
        if self.backed_up:
            lines.append(str(Text(f"学员的原笔记本已备份到 {self.backup_folder}:",
                                  f"the learner's notebooks were backed up to {self.backup_folder}:")))
            lines += [f"  {path.name}" for path in self.backed_up]
        return "\n".join(lines)


def fresh_learner_copies(solutions_dir: str | os.PathLike, names: Sequence[str] | None = None) -> dict[str, bytes]:
    """The bytes ``opskit build`` would write for each learner notebook, computed in memory (nothing is written).

    Parameters
    ----------
    solutions_dir : path
        The solution notebooks (``course/solutions``).
    names : sequence of str, optional
        Module ids, stems or file names, or ``"index"``; every course notebook when None.

    Returns
    -------
    dict
        File name -> notebook bytes, in course order.

    Examples
    --------
    >>> list(fresh_learner_copies("course/solutions", ["00"]))   # doctest: +SKIP
    ['00-welcome.ipynb']
    """
    from opskit.course import (
        INDEX_NOTEBOOK, MODULES, _planned_navigation, _require_folder, make_learner_notebook, module_by_id,
        notebook_bytes, stamp,
    )

    solutions_dir = _require_folder(solutions_dir, Text("解答笔记本", "solution notebook"))
    present, planned = _planned_navigation(solutions_dir, MODULES, create_index=True)
    if names:
        wanted = []
        for name in names:
            key = str(name).strip()
            filename = INDEX_NOTEBOOK if key in ("index", INDEX_NOTEBOOK) else module_by_id(key).filename
            if filename not in present:
                raise _error(f"{solutions_dir / filename} 不存在,无法重置 {name!r}",
                             f"{solutions_dir / filename} does not exist, so {name!r} cannot be reset")
            if filename not in wanted:
                wanted.append(filename)
    else:
        wanted = list(present)
    copies = {}
    for filename in wanted:
        solution, _ = planned[filename]
        learner = stamp(make_learner_notebook(solution, filename, present, MODULES), filename, solution)
        copies[filename] = notebook_bytes(learner)
    return copies


def _new_backup_folder(backup_root: Path, learner_dir: Path, now: dt.datetime) -> Path:
    """A folder that did not exist before: ``<root>/<YYYYmmdd-HHMMSS>-reset-<learner folder>[-N]``."""
    backup_root.mkdir(parents=True, exist_ok=True)
    base = f"{now:%Y%m%d-%H%M%S}-reset-{learner_dir.resolve().name}"
    counter = 1
    while True:
        folder = backup_root / (base if counter == 1 else f"{base}-{counter}")
        try:
            folder.mkdir()  # atomic: two resets in one second never share (or overwrite) a folder
            return folder
        except FileExistsError:
            counter += 1


def reset_notebooks(
    names: Sequence[str] | None = None,
    learner_dir: str | os.PathLike = "notebooks",
    solutions_dir: str | os.PathLike = "course/solutions",
    backup_dir: str | os.PathLike | None = None,
    *,
    now: dt.datetime | None = None,
) -> ResetReport:
    """Put a learner's notebooks back to the start (the current generated learner copy), backing up their work first.

    Parameters
    ----------
    names : sequence of str, optional
        Module ids, stems or file names (``"02"``, ``"02-rfm-tiering"``, ``"index"``); every course notebook when
        None. Notebooks that are not course notebooks are never touched.
    learner_dir : path
        The learner's notebook folder (``notebooks/`` in the course folder, or a copy on the learner's machine).
    solutions_dir : path
        The solution notebooks the learner copies are generated from.
    backup_dir : path, optional
        Where backup folders are made; default ``.opskit-backups/`` next to ``learner_dir``.
    now : datetime, optional
        Time for the backup folder name.

    Returns
    -------
    ResetReport

    Raises
    ------
    ValueError
        For an unknown module name or a missing folder; nothing is written then.
    OSError
        If a backup cannot be written or does not read back identical; the notebook is then left as it was.

    Examples
    --------
    >>> report = reset_notebooks(["00"], "notebooks", "course/solutions")   # doctest: +SKIP
    >>> print(report)                                                        # doctest: +SKIP
    重置: 1 个笔记本已恢复到初始状态,0 个本来就是初始状态 / reset: 1 notebook(s) restored to the start, 0 already …
    """
    from opskit.course import _lf, _write_bytes

    learner_dir = Path(learner_dir)
    if not learner_dir.is_dir():
        raise _error(f"找不到学员笔记本文件夹 {learner_dir}", f"learner notebook folder {learner_dir} does not exist")
    copies = fresh_learner_copies(solutions_dir, names)  # validates every name before anything is written

    report = ResetReport()
    to_back_up = []
    for filename, data in copies.items():
        path = learner_dir / filename
        if path.is_dir():
            raise _error(f"{path} 是文件夹,不是笔记本", f"{path} is a folder, not a notebook")
        if path.exists() and _lf(path.read_bytes()) == data:
            report.unchanged.append(path)
        elif path.exists():
            to_back_up.append(path)
    if to_back_up:
        root = Path(backup_dir) if backup_dir is not None else learner_dir.parent / BACKUP_SUBDIR
        report.backup_folder = _new_backup_folder(root, learner_dir, now or dt.datetime.now())
        for path in to_back_up:
            target = report.backup_folder / path.name
            shutil.copy2(path, target)
            if target.read_bytes() != path.read_bytes():  # never replace work we could not save
                raise OSError(str(Text(f"备份 {target} 与 {path} 不一致,已停止重置",
                                       f"backup {target} differs from {path}; reset stopped")))
            report.backed_up.append(target)
    for filename, data in copies.items():
        path = learner_dir / filename
        if path not in report.unchanged:
            _write_bytes(path, data)
            report.reset.append(path)
    return report


# --------------------------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------------------------
_SCOREBOARD_CELL = f"""\
# opskit progress check (added in memory by `opskit progress`; never saved)
import json as _opskit_json
from opskit.exercises import scoreboard as _opskit_scoreboard
print({_MARKER!r} + _opskit_json.dumps(_opskit_scoreboard().to_dict(orient="records"), ensure_ascii=False))
"""


@dataclass
class NotebookRun:
    """The outcome of running one learner notebook for :func:`check_progress`.

    Attributes
    ----------
    path : Path
    learner : str
        The learner the notebook belongs to (see :func:`find_learner_notebooks`).
    records : list of dict
        The scoreboard rows (``lesson``, ``problem``, ``title``, ``status``, ``checks``) read at the end of the run.
    error_cells : list of str
        One line per cell that raised, e.g. ``"cell 12: NameError: name 'x' is not defined"``.
    failure : str or None
        Why the notebook could not be run at all (not a notebook, kernel died, timeout); then ``records`` is empty.
    """

    path: Path
    learner: str = ""
    records: list[dict] = field(default_factory=list)
    error_cells: list[str] = field(default_factory=list)
    failure: str | None = None


def _cell_errors(nb) -> list[str]:
    errors = []
    for index, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                detail = _ANSI_ESCAPE.sub("", f"{output.get('ename', '')}: {output.get('evalue', '')}").strip()
                errors.append(f"cell {index}: {detail[:160]}")
    return errors


def _scoreboard_records(cell) -> list[dict] | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            for line in str(output.get("text", "")).splitlines():
                if line.startswith(_MARKER):
                    return json.loads(line[len(_MARKER):])
    return None


def run_for_progress(path: str | os.PathLike, *, timeout: int = 300) -> NotebookRun:
    """Run a copy of one learner notebook headless and read the exercise scoreboard at the end.

    The learner's file is only read. The run uses a fresh ``python3`` kernel of this environment with
    :func:`opskit.course.kernel_environment`, the notebook's folder as working directory, and ``allow_errors``.

    Parameters
    ----------
    path : path
        The learner's notebook.
    timeout : int
        Seconds allowed per cell.

    Returns
    -------
    NotebookRun

    Examples
    --------
    >>> run = run_for_progress("notebooks/00-welcome.ipynb")   # doctest: +SKIP
    >>> [r["status"] for r in run.records]                     # doctest: +SKIP
    ['not_attempted', 'not_attempted']
    """
    import nbformat
    from nbclient import NotebookClient

    from opskit.course import _current_env_kernel_manager, kernel_environment, read_notebook

    path = Path(path)
    try:
        nb = copy.deepcopy(read_notebook(path))
    except (ValueError, OSError) as error:
        return NotebookRun(path, failure=str(error))
    cell = nbformat.v4.new_code_cell(_SCOREBOARD_CELL)
    cell.metadata["tags"] = [_PROGRESS_TAG]
    nb.cells.append(cell)
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,  # a broken cell must not stop the scoring of the rest
        kernel_name="python3",
        kernel_manager_class=_current_env_kernel_manager(),
        record_timing=False,
        resources={"metadata": {"path": str(path.resolve().parent)}},
    )
    try:
        client.execute(env=kernel_environment())
    except Exception as error:  # timeout, dead kernel: report this notebook, carry on with the others
        detail = _ANSI_ESCAPE.sub("", str(error)).strip().splitlines()
        return NotebookRun(path, error_cells=_cell_errors(nb), failure=f"{type(error).__name__}: "
                           f"{detail[0] if detail else ''}"[:300])
    records = _scoreboard_records(nb.cells[-1])
    errors = _cell_errors(nb)
    learner_errors = [e for e in errors if not e.startswith(f"cell {len(nb.cells)}:")]
    if records is None:  # the scoreboard cell itself failed, e.g. opskit is not importable in this kernel
        own = [e for e in errors if e not in learner_errors]
        return NotebookRun(path, error_cells=learner_errors, failure=own[0] if own else "no scoreboard output")
    return NotebookRun(path, records=records, error_cells=learner_errors)


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name in _SKIPPED_FOLDERS


def _course_notebooks(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` that belong to a course module with exercises, in course order."""
    from opskit.course import MODULES
    from opskit.exercises import lesson_ids

    lessons = set(lesson_ids())
    return [folder / m.filename for m in MODULES if m.id in lessons and (folder / m.filename).is_file()]


def find_learner_notebooks(paths: Iterable[str | os.PathLike]) -> list[tuple[str, Path]]:
    """(learner, notebook) pairs for ``opskit progress``.

    Each path is a notebook (the learner is its folder's name), a learner's folder of notebooks (the course
    notebooks with exercises in it), or a classroom folder whose sub-folders are one learner each. Hidden folders
    (``.opskit-backups``, ``.ipynb_checkpoints``) are skipped.

    Raises
    ------
    ValueError
        For a path that does not exist or holds no course notebook with exercises.

    Examples
    --------
    >>> find_learner_notebooks(["notebooks"])   # doctest: +SKIP
    [('notebooks', PosixPath('notebooks/00-welcome.ipynb')), ('notebooks', PosixPath('notebooks/02-rfm-tiering.ipynb'))]
    """
    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            if path.suffix != ".ipynb":
                raise _error(f"{path} 不是 .ipynb 笔记本", f"{path} is not an .ipynb notebook")
            found.append((path.resolve().parent.name, path))
        elif path.is_dir():
            own = _course_notebooks(path)
            if own:
                found += [(path.resolve().name, notebook) for notebook in own]
                continue
            learners = [sub for sub in sorted(path.iterdir()) if sub.is_dir() and not _is_hidden(sub)]
            nested = [(sub.name, notebook) for sub in learners for notebook in _course_notebooks(sub)]
            if not nested:
                raise _error(f"{path} 中没有带练习的课程笔记本(也没有每位学员一个的子文件夹)",
                             f"{path} holds no course notebook with exercises (nor one sub-folder per learner)")
            found += nested
        else:
            raise _error(f"找不到 {path}", f"{path} does not exist")
    return found


def _expected_problems(path: Path) -> list[dict]:
    """The problems a course notebook should bind, from its lesson module (empty for an unknown notebook)."""
    from opskit.course import module_by_id
    from opskit.exercises import lesson_ids, load_lesson

    try:
        lesson = module_by_id(path.name).id
    except ValueError:
        return []
    if lesson not in lesson_ids():
        return []
    return [
        {"lesson": lesson, "problem": f"q{number}", "title": str(problem.title), "status": "not_run", "checks": 0}
        for number, problem in enumerate(load_lesson(lesson).PROBLEMS, start=1)
    ]


def check_progress(
    paths: Iterable[str | os.PathLike],
    *,
    timeout: int = 300,
    on_notebook: Callable[[str, Path], None] | None = None,
    runs: list[NotebookRun] | None = None,
):
    """Run learners' notebooks headless and collect each exercise's latest outcome: the trainer's scoreboard.

    Parameters
    ----------
    paths : iterable of path
        Notebooks, learner folders or a classroom folder (see :func:`find_learner_notebooks`).
    timeout : int
        Seconds allowed per cell.
    on_notebook : callable, optional
        Called with ``(learner, path)`` before each notebook runs (for a progress line).
    runs : list, optional
        If given, each :class:`NotebookRun` is appended to it (cell errors, failures).

    Returns
    -------
    pandas.DataFrame
        One row per learner, notebook and exercise: ``learner``, ``notebook``, ``lesson``, ``problem``, ``title``,
        ``status`` (``correct`` / ``incorrect`` / ``not_attempted`` / ``not_run``), ``checks`` and ``errors`` (the
        number of cells of that notebook that raised).

    Examples
    --------
    >>> board = check_progress(["course/solutions/00-welcome.ipynb"])   # doctest: +SKIP
    >>> board["status"].tolist()                                         # doctest: +SKIP
    ['correct', 'correct']
    """
    import pandas as pd

    rows = []
    for learner, path in find_learner_notebooks(paths):
        if on_notebook:
            on_notebook(learner, path)
        run = run_for_progress(path, timeout=timeout)
        run.learner = learner
        if runs is not None:
            runs.append(run)
        seen = {(r["lesson"], r["problem"]) for r in run.records}
        missing = [r for r in _expected_problems(path) if (r["lesson"], r["problem"]) not in seen]
        for record in [*run.records, *missing]:
            rows.append({"learner": learner, "notebook": path.name, **record, "errors": len(run.error_cells)})
    columns = ["learner", "notebook", "lesson", "problem", "title", "status", "checks", "errors"]
    board = pd.DataFrame(rows, columns=columns)
    if board.empty:
        return board.astype({"checks": "int64", "errors": "int64"})
    board["_n"] = board["problem"].str.extract(r"(\d+)", expand=False).astype("int64")
    board = board.sort_values(["learner", "notebook", "lesson", "_n"], kind="stable").drop(columns="_n")
    return board.reset_index(drop=True).astype({"checks": "int64", "errors": "int64"})


def progress_summary(board):
    """Per learner and notebook: exercises correct out of total, and the count of each status.

    Examples
    --------
    >>> progress_summary(board)   # doctest: +SKIP
    """
    import pandas as pd

    if board.empty:
        return pd.DataFrame(columns=["learner", "notebook", "score", *_STATUS_ORDER, "errors"])
    counts = pd.crosstab([board["learner"], board["notebook"]], board["status"])
    counts = counts.reindex(columns=list(_STATUS_ORDER), fill_value=0)
    errors = board.groupby(["learner", "notebook"])["errors"].max()
    summary = counts.assign(errors=errors).reset_index()
    total = summary[list(_STATUS_ORDER)].sum(axis=1)
    summary.insert(2, "score", summary["correct"].astype(str) + "/" + total.astype(str))
    summary.columns.name = None
    return summary


def render_scoreboard(board, runs: Sequence[NotebookRun] = ()) -> str:
    """The scoreboard as plain text for the terminal: one block per learner, a symbol per exercise, a score line."""
    lines: list[str] = []
    legend = "  ".join(f"{STATUS_SYMBOLS[s]} {s}" for s in _STATUS_ORDER)
    lines.append(f"{Text('图例', 'legend')}: {legend}")
    by_notebook = {(run.learner, run.path.name): run for run in runs}
    for (learner, notebook), group in board.groupby(["learner", "notebook"], sort=False):
        correct = int((group["status"] == "correct").sum())
        lines.append("")
        lines.append(f"{learner} · {notebook}: {correct}/{len(group)} {Text('正确', 'correct')}")
        for row in group.itertuples(index=False):
            lines.append(f"  {STATUS_SYMBOLS.get(row.status, '?')} {row.lesson} {row.problem:<4} {row.title}"
                         f"  ({row.status}, {Text('检查次数', 'checks')} {row.checks})")
        lines += _run_problems(by_notebook.pop((learner, notebook), None))
    for (learner, notebook), run in by_notebook.items():  # failed runs of notebooks without known exercises
        lines += ["", f"{learner} · {notebook}:", *_run_problems(run)]
    return "\n".join(lines)


def _run_problems(run: NotebookRun | None, limit: int = 5) -> list[str]:
    if run is None:
        return []
    lines = [f"  ! {Text('未能运行', 'could not run')}: {run.failure}"] if run.failure else []
    lines += [f"  ! {Text('出错', 'error')} {error}" for error in run.error_cells[:limit]]
    if len(run.error_cells) > limit:
        more = len(run.error_cells) - limit
        lines.append(f"  ! … {Text(f'另有 {more} 个出错单元格', f'{more} more failing cell(s)')}")
    return lines
