"""The course opens and runs in a real JupyterLab, in headless Chromium, as a learner would use it."""

from __future__ import annotations

import shutil

import pytest

from browser import ARTIFACTS, REPO, chromium_page, jupyter_server, run_all_cells, wait_for_output

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_welcome_notebook_runs_in_jupyterlab(tmp_path):
    # Work on a copy: running cells in JupyterLab saves the notebook, and the repo's files must not change.
    shutil.copy(REPO / "notebooks" / "00-welcome.ipynb", tmp_path / "00-welcome.ipynb")
    with jupyter_server(tmp_path) as (base, token), chromium_page() as page:
        page.goto(f"{base}/lab/tree/00-welcome.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        run_all_cells(page)
        # The environment check passed, and the learner's exercise says "not attempted" (the copy is stubbed).
        wait_for_output(page, "All checks passed: ready to start!")
        wait_for_output(page, "Lesson 00 exercises loaded", 30_000)
        wait_for_output(page, "not attempted", 30_000)
        page.locator(".jp-OutputArea-output img").first.wait_for(state="attached", timeout=60_000)  # data-tour chart
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [text for text in errors.all_text_contents() if "Traceback" in text or "Error" in text]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "welcome-jupyterlab.png"), full_page=False)
        assert not tracebacks, tracebacks
