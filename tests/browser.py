"""Real-browser test harness: a JupyterLab (or Voilà) server on localhost and Debian's headless Chromium.

No browser is ever downloaded: Playwright drives the system Chromium through ``executable_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"

# Flags the probe of this workplace found necessary: no sandbox as root, and no background networking, which a
# closed network refuses (and which an offline classroom does not have either).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """The system Chromium; ``OPSKIT_CHROMIUM`` overrides. Fails clearly (or skips on request) when absent."""
    candidates = [os.environ.get("OPSKIT_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    if os.environ.get("OPSKIT_SKIP_BROWSER") == "1":
        pytest.skip("browser tests skipped on request (OPSKIT_SKIP_BROWSER=1)")
    pytest.fail(
        "Chromium not found. Install Debian's chromium (`apt-get install chromium`, which .ci/run does), set "
        "OPSKIT_CHROMIUM=/path/to/chrome, or set OPSKIT_SKIP_BROWSER=1 to skip the browser tests."
    )


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"server at {url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def jupyter_server(root: Path, app: str = "lab", extra: list[str] | None = None):
    """Start ``jupyter lab`` (or ``voila``) on localhost serving ``root``; yields (base_url, token)."""
    port = free_port()
    token = "opskit-test-token"
    log_path = ARTIFACTS / f"{app}-server.log"
    ARTIFACTS.mkdir(exist_ok=True)
    env = dict(os.environ)
    env["IPYKERNEL_CELL_NAME"] = "<IPY-INPUT>"
    env.pop("MPLBACKEND", None)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["JUPYTER_CONFIG_PATH"] = str(REPO / "jupyter-config")
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    if app == "lab":
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", *as_root, *(extra or []),
        ]
    else:
        cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", *(extra or [])]
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}/api/status?token={token}" if app == "lab" else base, process)
            yield base, token
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def chromium_page(viewport: tuple[int, int] = (1400, 1000)):
    """A Playwright page in the system's headless Chromium."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
        finally:
            browser.close()


def run_all_cells(page, timeout_ms: int = 240_000) -> None:
    """Run every cell of the open notebook through JupyterLab's own menu, then wait for the kernel to go idle."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # Busy, then idle: the kernel status in the toolbar ends as "Idle" when every cell has run.
    page.wait_for_function(
        """() => !document.querySelector('.jp-Notebook .jp-InputPrompt') ||
             ![...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')].some(p => p.textContent.includes('*'))""",
        timeout=timeout_ms,
    )


def wait_for_output(page, text: str, timeout_ms: int = 120_000) -> None:
    """Wait until some cell output contains ``text`` (its textContent: JupyterLab 4 leaves off-screen cells unpainted,
    so visibility and innerText are no guide). On timeout, fail with what the outputs do say, and a screenshot."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "(text) => [...document.querySelectorAll('.jp-OutputArea-output')].some(o => o.textContent.includes(text))",
            arg=text, timeout=timeout_ms,
        )
    except PlaywrightTimeout:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "timeout.png"))
        said = [t.strip()[:200] for t in page.locator(".jp-OutputArea-output").all_text_contents() if t.strip()]
        busy = page.locator(".jp-Notebook .jp-InputPrompt", has_text="*").count()
        raise AssertionError(f"no output contains {text!r} after {timeout_ms / 1000:.0f} s; {busy} cell(s) still "
                             f"running; the outputs say: {said[-8:]}") from None
