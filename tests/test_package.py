"""Packaging promises: a light `import opskit`, the lock file, the two README commands."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("lifetimes", "seaborn", "ipywidgets", "matplotlib", "scipy")


def imported_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(out)}


@pytest.mark.parametrize("statement", ["import opskit", "import opskit.datasets", "import opskit.exercises"])
def test_import_stays_light(statement):
    loaded = imported_after(statement)
    assert not loaded & set(HEAVY), f"{statement} imported {sorted(loaded & set(HEAVY))}"


def test_lifetimes_import_does_not_leak_future_warning_filter():
    """Anything in opskit that imports lifetimes must restore the warning filters it changes."""
    code = (
        "import warnings, opskit.clv as clv\n"
        "before = list(warnings.filters)\n"
        "clv._import_lifetimes() if hasattr(clv, '_import_lifetimes') else clv.import_lifetimes()\n"
        "assert warnings.filters == before, 'lifetimes changed the warning filters'\n"
        "import pandas as pd\n"
        "assert pd.options.mode.chained_assignment != None\n"
    )
    pytest.importorskip("opskit.clv")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_and_dependency_ranges_are_declared():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    deps = " ".join(project["dependencies"])
    for name in ("jupyterlab>=4", "ipywidgets>=8", "pandas>=2.2,<4", "numpy", "seaborn", "lifetimes"):
        assert name in deps, name
    dev = " ".join(project["optional-dependencies"]["dev"])
    for name in ("pytest", "nbval", "nbgrader", "playwright"):
        assert name in dev, name


def test_lock_file_pins_every_package():
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    names = {package["name"] for package in lock["package"]}
    for name in ("pandas", "numpy", "lifetimes", "jupyterlab", "nbval", "nbgrader", "playwright", "ipywidgets"):
        assert name in names, f"{name} missing from uv.lock"
    assert all("version" in package for package in lock["package"] if package["name"] != "opskit")


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "python3 kit.py lab" in readme and "python3 kit.py test" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "python3 kit.py test" in ci and "chromium" in ci


def test_kit_counts_no_tests_collected_as_an_empty_stage(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO))
    try:
        import kit
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(kit, "ARTIFACTS", tmp_path)
    monkeypatch.setattr(kit, "ROOT", tmp_path)
    monkeypatch.setattr(kit, "VENV", Path(sys.prefix))
    (tmp_path / "empty").mkdir()
    code, counts = kit.pytest_stage("empty", [str(tmp_path / "empty"), "-p", "no:cacheprovider", "-q"], {**__import__("os").environ})
    assert code == 0 and counts["tests"] == 0
