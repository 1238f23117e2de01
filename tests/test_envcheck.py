"""The environment check: readable rows with the fix for missing or wrong packages, never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from opskit import envcheck
from opskit.envcheck import REQUIREMENTS, SETUP_COMMAND, CheckRow, Requirement, check_environment, report

REPO = Path(__file__).resolve().parents[1]


def rows_by_component(rows):
    return {row.component: row for row in rows}


def fake_versions(monkeypatch, **versions):
    """Pretend these distributions have these versions (None: not installed); others as installed."""
    real = envcheck.installed_version
    overrides = {name.replace("_", "-"): value for name, value in versions.items()}
    monkeypatch.setattr(envcheck, "installed_version", lambda dist: overrides.get(dist, real(dist)) if dist in
                        overrides else real(dist))


def test_the_locked_environment_passes_every_package_check():
    rows = rows_by_component(check_environment())
    assert rows["python"].ok
    for requirement in REQUIREMENTS:
        row = rows[requirement.distribution]
        assert row.ok, row
        assert row.found[0].isdigit()
    assert rows["CDNOW"].ok and rows["matplotlib Agg"].ok
    assert rows["matplotlib Agg"].found == "200x100 px"


def test_requirements_mirror_pyproject_dependencies():
    from packaging.requirements import Requirement as Parsed
    from packaging.specifiers import SpecifierSet

    declared = {}
    for line in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        parsed = Parsed(line)
        declared[parsed.name] = parsed.specifier
    ours = {r.distribution: SpecifierSet(r.describe()) for r in REQUIREMENTS}
    assert ours == declared


@pytest.mark.parametrize(
    "dist, version, ok",
    [
        ("pandas", None, False),
        ("pandas", "2.1.4", False),
        ("pandas", "2.2.0", True),
        ("pandas", "3.9.1", True),
        ("pandas", "4.0.0", False),
        ("lifetimes", "0.11.2", False),
        ("lifetimes", "0.11.3", True),
        ("autograd", "1.6.2", False),
        ("autograd", "1.7", True),
        ("jupyterlab", "3.6.7", False),
        ("jupyterlab", "5.0.0rc1", False),
        ("ipywidgets", "7.8.1", False),
    ],
)
def test_missing_or_wrong_versions_are_problems_with_the_fix(monkeypatch, dist, version, ok):
    fake_versions(monkeypatch, **{dist: version})
    row = rows_by_component(check_environment())[dist]
    assert row.ok is ok, row
    if not ok:
        assert row.status == "problem"
        assert SETUP_COMMAND in row.advice
        assert ("not installed" in row.found) if version is None else (row.found == version)
        out = io.StringIO()
        report(file=out)
        text = out.getvalue()
        assert "problem(s) found" in text and f"- {dist}: " in text and "Traceback" not in text


def test_installed_but_not_importable_is_a_problem(monkeypatch):
    real = envcheck.importable
    monkeypatch.setattr(envcheck, "importable", lambda module: False if module == "charset_normalizer" else real(module))
    row = rows_by_component(check_environment())["charset-normalizer"]
    assert row.status == "problem" and "not installed" in row.found


def test_old_python_is_a_problem():
    assert not envcheck.check_python((3, 10)).ok
    assert "3.11" in envcheck.check_python((3, 10)).advice
    assert envcheck.check_python((3, 13)).ok


def test_a_check_that_crashes_becomes_a_row(monkeypatch):
    def broken():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(envcheck, "check_cdnow", broken)
    row = rows_by_component(check_environment())["CDNOW"]
    assert row.status == "problem" and "disk on fire" in row.advice


def test_missing_lifetimes_makes_cdnow_a_problem_not_a_traceback(monkeypatch):
    import opskit.datasets.cdnow as cdnow

    monkeypatch.setattr(cdnow.importlib.util, "find_spec", lambda name: None)
    row = envcheck.check_cdnow()
    assert row.status == "problem" and "lifetimes" in row.advice and SETUP_COMMAND in row.advice


def write_manifest(folder: Path, manifest) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_datasets_manifest_files_present(tmp_path):
    (tmp_path / "orders.csv").write_bytes(b"a,b\n1,2\n")
    (tmp_path / "messy").mkdir()
    (tmp_path / "messy" / "pos.csv").write_bytes(b"x\n")
    write_manifest(tmp_path, {"files": {"orders.csv": {"rows": 1, "bytes": 8, "sha256": "…"},
                                        "messy/pos.csv": {"bytes": 2}}})
    row = envcheck.check_datasets(tmp_path)
    assert row.ok and row.found == "2/2 files"


@pytest.mark.parametrize("layout", ["dict", "list"])
def test_datasets_missing_or_changed_files_are_problems(tmp_path, layout):
    (tmp_path / "orders.csv").write_bytes(b"a,b\n1,2\n")
    entries = {"orders.csv": {"bytes": 999}, "members.csv": {"bytes": 10}}
    manifest = entries if layout == "dict" else [{"path": name, **info} for name, info in entries.items()]
    write_manifest(tmp_path, manifest)
    row = envcheck.check_datasets(tmp_path)
    assert row.status == "problem" and row.found == "0/2 files"
    assert "members.csv" in row.advice and "orders.csv" in row.advice


def test_datasets_without_or_with_broken_manifest(tmp_path, monkeypatch):
    row = envcheck.check_datasets(tmp_path)
    assert row.status == "problem" and "manifest.json" in row.required
    (tmp_path / "manifest.json").write_text("{broken", encoding="utf-8")
    row = envcheck.check_datasets(tmp_path)
    assert row.status == "problem" and "unreadable" in row.found
    monkeypatch.setenv("OPSKIT_DATA_DIR", str(tmp_path / "elsewhere"))
    assert envcheck.check_datasets().status == "problem"


def test_datasets_row_skipped_outside_a_checkout(monkeypatch):
    monkeypatch.delenv("OPSKIT_DATA_DIR", raising=False)
    monkeypatch.setattr(envcheck, "repo_root", lambda: None)
    assert envcheck.check_datasets() is None
    assert "datasets/" not in rows_by_component(check_environment())


def test_repo_root_is_this_checkout():
    assert envcheck.repo_root() == REPO


def test_missing_chinese_font_is_a_problem_with_advice(monkeypatch):
    monkeypatch.setattr(envcheck, "CJK_FONTS", ("No Such Font 42",))
    row = envcheck.check_chinese_font()
    assert row.status == "problem" and "fonts-noto-cjk" in row.advice


def test_release_and_requirement_ranges():
    assert envcheck.release("2.2.3rc1") == (2, 2, 3)
    assert envcheck.release("v1.7") == (1, 7)
    assert envcheck.release("weird") == ()
    exact = Requirement("lifetimes", "lifetimes", exact="0.11.3")
    assert exact.accepts("0.11.3") and exact.accepts("0.11.3.0") and not exact.accepts("0.11.30")
    assert Requirement("x", "x", minimum="1.7").accepts("1.7.0")
    assert Requirement("x", "x").describe() == "any"


def test_report_is_deterministic_and_shows_no_paths_or_times(capsys):
    report()
    first = capsys.readouterr().out
    report()
    assert capsys.readouterr().out == first
    assert str(REPO) not in first and sys.prefix not in first and str(Path.home()) not in first
    lines = first.splitlines()
    assert lines[0] == "opskit 环境检查 / environment check"
    assert "组件 Component" in lines[1] and "状态 Status" in lines[1]
    assert report() is None


def test_report_lines_up_chinese_columns():
    rows = [CheckRow("中文字体 Chinese font", "CJK", "已找到 found", "ok"), CheckRow("pandas", ">=2.2,<4", "3.1.1", "ok")]
    lines = envcheck.format_report(rows).splitlines()
    widths = [envcheck._width(line[: line.index("正常")]) for line in lines[3:5]]
    assert widths[0] == widths[1]
    assert lines[-1] == "全部正常,可以开始学习! / All checks passed: ready to start!"


def test_package_checks_import_no_heavy_package():
    code = (
        "import sys, json\n"
        "from opskit import envcheck\n"
        "rows = [envcheck.check_package(r) for r in envcheck.REQUIREMENTS]\n"
        "assert all(r.ok for r in rows), rows\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out))
    assert not loaded & {"pandas", "numpy", "matplotlib", "lifetimes", "seaborn", "scipy", "jupyterlab", "ipywidgets"}
