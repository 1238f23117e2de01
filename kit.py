#!/usr/bin/env python3
"""Set up the opskit environment from the lock file, then open the course or run every test.

    python3 kit.py lab        # set up, then open JupyterLab on notebooks/00-welcome.ipynb
    python3 kit.py test       # set up, then run the whole test suite (unit, nbval, browser)
    python3 kit.py dashboard  # set up, then serve the store-analysis compass with Voila for the workshop screen
    python3 kit.py setup      # set up only (a trainer preparing machines)
    python3 kit.py offline    # fill .uv-cache/ so that a copy of this folder installs with no network

Only the Python standard library is used here, so the script runs on a fresh machine with Python >= 3.11 and git.
The environment lives in .venv/ and is made by uv from uv.lock, so every machine gets the same versions and the
stored notebook outputs reproduce. uv itself is pinned and installed into .tools/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent
UV_VERSION = "0.13.8"
TOOLS = ROOT / ".tools"
CACHE = ROOT / ".uv-cache"
WHEELS = CACHE / "bootstrap"  # uv's own wheel, for offline set-up
VENV = ROOT / ".venv"
FIRST_NOTEBOOK = "notebooks/00-welcome.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
WINDOWS = os.name == "nt"


def say(message: str) -> None:
    print(f"[opskit] {message}", flush=True)


def fail(message: str, code: int = 1) -> "NoReturn":  # noqa: F821
    print(f"[opskit] error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def bin_path(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin") / (name + (".exe" if WINDOWS else ""))


def run(cmd: list[str | os.PathLike], env: dict[str, str] | None = None, check: bool = True) -> int:
    printable = " ".join(str(c) for c in cmd)
    say(f"$ {printable}")
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if check and code != 0:
        fail(f"command failed with exit code {code}: {printable}")
    return code


def ensure_uv(offline: bool) -> Path:
    """A pinned uv in .tools/, installed with pip from PyPI or from the offline wheel folder."""
    uv = bin_path(TOOLS, "uv")
    if uv.exists():
        out = subprocess.run([str(uv), "--version"], capture_output=True, text=True).stdout
        if UV_VERSION in out:
            return uv
    say(f"installing uv {UV_VERSION} into {TOOLS.name}/")
    if not bin_path(TOOLS, "python").exists():
        run([sys.executable, "-m", "venv", TOOLS])
    pip = [bin_path(TOOLS, "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    if WHEELS.is_dir():
        pip += ["--find-links", WHEELS]
    if offline:
        pip += ["--no-index"]
    run(pip + [f"uv=={UV_VERSION}"])
    return uv


def uv_env(offline: bool) -> dict[str, str]:
    env = dict(os.environ)
    # A folder prepared with `kit.py offline` carries its own package cache; otherwise uv's usual cache is shared.
    if offline or CACHE.is_dir():
        env["UV_CACHE_DIR"] = str(CACHE)
    env["UV_PYTHON_DOWNLOADS"] = "never"  # use this machine's Python, never fetch one
    env["UV_PROJECT_ENVIRONMENT"] = str(VENV)
    if offline:
        env["UV_OFFLINE"] = "1"
    return env


def setup(offline: bool = False) -> None:
    if sys.version_info < (3, 11):
        fail(f"opskit needs Python 3.11 or newer; this is {sys.version.split()[0]}. Install Python 3.11+ and retry.")
    uv = ensure_uv(offline)
    # --locked: fail rather than silently re-resolve, so every machine gets exactly the locked versions.
    run([uv, "sync", "--locked", "--all-extras", "--python", sys.executable], env=uv_env(offline))
    say("environment ready in .venv/")


def course_env() -> dict[str, str]:
    env = dict(os.environ)
    # Stable names for cells in warnings and tracebacks, so stored outputs do not carry temp paths.
    env["IPYKERNEL_CELL_NAME"] = "<IPY-INPUT>"
    env["PYTHONHASHSEED"] = "0"
    env.pop("MPLBACKEND", None)  # the kernel chooses the inline backend itself
    env.pop("OPSKIT_LANGUAGE", None)  # stored outputs are recorded in the default language
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # The course's Jupyter settings (offline JupyterLab, nbgrader's grading UI hidden): see jupyter-config/README.md.
    config = str(ROOT / "jupyter-config")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [config, os.environ.get("JUPYTER_CONFIG_PATH")]))
    return env


def lab(extra: list[str]) -> None:
    jupyter = bin_path(VENV, "jupyter")
    env = course_env()
    say("opening JupyterLab; stop it with Ctrl+C")
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    code = subprocess.call([str(jupyter), "lab", FIRST_NOTEBOOK, *as_root, *extra], cwd=ROOT, env=env)
    sys.exit(code)


def dashboard(extra: list[str]) -> None:
    voila = bin_path(VENV, "voila")
    say("serving the compass dashboard (code hidden); stop it with Ctrl+C")
    sys.exit(subprocess.call([str(voila), "course/dashboards/compass.ipynb", *extra], cwd=ROOT, env=course_env()))


def pytest_stage(name: str, args: list[str], env: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Run one pytest stage; exit code 5 (nothing collected) counts as an empty stage, not a failure."""
    ARTIFACTS.mkdir(exist_ok=True)
    junit = ARTIFACTS / f"junit-{name}.xml"
    if junit.exists():
        junit.unlink()
    code = run([bin_path(VENV, "python"), "-m", "pytest", *args, f"--junitxml={junit}"], env=env, check=False)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if junit.exists():
        root = ET.parse(junit).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in counts:
                counts[key] += int(suite.get(key, 0))
    if code == 5:
        say(f"stage {name}: no tests collected")
        code = 0
    return code, counts


