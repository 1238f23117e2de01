"""Course map, navigation cells and learner copies, on tiny notebooks in temporary folders."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from opskit import course
from opskit.course import (
    CODE_STUB,
    INDEX_NOTEBOOK,
    MODULES,
    TEXT_STUB,
    LearnerEditsError,
    build_learner_copies,
    check_learner_copies_in_sync,
    content_hash,
    module_by_id,
    update_navigation,
)

SETUP = '''\
class _Placeholder:
    def __repr__(self):
        return "____"

____ = _Placeholder()

class Question:
    def __init__(self, name, expected):
        self.name, self.expected = name, expected

    def check(self):
        value = globals().get(self.name, ____)
        if value is ____:
            print("not attempted / 未作答")
            return "not attempted"
        outcome = "correct" if abs(value - self.expected) < 1e-9 else "incorrect"
        print(outcome)
        return outcome

    def assert_check_passed(self):
        assert self.check() == "correct"

sales, orders = 300.0, 4
q1 = Question("atv", 75.0)'''

EXERCISE = """\
atv = ____
### BEGIN SOLUTION
atv = sales / orders
### END SOLUTION
q1.check();"""

MARKDOWN_SOLUTION = """\
**Why divide by orders?**

### BEGIN SOLUTION
Because ATV is sales per order.
### END SOLUTION"""

HIDDEN_TESTS = """\
print("checked")
### BEGIN HIDDEN TESTS
assert atv == 75.0
### END HIDDEN TESTS"""


def solution_notebook(title: str = "Welcome", executed: bool = True) -> nbformat.NotebookNode:
    """A tiny solution notebook: setup, an exercise, a trainer-only check, a written answer and hidden tests."""
    setup = new_code_cell(SETUP, id="setup")
    exercise = new_code_cell(EXERCISE, id="q1-exercise")
    trainer = new_code_cell("q1.assert_check_passed()", id="q1-trainer", metadata={"tags": ["trainer-only"]})
    hidden = new_code_cell(HIDDEN_TESTS, id="q1-hidden")
    if executed:
        exercise.execution_count = 2
        exercise.outputs = [new_output("stream", name="stdout", text="correct\n")]
        exercise.metadata = {"collapsed": False, "execution": {"iopub.status.idle": "2025-01-01T00:00:00.000Z"}}
        setup.execution_count, trainer.execution_count, hidden.execution_count = 1, 3, 4
    nb = new_notebook(cells=[
        new_markdown_cell(f"# {title}", id="title"),
        setup,
        exercise,
        trainer,
        new_markdown_cell(MARKDOWN_SOLUTION, id="q2-written"),
        hidden,
    ])
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.9"},
    }
    return nb


def make_course(root: Path, stems=("00-welcome", "01-customer-data", "02-rfm-tiering")) -> tuple[Path, Path]:
    """A course folder with ``course/solutions`` holding tiny notebooks for ``stems``; returns (solutions, learner)."""
    solutions = root / "course" / "solutions"
    solutions.mkdir(parents=True)
    for stem in stems:
        nbformat.write(solution_notebook(stem), solutions / f"{stem}.ipynb")
    return solutions, root / "notebooks"


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def cell_by_id(nb, cell_id):
    matches = [cell for cell in nb.cells if cell.get("id") == cell_id]
    assert len(matches) == 1, f"cell {cell_id!r} found {len(matches)} times"
    return matches[0]


# --- the course map ---------------------------------------------------------------------------------------------
def test_course_map_matches_the_syllabus():
    assert [m.id for m in MODULES] == ["00", "01", "02", "03", "04", "05", "06"]
    assert [m.stem for m in MODULES] == [
        "00-welcome", "01-customer-data", "02-rfm-tiering", "03-clv-prediction", "04-lifecycle",
        "05-store-compass", "06-capstone",
    ]
    assert [m.minutes for m in MODULES] == [20, 60, 60, 75, 60, 75, 90]
    assert all(m.stem.startswith(m.id + "-") for m in MODULES)
    assert MODULES[5].title_zh == "店铺分析罗盘" and MODULES[5].title_en == "Store-analysis compass"
    assert str(MODULES[3].title.render("both")) == "客户终身价值预测 / CLV prediction"


@pytest.mark.parametrize("name", ["03", "03-clv-prediction", "03-clv-prediction.ipynb", " 03 "])
def test_module_by_id_accepts_id_stem_and_file_name(name):
    assert module_by_id(name).stem == "03-clv-prediction"


