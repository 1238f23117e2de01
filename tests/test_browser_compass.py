"""The compass app in a real browser: notebook 05 in JupyterLab, and the Voilà dashboard, in headless Chromium.

Each test changes the store picker (a real ``<select>``) and moves a what-if slider with the keyboard on its handle,
then checks that the weak point and the projected sales shown on the page change.
"""

from __future__ import annotations

import shutil

import pytest

from browser import ARTIFACTS, REPO, chromium_page, jupyter_server, run_all_cells, wait_for_output

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START_STORE, OTHER_STORE = "S03", "S01"  # their weak points against the May 2025 target differ (UPT vs omni)


def _text(page, selector: str) -> str:
    # textContent, not innerText: JupyterLab 4 puts off-screen cells under ``content-visibility: auto``, and
    # innerText is empty until the browser has painted them.
    return (page.locator(selector).first.text_content() or "").strip()


def _wait_for_change(page, selector: str, before: str, timeout: int = 90_000) -> str:
    page.wait_for_function(
        "([sel, before]) => { const el = document.querySelector(sel); return el && el.textContent.trim() !== before; }",
        arg=[selector, before], timeout=timeout,
    )
    return _text(page, selector)


def _drive_compass(page, root: str) -> dict:
    """Change the store and a slider inside ``root`` (the app's DOM); return the texts before and after."""
    weak_sel, proj_sel = f"{root} .opskit-weak", f"{root} .opskit-projected"
    page.locator(weak_sel).first.wait_for(state="attached", timeout=120_000)
    page.locator(proj_sel).first.wait_for(state="attached", timeout=90_000)
    weak_before, proj_before = _text(page, weak_sel), _text(page, proj_sel)
    store = page.locator(f"{root} .widget-dropdown select").first
    option = store.locator("option", has_text=OTHER_STORE).first.text_content().strip()
    store.select_option(label=option)
    weak_after = _wait_for_change(page, weak_sel, weak_before)
    # Each HTML widget syncs on its own: the projection may arrive after the weak point.
    proj_mid = _wait_for_change(page, proj_sel, proj_before)
    # What-if: focus the first factor slider's handle and press → five times (+1 % each).
    handle = page.locator(f"{root} .widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    proj_after = _wait_for_change(page, proj_sel, proj_mid)
    return {"weak_before": weak_before, "weak_after": weak_after, "proj_before": proj_before, "proj_mid": proj_mid,
            "proj_after": proj_after}


def test_compass_notebook_in_jupyterlab(tmp_path):
    # Work on a copy: running cells in JupyterLab saves the notebook, and the repo's files must not change.
    shutil.copy(REPO / "notebooks" / "05-store-compass.ipynb", tmp_path / "05-store-compass.ipynb")
    with jupyter_server(tmp_path) as (base, token), chromium_page(viewport=(1600, 1100)) as page:
        page.goto(f"{base}/lab/tree/05-store-compass.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
        run_all_cells(page)
        wait_for_output(page, "Lesson 05 exercises loaded")
        wait_for_output(page, "not attempted", 90_000)
        page.locator(".opskit-compass").first.scroll_into_view_if_needed()
        seen = _drive_compass(page, ".opskit-compass")
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".opskit-compass").first.screenshot(path=str(ARTIFACTS / "compass-jupyterlab.png"))
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [text for text in errors.all_text_contents() if "Traceback" in text or "Error" in text]
    assert not tracebacks, tracebacks
    assert "UPT" in seen["weak_before"] and seen["weak_after"] != seen["weak_before"]
    assert seen["proj_mid"] != seen["proj_before"] and seen["proj_after"] != seen["proj_mid"]
    assert "projected sales" in seen["proj_after"]


def test_compass_dashboard_in_voila(tmp_path):
    shutil.copy(REPO / "course" / "dashboards" / "compass.ipynb", tmp_path / "compass.ipynb")
    with jupyter_server(tmp_path, app="voila", extra=["compass.ipynb"]) as (base, _token), \
            chromium_page(viewport=(1600, 1100)) as page:
        page.goto(base, timeout=180_000)
        page.locator(".opskit-compass").first.wait_for(timeout=180_000)
        # Code is hidden: the dashboard shows the app and its text, not the Python that builds it.
        assert "compass_app(" not in page.content()
        page.locator(".widget-dropdown select").first.select_option(
            label=page.locator(".widget-dropdown select option", has_text=START_STORE).first.text_content().strip())
        page.wait_for_function("() => document.querySelector('.opskit-weak')?.textContent.includes('UPT')",
                               timeout=30_000)
        seen = _drive_compass(page, ".opskit-compass")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compass-voila.png"), full_page=True)
        assert page.locator(".opskit-radar").count() == 1 and page.locator(".opskit-waterfall").count() == 1
        assert "Traceback" not in page.inner_text("body")
    assert seen["weak_after"] != seen["weak_before"] and seen["proj_after"] != seen["proj_mid"]