def test(extra: list[str]) -> None:
    env = course_env()
    sanitize = "tests/nbval_sanitize.cfg"
    common = ["-p", "no:cacheprovider", *extra]
    stages = [
        ("unit", ["tests", *common]),
        (
            "solutions",
            ["course/solutions", "--nbval", "--nbval-current-env", f"--nbval-sanitize-with={sanitize}",
             "--nbval-cell-timeout=600", *common],
        ),
        ("learner", ["notebooks", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=600", *common]),
    ]
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed: list[str] = []
    for name, args in stages:
        say(f"stage {name}")
        code, counts = pytest_stage(name, args, env)
        for key in total:
            total[key] += counts[key]
        if code != 0:
            failed.append(name)
    passed = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
    bad = total["failures"] + total["errors"]
    say(f"stages failed: {', '.join(failed)}" if failed else "all stages passed")
    print(f"opskit: {passed} passed, {bad} failed, {total['skipped']} skipped", flush=True)
    sys.exit(1 if failed else 0)


def prepare_offline() -> None:
    """Fill .uv-cache/ with every locked package and uv's own wheel: copy the folder, and set-up needs no network."""
    CACHE.mkdir(exist_ok=True)
    setup()
    WHEELS.mkdir(parents=True, exist_ok=True)
    run([bin_path(TOOLS, "python"), "-m", "pip", "download", "--disable-pip-version-check", "-q",
         "-d", WHEELS, f"uv=={UV_VERSION}"])
    say("offline cache ready: copy this whole folder (with .uv-cache/) to machines of the same OS, then run "
        "'python3 kit.py lab --offline' there")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Set up opskit from uv.lock, then open the course or run the tests.",
        epilog="Anything after '--' goes to JupyterLab (lab), pytest (test) or Voila (dashboard).",
    )
    parser.add_argument("command", choices=["lab", "test", "dashboard", "setup", "offline"])
    parser.add_argument("--offline", action="store_true", help="install only from .uv-cache/ (no network)")
    args, extra = parser.parse_known_args(argv)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if shutil.which("git") is None:
        say("note: git is not on PATH; that is fine for running the course")
    if args.command == "offline":
        prepare_offline()
        return
    setup(offline=args.offline)
    if args.command == "lab":
        lab(extra)
    elif args.command == "test":
        test(extra)
    elif args.command == "dashboard":
        dashboard(extra)


if __name__ == "__main__":
    main()
