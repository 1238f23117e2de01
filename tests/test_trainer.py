"""Trainer commands: `opskit reset` never loses work; `opskit progress` scores learners' notebooks without editing them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from opskit import cli
from opskit.course import build_learner_copies
from opskit.trainer import (
    check_progress, find_learner_notebooks, fresh_learner_copies, progress_summary, render_scoreboard,
    reset_notebooks,
)

from test_course import edit_learner_copy, make_course, snapshot

REPO = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2025, 7, 1, 9, 30, 0)


@pytest.fixture
def built_course(tmp_path):
    solutions, learner = make_course(tmp_path)
    build_learner_copies(solutions, learner)
    return solutions, learner


# --- reset ------------------------------------------------------------------------------------------------------
def test_fresh_copies_are_what_build_writes(built_course):
    solutions, learner = built_course
    copies = fresh_learner_copies(solutions)
    assert list(copies) == ["index.ipynb", "00-welcome.ipynb", "01-customer-data.ipynb", "02-rfm-tiering.ipynb"]
    for name, data in copies.items():
        assert (learner / name).read_bytes() == data


def test_reset_backs_up_the_edited_notebook_byte_identical_then_restores_it(built_course, tmp_path):
    solutions, learner = built_course
    pristine = (learner / "01-customer-data.ipynb").read_bytes()
    edited = edit_learner_copy(learner / "01-customer-data.ipynb")
    assert edited != pristine

    report = reset_notebooks(["01"], learner, solutions, now=NOW)

    assert (learner / "01-customer-data.ipynb").read_bytes() == pristine
    assert report.backup_folder == tmp_path / ".opskit-backups" / "20250701-093000-reset-notebooks"
    assert report.backed_up == [report.backup_folder / "01-customer-data.ipynb"]
    assert report.backed_up[0].read_bytes() == edited  # reset never loses work
    assert report.reset == [learner / "01-customer-data.ipynb"]
    assert "reset: 1 notebook(s)" in str(report) and "已备份" in str(report)


def test_reset_only_touches_the_named_notebooks(built_course):
    solutions, learner = built_course
    edited_00 = edit_learner_copy(learner / "00-welcome.ipynb")
    edit_learner_copy(learner / "02-rfm-tiering.ipynb")
    reset_notebooks(["02-rfm-tiering.ipynb"], learner, solutions, now=NOW)
    assert (learner / "00-welcome.ipynb").read_bytes() == edited_00


def test_reset_of_an_untouched_notebook_makes_no_backup(built_course, tmp_path):
    solutions, learner = built_course
    before = snapshot(learner)
    report = reset_notebooks(None, learner, solutions, now=NOW)
    assert report.reset == [] and report.backup_folder is None and len(report.unchanged) == 4
    assert snapshot(learner) == before
    assert not (tmp_path / ".opskit-backups").exists()


def test_two_resets_in_one_second_never_share_a_backup_folder(built_course):
    solutions, learner = built_course
    first = edit_learner_copy(learner / "00-welcome.ipynb")
    one = reset_notebooks(["00"], learner, solutions, now=NOW)
    nb = nbformat.read(learner / "00-welcome.ipynb", as_version=4)
    nb.cells.append(new_code_cell("second = 2"))
    nbformat.write(nb, learner / "00-welcome.ipynb")
    second = (learner / "00-welcome.ipynb").read_bytes()
    two = reset_notebooks(["00"], learner, solutions, now=NOW)
    assert one.backup_folder != two.backup_folder
    assert two.backup_folder.name.endswith("-2")
    assert one.backed_up[0].read_bytes() == first and two.backed_up[0].read_bytes() == second


def test_reset_restores_a_deleted_or_corrupt_notebook_and_keeps_the_corrupt_bytes(built_course):
    solutions, learner = built_course
    (learner / "00-welcome.ipynb").unlink()
    (learner / "02-rfm-tiering.ipynb").write_bytes(b"{ not json")
    report = reset_notebooks(None, learner, solutions, now=NOW)
    assert (learner / "00-welcome.ipynb").exists()
    assert [p.name for p in report.backed_up] == ["02-rfm-tiering.ipynb"]
    assert report.backed_up[0].read_bytes() == b"{ not json"


def test_reset_leaves_the_learners_own_notebooks_alone(built_course):
    solutions, learner = built_course
    own = learner / "my-ideas.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("mine")]), own)
    data = own.read_bytes()
    reset_notebooks(None, learner, solutions, now=NOW)
    assert own.read_bytes() == data


def test_reset_rejects_an_unknown_name_before_writing_anything(built_course):
    solutions, learner = built_course
    edit_learner_copy(learner / "00-welcome.ipynb")
    before = snapshot(learner.parent)
    with pytest.raises(ValueError, match="07"):
        reset_notebooks(["00", "07"], learner, solutions, now=NOW)
    with pytest.raises(ValueError, match="03-clv-prediction.ipynb") as error:
        reset_notebooks(["03"], learner, solutions, now=NOW)  # a module with no solution notebook yet
    assert "不存在" in str(error.value)
    with pytest.raises(ValueError, match="does not exist"):
        reset_notebooks(None, learner.parent / "nobody", solutions, now=NOW)
    assert snapshot(learner.parent) == before


def test_cli_reset_with_learner_dir_and_backup_dir(built_course, tmp_path, monkeypatch, capsys):
    solutions, learner = built_course
    alice = tmp_path / "classroom" / "alice"
    shutil.copytree(learner, alice)
    edited = edit_learner_copy(alice / "00-welcome.ipynb")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["reset", "00", "--learner-dir", str(alice), "--backup-dir", str(tmp_path / "safe")])
    assert code == 0
    assert (alice / "00-welcome.ipynb").read_bytes() == (learner / "00-welcome.ipynb").read_bytes()
    backups = list((tmp_path / "safe").glob("*-reset-alice/00-welcome.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == edited
    assert "backed up" in capsys.readouterr().out


def test_cli_reset_unknown_module_exits_1_on_stderr(built_course, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["reset", "99"]) == 1
    captured = capsys.readouterr()
    assert "opskit reset" in captured.err and "99" in captured.err and captured.out == ""


# --- finding learners' notebooks --------------------------------------------------------------------------------
def test_find_learner_notebooks_file_folder_and_classroom(tmp_path):
    classroom = tmp_path / "classroom"
    for learner in ("alice", "bob"):
        (classroom / learner).mkdir(parents=True)
        (classroom / learner / "00-welcome.ipynb").write_text("{}")
        (classroom / learner / "index.ipynb").write_text("{}")  # no exercises: not scored
    (classroom / ".opskit-backups" / "x").mkdir(parents=True)
    (classroom / ".opskit-backups" / "x" / "00-welcome.ipynb").write_text("{}")
    found = find_learner_notebooks([classroom])
    assert [(name, path.parent.name, path.name) for name, path in found] == [
        ("alice", "alice", "00-welcome.ipynb"), ("bob", "bob", "00-welcome.ipynb")]
    assert find_learner_notebooks([classroom / "bob"]) == [("bob", classroom / "bob" / "00-welcome.ipynb")]
    single = classroom / "alice" / "00-welcome.ipynb"
    assert find_learner_notebooks([single]) == [("alice", single)]


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "missing", "does not exist"),
    (lambda root: root, "no course notebook"),
    (lambda root: (root / "notes.txt").write_text("x") and root / "notes.txt", "not an .ipynb"),
])
def test_find_learner_notebooks_errors_name_the_path(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ValueError, match=message) as error:
        find_learner_notebooks([path])
    assert str(path) in str(error.value)


# --- progress (runs kernels: a few seconds each) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def welcome_boards(tmp_path_factory):
    """Solution 00 and the learner copy 00, scored in one call, plus the file bytes before the run."""
    root = tmp_path_factory.mktemp("progress")
    for learner, source in (("solved", REPO / "course/solutions/00-welcome.ipynb"),
                            ("fresh", REPO / "notebooks/00-welcome.ipynb")):
        (root / learner).mkdir()
        shutil.copy2(source, root / learner / "00-welcome.ipynb")
    before = snapshot(root)
    runs: list = []
    board = check_progress([root], runs=runs)
    return root, before, board, runs


@pytest.mark.slow
def test_progress_scores_the_solution_full_and_the_learner_copy_zero(welcome_boards):
    _, _, board, runs = welcome_boards
    solved = board[board["learner"] == "solved"]
    fresh = board[board["learner"] == "fresh"]
    assert solved["problem"].tolist() == ["q1", "q2"] and fresh["problem"].tolist() == ["q1", "q2"]
    assert solved["status"].tolist() == ["correct", "correct"]
    assert fresh["status"].tolist() == ["not_attempted", "not_attempted"]
    assert (board["errors"] == 0).all() and not any(run.failure for run in runs)
    summary = progress_summary(board).set_index("learner")
    assert summary.loc["solved", "score"] == "2/2" and summary.loc["fresh", "score"] == "0/2"


@pytest.mark.slow
def test_progress_never_modifies_the_learners_files(welcome_boards):
    root, before, _, _ = welcome_boards
    assert snapshot(root) == before


@pytest.mark.slow
def test_progress_scores_a_notebook_that_errors_midway(tmp_path):
    nb = new_notebook(cells=[
        new_code_cell('from opskit.exercises import bind\nbind("00", globals())'),
        new_code_cell("sales = 45_870\norders = 108\natv = sales / orders\nq1.check()"),
        new_code_cell("1 / 0  # the learner broke something"),
        new_code_cell('channels = ["pos"]\nq2.check()'),
    ])
    path = tmp_path / "lee" / "00-welcome.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    runs: list = []
    board = check_progress([path], runs=runs)
    assert board["status"].tolist() == ["correct", "incorrect"]
    assert board["learner"].unique().tolist() == ["lee"]
    assert board["errors"].tolist() == [1, 1]
    assert runs[0].error_cells == ["cell 3: ZeroDivisionError: division by zero"]
    text = render_scoreboard(board, runs)
    assert "lee · 00-welcome.ipynb: 1/2" in text and "✓ 00 q1" in text and "✗ 00 q2" in text
    assert "ZeroDivisionError" in text


@pytest.mark.slow
def test_progress_lists_exercises_a_broken_run_never_reached(tmp_path, capsys):
    # the learner deleted the bind() cell and broke another: the kernel's scoreboard stays empty
    nb = new_notebook(cells=[new_code_cell("raise RuntimeError('learner stopped here')"),
                             new_code_cell("q1.check()")])
    path = tmp_path / "00-welcome.ipynb"
    nbformat.write(nb, path)
    assert cli.main(["progress", str(path), "--csv", str(tmp_path / "board.csv")]) == 0
    out = capsys.readouterr().out
    assert "0/2" in out and "· 00 q1" in out and "not_run" in out
    saved = (tmp_path / "board.csv").read_bytes()
    assert saved.startswith(b"\xef\xbb\xbf") and b"not_run" in saved


def test_progress_reports_an_unreadable_notebook_and_exits_1(tmp_path, capsys):
    path = tmp_path / "00-welcome.ipynb"
    path.write_text("{ not a notebook")
    assert cli.main(["progress", str(path)]) == 1
    captured = capsys.readouterr()
    assert "could not run" in captured.err and str(path) in captured.err
    assert "· 00 q1" in captured.out  # the expected exercises still appear, as not run


def test_progress_usage_errors(tmp_path, capsys):
    assert cli.main(["progress"]) == 2
    assert cli.main(["progress", str(tmp_path / "nobody")]) == 1
    assert "does not exist" in capsys.readouterr().err
