"""The `opskit` command: subcommands, exit codes (0 ok, 1 failure, 2 usage) and messages on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from opskit import cli, envcheck
from opskit.envcheck import CheckRow

from test_course import edit_learner_copy, make_course


@pytest.fixture
def course_root(tmp_path, monkeypatch):
    solutions, learner = make_course(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_lists_every_subcommand(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("build", "nav", "check-env", "record"):
        assert name in out


def test_subcommand_help_exits_zero(capsys):
    assert cli.main(["build", "--help"]) == 0
    assert "--no-backup" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["build", "--bogus"], ["record", "--timeout", "soon"]])
def test_usage_errors_exit_2_on_stderr(argv, capsys):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert "usage:" in captured.err and captured.out == ""


def test_adding_a_subcommand_is_one_function(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMANDS", dict(cli.COMMANDS))

    @cli.command("hello", cli.Text("问好", "say hello"), cli.arg("--name", default="world"), needs_course=False)
    def _hello(args):
        print(f"hello {args.name}")
        return 0

    assert cli.main(["hello", "--name", "store"]) == 0
    assert capsys.readouterr().out == "hello store\n"


def test_build_then_check_from_a_subfolder(course_root, monkeypatch, capsys):
    sub = course_root / "course" / "solutions"
    monkeypatch.chdir(sub)  # the course root is found by walking up
    assert cli.main(["build"]) == 0
    out = capsys.readouterr().out
    assert "4 written" in out
    assert cli.main(["build", "--check"]) == 0
    assert "in sync" in capsys.readouterr().out
    assert (course_root / "notebooks" / "index.ipynb").exists()


def test_build_check_fails_when_out_of_sync(course_root, capsys):
    assert cli.main(["build", "--check"]) == 1
    captured = capsys.readouterr()
    assert "opskit build" in captured.err and "missing" in captured.err and captured.out == ""
    assert not (course_root / "notebooks").exists()  # --check writes nothing


def test_build_refuses_learner_edits_with_no_backup(course_root, capsys):
    assert cli.main(["build"]) == 0
    edited = edit_learner_copy(course_root / "notebooks" / "00-welcome.ipynb")
    capsys.readouterr()
    assert cli.main(["build", "--no-backup"]) == 1
    captured = capsys.readouterr()
    assert "00-welcome.ipynb" in captured.err and "opskit build: " in captured.err
    assert (course_root / "notebooks" / "00-welcome.ipynb").read_bytes() == edited
    assert cli.main(["build", "--no-backup", "--force"]) == 0
    assert (course_root / "notebooks" / "00-welcome.ipynb").read_bytes() != edited
    assert not (course_root / ".opskit-backups").exists()


def test_build_backs_up_learner_edits_by_default(course_root, capsys):
    assert cli.main(["build"]) == 0
    edit_learner_copy(course_root / "notebooks" / "01-customer-data.ipynb")
    assert cli.main(["build"]) == 0
    assert "backed up" in capsys.readouterr().out
    assert [p.name for p in (course_root / ".opskit-backups").rglob("*.ipynb")] == ["01-customer-data.ipynb"]


def test_root_option_and_missing_course(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["nav"]) == 1
    err = capsys.readouterr().err
    assert "course/solutions" in err and "Traceback" not in err
    make_course(tmp_path / "elsewhere", stems=("00-welcome",))
    assert cli.main(["nav", "--root", str(tmp_path / "elsewhere")]) == 0
    assert "2 notebook(s) updated" in capsys.readouterr().out
    assert cli.main(["nav", "--root", str(tmp_path / "elsewhere")]) == 0
    assert "0 notebook(s) updated" in capsys.readouterr().out


def test_nav_does_not_create_an_unstamped_learner_index(course_root, capsys):
    assert cli.main(["build"]) == 0
    (course_root / "notebooks" / "index.ipynb").unlink()
    assert cli.main(["nav"]) == 0
    assert not (course_root / "notebooks" / "index.ipynb").exists()


def test_build_reports_bad_solution_as_failure(course_root, capsys):
    (course_root / "course" / "solutions" / "02-rfm-tiering.ipynb").write_text("not a notebook")
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err
    assert "02-rfm-tiering.ipynb" in err and "Traceback" not in err


@pytest.mark.parametrize("status, code", [("ok", 0), ("problem", 1)])
def test_check_env_exit_code(monkeypatch, capsys, status, code):
    rows = [CheckRow("python", ">=3.11", "3.11", "ok"), CheckRow("pandas", ">=2.2,<4", "2.1.0", status, "fix it")]
    monkeypatch.setattr(envcheck, "check_environment", lambda: rows)
    assert cli.main(["check-env"]) == code
    out = capsys.readouterr().out
    assert "pandas" in out and ("fix it" in out) == (status == "problem")


def test_record_rejects_unknown_names_without_starting_a_kernel(course_root, capsys):
    assert cli.main(["record", "09"]) == 1
    assert "09" in capsys.readouterr().err
    assert cli.main(["record", "03"]) == 1  # in the course map but not in this folder
    assert "03-clv-prediction.ipynb" in capsys.readouterr().err


def test_console_script_runs_as_a_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "opskit.cli", "build", "--check"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "course/solutions" in result.stderr and result.stdout == ""


@pytest.mark.slow
def test_record_executes_solutions_and_rebuilds(tmp_path, monkeypatch, capsys):
    solutions = tmp_path / "course" / "solutions"
    solutions.mkdir(parents=True)
    welcome = new_notebook(cells=[
        new_markdown_cell("# Welcome", id="title"),
        new_code_cell("import os\nprint(os.environ['IPYKERNEL_CELL_NAME'])", id="env"),
        new_code_cell("answer = 41\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\nprint(answer)", id="q"),
    ])
    broken = new_notebook(cells=[new_code_cell("1 / 0", id="boom")])
    nbformat.write(welcome, solutions / "00-welcome.ipynb")
    nbformat.write(broken, solutions / "01-customer-data.ipynb")
    monkeypatch.chdir(tmp_path)

    assert cli.main(["record", "00", "--timeout", "60"]) == 0
    recorded = nbformat.read(solutions / "00-welcome.ipynb", as_version=4)
    outputs = {c.id: c.outputs for c in recorded.cells if c.cell_type == "code"}
    assert outputs["env"][0]["text"] == "<IPY-INPUT>\n"
    assert outputs["q"][0]["text"] == "42\n"
    assert all("execution" not in c.metadata for c in recorded.cells)  # no timings: stable recordings
    learner = nbformat.read(tmp_path / "notebooks" / "00-welcome.ipynb", as_version=4)
    assert all(c.outputs == [] for c in learner.cells if c.cell_type == "code")
    capsys.readouterr()

    broken_bytes = (solutions / "01-customer-data.ipynb").read_bytes()  # navigation added by the build above
    assert cli.main(["record", "01-customer-data", "--timeout", "60"]) == 1
    err = capsys.readouterr().err
    assert "01-customer-data.ipynb" in err and "ZeroDivisionError" in err and "\x1b[" not in err
    assert (solutions / "01-customer-data.ipynb").read_bytes() == broken_bytes  # a failed run is not written