def test_module_by_id_rejects_unknown_names_in_both_languages():
    with pytest.raises(ValueError, match="07") as error:
        module_by_id("07")
    assert "课程中没有模块" in str(error.value) and "no module" in str(error.value)


# --- navigation -------------------------------------------------------------------------------------------------
def test_navigation_links_only_notebooks_that_exist(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    for stem in ("00-welcome", "02-rfm-tiering"):
        nbformat.write(solution_notebook(stem), folder / f"{stem}.ipynb")
    written = update_navigation(folder)
    assert sorted(p.name for p in written) == ["00-welcome.ipynb", "02-rfm-tiering.ipynb", INDEX_NOTEBOOK]

    welcome = nbformat.read(folder / "00-welcome.ipynb", as_version=4)
    top, bottom = welcome.cells[0], welcome.cells[-1]
    assert top.metadata["tags"] == ["opskit-nav"] and bottom.metadata["tags"] == ["opskit-nav"]
    assert top.source == bottom.source
    assert top.source == "[课程目录 Course contents](index.ipynb) | 01 客户数据管理 Customer data collection >"
    assert welcome.cells[1].source == "# 00-welcome"  # the title stays right under the navigation

    rfm = nbformat.read(folder / "02-rfm-tiering.ipynb", as_version=4)
    assert rfm.cells[0].source == (
        "< 01 客户数据管理 Customer data collection | [课程目录 Course contents](index.ipynb) | "
        "03 客户终身价值预测 CLV prediction >"
    )

    index = nbformat.read(folder / INDEX_NOTEBOOK, as_version=4)
    assert index.cells[0].source == "课程目录 Course contents | [00 欢迎 Welcome >](00-welcome.ipynb)"
    table = [c for c in index.cells if "opskit-index" in c.metadata.get("tags", [])]
    assert len(table) == 1
    rows = {line.split("|")[1].strip(): line for line in table[0].source.splitlines() if line.startswith("| 0")}
    assert "[00-welcome.ipynb](00-welcome.ipynb)" in rows["00"]
    assert "](01-customer-data.ipynb)" not in rows["01"] and "not yet available" in rows["01"]
    assert "[02-rfm-tiering.ipynb](02-rfm-tiering.ipynb)" in rows["02"]
    assert "| 75 分钟 min |" in rows["05"]
    assert "440 分钟 min" in table[0].source


def test_navigation_of_the_last_module_has_no_next_link(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    for stem in ("05-store-compass", "06-capstone"):
        nbformat.write(solution_notebook(stem), folder / f"{stem}.ipynb")
    update_navigation(folder)
    capstone = nbformat.read(folder / "06-capstone.ipynb", as_version=4)
    assert capstone.cells[0].source == (
        "[< 05 店铺分析罗盘 Store-analysis compass](05-store-compass.ipynb) | [课程目录 Course contents](index.ipynb)"
    )


def test_update_navigation_is_idempotent_and_replaces_old_navigation(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    nb = solution_notebook()
    stale = new_markdown_cell("old nav", id="old-nav", metadata={"tags": ["opskit-nav"]})
    nb.cells.insert(3, stale)  # a nav cell in the middle, e.g. after a merge
    nbformat.write(nb, folder / "00-welcome.ipynb")
    scratch = folder / "scratch.ipynb"
    nbformat.write(solution_notebook(), scratch)
    scratch_bytes = scratch.read_bytes()

    update_navigation(folder)
    first = snapshot(folder)
    assert update_navigation(folder) == []
    assert snapshot(folder) == first
    assert scratch.read_bytes() == scratch_bytes  # not a course notebook: untouched

    updated = nbformat.read(folder / "00-welcome.ipynb", as_version=4)
    nav = [c for c in updated.cells if "opskit-nav" in c.metadata.get("tags", [])]
    assert [c.id for c in nav] == ["opskit-nav-top", "opskit-nav-bottom"]
    assert "old nav" not in json.dumps(updated)
    assert cell_by_id(updated, "q1-exercise").outputs  # solution outputs are kept


def test_update_navigation_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        update_navigation(tmp_path / "nope")


def test_update_navigation_gives_cells_without_ids_stable_ids(tmp_path):
    folder = tmp_path / "nb"
    folder.mkdir()
    raw = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# hi"]},
                     {"cell_type": "markdown", "metadata": {}, "source": ["# hi"]}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    (folder / "00-welcome.ipynb").write_text(json.dumps(raw))
    update_navigation(folder)
    nb = nbformat.read(folder / "00-welcome.ipynb", as_version=4)
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids) == 4
    nbformat.validate(nb)

    again = tmp_path / "again"
    again.mkdir()
    (again / "00-welcome.ipynb").write_text(json.dumps(raw))
    update_navigation(again)
    assert (again / "00-welcome.ipynb").read_bytes() == (folder / "00-welcome.ipynb").read_bytes()


# --- learner copies ---------------------------------------------------------------------------------------------
def test_learner_copy_has_stubs_no_solutions_and_no_outputs(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    path = learner / "00-welcome.ipynb"
    text = path.read_text(encoding="utf-8")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)

    assert cell_by_id(nb, "q1-exercise").source == f"atv = ____\n{CODE_STUB}\nq1.check();"
    assert "sales / orders" not in text and "raise NotImplementedError" not in text
    assert not [c for c in nb.cells if c.id == "q1-trainer"] and "assert_check_passed()\"" not in text
    written = cell_by_id(nb, "q2-written").source
    assert written == f"**Why divide by orders?**\n\n{TEXT_STUB}"
    assert "Because ATV" not in text
    assert cell_by_id(nb, "q1-hidden").source == 'print("checked")'
    assert "BEGIN" not in text and "END SOLUTION" not in text

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert all(set(c.metadata) <= {"tags", "deletable", "editable"} for c in nb.cells)
    assert "nbgrader" not in text
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert set(nb.metadata) == {"kernelspec", "language_info", "opskit"}
    assert text.endswith("}\n") and nb.nbformat == 4 and nb.nbformat_minor >= 5

    solution = nbformat.read(solutions / "00-welcome.ipynb", as_version=4)
    kept_ids = [c.id for c in solution.cells if c.id != "q1-trainer"]
    assert [c.id for c in nb.cells] == kept_ids  # ids carried over, order kept
    assert nb.metadata["opskit"] == {
        "source": "00-welcome.ipynb",
        "source_sha256": content_hash(solution),
        "build_sha256": content_hash(nb),
    }
    assert cell_by_id(solution, "q1-exercise").outputs  # the solution keeps its outputs


def test_build_copies_index_and_navigation_to_both_folders(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome", "02-rfm-tiering"))
    report = build_learner_copies(solutions, learner)
    assert sorted(p.name for p in solutions.glob("*.ipynb")) == sorted(p.name for p in learner.glob("*.ipynb"))
    assert (learner / INDEX_NOTEBOOK).exists() and (solutions / INDEX_NOTEBOOK) in report.solutions_updated
    for folder in (solutions, learner):
        nb = nbformat.read(folder / "02-rfm-tiering.ipynb", as_version=4)
        assert nb.cells[0].source.startswith("< 01 客户数据管理")  # 01 does not exist: plain text
        assert "[课程目录 Course contents](index.ipynb)" in nb.cells[-1].source


def test_second_build_is_byte_identical_and_writes_nothing(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    first = snapshot(solutions, learner)
    report = build_learner_copies(solutions, learner)
    assert report.written == [] and report.solutions_updated == [] and report.backed_up == []
    assert len(report.unchanged) == 4
    assert snapshot(solutions, learner) == first
    assert check_learner_copies_in_sync(solutions, learner) == []


def test_build_is_deterministic_across_folders(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    s1, l1 = make_course(one)
    s2, l2 = make_course(two)
    build_learner_copies(s1, l1)
    build_learner_copies(s2, l2)
    for path in l1.glob("*.ipynb"):
        assert path.read_bytes() == (l2 / path.name).read_bytes()


def edit_learner_copy(path: Path) -> bytes:
    nb = nbformat.read(path, as_version=4)
    cell_by_id(nb, "q1-exercise").source = "atv = 300.0 / 4\nq1.check();"
    nbformat.write(nb, path)
    return path.read_bytes()


def test_learner_edits_are_backed_up_before_overwriting(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    pristine = (learner / "01-customer-data.ipynb").read_bytes()
    edited = edit_learner_copy(learner / "01-customer-data.ipynb")

    moment = dt.datetime(2025, 3, 1, 9, 30, 0)
    report = build_learner_copies(solutions, learner, now=moment)
    backup = tmp_path / ".opskit-backups" / "20250301-093000" / "01-customer-data.ipynb"
    assert report.backed_up == [backup]
    assert backup.read_bytes() == edited
    assert (learner / "01-customer-data.ipynb").read_bytes() == pristine
    assert "01-customer-data.ipynb" in str(report) and "backed up" in str(report)

    # a second edit in the same second gets its own backup folder
    edit_learner_copy(learner / "01-customer-data.ipynb")
    report = build_learner_copies(solutions, learner, backup_dir=tmp_path / "saved", now=moment)
    assert report.backed_up == [tmp_path / "saved" / "20250301-093000" / "01-customer-data.ipynb"]
    edit_learner_copy(learner / "01-customer-data.ipynb")
    report = build_learner_copies(solutions, learner, backup_dir=tmp_path / "saved", now=moment)
    assert report.backed_up == [tmp_path / "saved" / "20250301-093000-2" / "01-customer-data.ipynb"]


def test_a_copy_without_stamp_counts_as_edited(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    learner.mkdir()
    nbformat.write(solution_notebook(), learner / "00-welcome.ipynb")  # e.g. copied by hand
    report = build_learner_copies(solutions, learner)
    assert [p.name for p in report.backed_up] == ["00-welcome.ipynb"]


def test_running_a_copy_is_not_an_edit(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    path = learner / "00-welcome.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = cell_by_id(nb, "q1-exercise")
    cell.execution_count, cell.outputs = 7, [new_output("stream", name="stdout", text="not attempted\n")]
    cell.metadata["execution"] = {"iopub.status.idle": "2025-01-01T00:00:00.000Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    nbformat.write(nb, path)

    report = build_learner_copies(solutions, learner)
    assert report.backed_up == [] and report.written == [path]
    assert not (tmp_path / ".opskit-backups").exists()


def test_refuses_to_overwrite_edits_without_backup(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    edited = edit_learner_copy(learner / "02-rfm-tiering.ipynb")
    before = snapshot(solutions, learner)

    with pytest.raises(LearnerEditsError, match="02-rfm-tiering.ipynb") as error:
        build_learner_copies(solutions, learner, backup=False)
    assert "--no-backup" in str(error.value) and "修改" in str(error.value)
    assert snapshot(solutions, learner) == before  # nothing written
    assert not (tmp_path / ".opskit-backups").exists()

    report = build_learner_copies(solutions, learner, backup=False, force=True)
    assert report.backed_up == [] and (learner / "02-rfm-tiering.ipynb").read_bytes() != edited
    assert not (tmp_path / ".opskit-backups").exists()


def test_sync_check_reports_stale_missing_and_extra(tmp_path):
    solutions, learner = make_course(tmp_path)
    assert {p.kind for p in check_learner_copies_in_sync(solutions, learner)} == {"navigation", "missing"}
    build_learner_copies(solutions, learner)
    assert check_learner_copies_in_sync(solutions, learner) == []

    # the trainer improves a solution but forgets to rebuild
    nb = nbformat.read(solutions / "01-customer-data.ipynb", as_version=4)
    cell_by_id(nb, "title").source = "# Customer data, revised"
    nbformat.write(nb, solutions / "01-customer-data.ipynb")
    (learner / "00-welcome.ipynb").unlink()
    nbformat.write(solution_notebook(), learner / "my-notes.ipynb")

    problems = check_learner_copies_in_sync(solutions, learner)
    by_kind = {(p.kind, Path(p.path).name) for p in problems}
    assert by_kind == {
        ("stale", "01-customer-data.ipynb"),
        ("missing", "00-welcome.ipynb"),
        ("extra", "my-notes.ipynb"),
    }
    messages = {Path(p.path).name: str(p) for p in problems}
    assert "opskit build" in messages["01-customer-data.ipynb"]
    assert "solution notebook changed" in messages["01-customer-data.ipynb"]
    assert "opskit build" in messages["00-welcome.ipynb"]

    report = build_learner_copies(solutions, learner)
    assert report.left_alone == [learner / "my-notes.ipynb"]
    assert [(p.kind, Path(p.path).name) for p in check_learner_copies_in_sync(solutions, learner)] == [
        ("extra", "my-notes.ipynb")
    ]


def test_copy_of_a_removed_solution_is_removed(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    (solutions / "02-rfm-tiering.ipynb").unlink()
    problems = check_learner_copies_in_sync(solutions, learner)
    assert ("stale", "02-rfm-tiering.ipynb") in {(p.kind, Path(p.path).name) for p in problems}
    assert ("navigation", "01-customer-data.ipynb") in {(p.kind, Path(p.path).name) for p in problems}
    report = build_learner_copies(solutions, learner)
    assert report.removed == [learner / "02-rfm-tiering.ipynb"] and not report.backed_up
    assert not (learner / "02-rfm-tiering.ipynb").exists()
    assert check_learner_copies_in_sync(solutions, learner) == []


def test_unknown_solution_notebook_is_an_error(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    nbformat.write(solution_notebook(), solutions / "bonus.ipynb")
    with pytest.raises(ValueError, match="bonus.ipynb"):
        build_learner_copies(solutions, learner)
    assert [p.kind for p in check_learner_copies_in_sync(solutions, learner) if "bonus" in p.path] == ["unknown"]


def test_unbalanced_solution_region_names_notebook_and_cell(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    nb = nbformat.read(solutions / "00-welcome.ipynb", as_version=4)
    cell_by_id(nb, "q1-exercise").source = "atv = ____\n### BEGIN SOLUTION\natv = sales / orders\nq1.check()"
    nbformat.write(nb, solutions / "00-welcome.ipynb")
    # cell 4 of the file as the trainer sees it: navigation, title, setup, exercise
    with pytest.raises(ValueError, match=r"00-welcome.ipynb, cell 4 \(id q1-exercise\)"):
        build_learner_copies(solutions, learner)
    assert not learner.exists()


def test_invalid_notebook_file_is_named(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    (solutions / "01-customer-data.ipynb").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="01-customer-data.ipynb"):
        build_learner_copies(solutions, learner)


def test_missing_solutions_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="solution notebook folder"):
        build_learner_copies(tmp_path / "nothing", tmp_path / "notebooks")


def test_content_hash_ignores_outputs_and_navigation_but_not_sources():
    nb = solution_notebook(executed=False)
    ran = solution_notebook(executed=True)
    assert content_hash(nb) == content_hash(ran)
    with_nav = course.apply_navigation(nb, "00-welcome.ipynb", ["00-welcome.ipynb"])
    assert content_hash(with_nav) == content_hash(nb)
    edited = solution_notebook(executed=False)
    edited.cells[2].source += "\nprint(atv)"
    assert content_hash(edited) != content_hash(nb)


def test_find_course_root_walks_up(tmp_path):
    make_course(tmp_path, stems=())
    deep = tmp_path / "notebooks" / "sub"
    deep.mkdir(parents=True)
    assert course.find_course_root(deep) == tmp_path.resolve()
    with pytest.raises(ValueError, match="course/solutions"):
        course.find_course_root(tmp_path.parent)


@pytest.mark.slow
def test_learner_copy_runs_top_to_bottom_and_says_not_attempted(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    build_learner_copies(solutions, learner)
    nb = nbformat.read(learner / "00-welcome.ipynb", as_version=4)
    executed = course.execute_notebook(nb, learner, timeout=60)
    outputs = cell_by_id(executed, "q1-exercise").outputs
    assert [o.get("text") for o in outputs] == ["not attempted / 未作答\n"]
    assert all(o.output_type != "error" for c in executed.cells if c.cell_type == "code" for o in c.outputs)


def test_crlf_checkout_counts_as_in_sync(tmp_path):
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    build_learner_copies(solutions, learner)
    for path in [*solutions.glob("*.ipynb"), *learner.glob("*.ipynb")]:
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # git autocrlf on Windows
    assert check_learner_copies_in_sync(solutions, learner) == []


def test_nbgrader_solution_cells_are_honoured_and_keep_their_metadata(tmp_path):
    """A trainer's nbgrader-marked solution cell (no delimiters) is replaced whole; its metadata stays."""
    solutions, learner = make_course(tmp_path, stems=("00-welcome",))
    nb = nbformat.read(solutions / "00-welcome.ipynb", as_version=4)
    marked = {"grade": False, "grade_id": "atv", "locked": False, "schema_version": 3, "solution": True}
    nb.cells.append(new_code_cell("atv = sales / orders", id="graded", metadata={"nbgrader": marked}))
    nbformat.write(nb, solutions / "00-welcome.ipynb")
    build_learner_copies(solutions, learner)
    copy = nbformat.read(learner / "00-welcome.ipynb", as_version=4)
    graded = cell_by_id(copy, "graded")
    assert graded.source == CODE_STUB and graded.metadata["nbgrader"] == marked
    assert sum("nbgrader" in c.metadata for c in copy.cells) == 1
