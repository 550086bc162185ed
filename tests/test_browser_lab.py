"""JupyterLab, started the way ``make lab`` starts it, in a real browser: run notebook 01 top to
bottom and see no error, the soft-split GIF playing on request, and no accessibility violation
(axe-core) in the outputs: every figure has alt text, the explorer's fields have names.

Lab runs on a temporary copy of the repository, so its autosave never touches a committed
notebook; the kernel writes its figures to ``$T2T_FIGURES`` (a temporary folder, see conftest).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_launch import PageWatch, chromium, free_port
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/01_soft_split.ipynb"
STARTUP_S = 120
RUN_ALL_MS = 300_000
TOKEN = secrets.token_hex(16)


def api(base: str, path: str) -> urllib.request.Request:
    return urllib.request.Request(base + path, headers={"Authorization": f"token {TOKEN}"})


def make_lab_flags() -> list[str]:
    """The flags ``make lab`` passes to ``jupyter lab``: LAB_FLAGS, and --allow-root as root."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^LAB_FLAGS := (.+)$", makefile, flags=re.M)
    assert match, "Makefile has no LAB_FLAGS line"
    assert re.search(r"^\t\$\(BIN\)/jupyter lab \$\(LAB_FLAGS\) \$\(LAB_AS_ROOT\)$", makefile, flags=re.M)
    return match.group(1).split() + (["--allow-root"] if os.geteuid() == 0 else [])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a copy of the repository; yields its base URL."""
    work = tmp_path_factory.mktemp("lab")
    repo = work / "repo"
    for folder in ("notebooks", "figures", "docs"):
        shutil.copytree(ROOT / folder, repo / folder)
    config = work / "jupyter-config"
    # Render every cell (no windowing), so the page holds all outputs for the checks below.
    settings = config / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTER_DATA_DIR=str(work / "data"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
    )
    port = free_port()
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [
        str(jupyter),
        "lab",
        *make_lab_flags(),
        # What only the test adds: a local port, no browser of its own, a token it knows, and the
        # app object exposed to the page so that the test can run the notebook's commands.
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={TOKEN}",
        "--LabApp.expose_app_in_browser=True",
    ]
    log = (work / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(api(base, "/api/status"), timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{(work / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, repo
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_browser_lab_make_lab_serves_the_repository_root(lab):
    base, repo = lab
    with urllib.request.urlopen(api(base, f"/api/contents/{NOTEBOOK}?content=0"), timeout=10) as r:
        assert json.load(r)["path"] == NOTEBOOK
    # What a notebook links as ../figures/x resolves, because Lab serves the root.
    with urllib.request.urlopen(api(base, "/files/figures/softsplit.gif"), timeout=10) as r:
        assert r.read(6) == b"GIF89a"


RUN_ALL = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    // Start from a notebook with no outputs and no execution counts, as committed ones have both.
    await app.commands.execute("notebook:clear-all-cell-outputs");
    const cleared = [...panel.content.model.cells].filter(c => c.type === "code")
        .every(c => c.executionCount === null && c.outputs.length === 0);
    app.commands.execute("notebook:run-all-cells");
    return cleared;
}"""

# Done: the kernel is idle and every code cell has an execution count and is not queued or running.
ALL_DONE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const code = [...panel.content.model.cells].filter(c => c.type === "code");
    return !!kernel && kernel.status === "idle" && code.length > 0 &&
        code.every(c => c.executionCount !== null && (c.executionState || "idle") === "idle");
}"""

CELLS = """() => [...window.jupyterapp.shell.currentWidget.content.model.cells]
    .filter(c => c.type === "code")
    .map(c => ({
        count: c.executionCount,
        outputs: c.outputs.toJSON().map(o => o.output_type === "error" ? "error: " + o.ename + ": " + o.evalue
                                                                        : o.output_type),
    }))"""

GIFS_SHOWN = """() => [...document.querySelectorAll(".jp-Notebook img")]
    .map(img => ({src: img.currentSrc.slice(0, 80), width: img.naturalWidth,
                  shown: img.checkVisibility({visibilityProperty: true}),
                  gif: img.currentSrc.startsWith("data:image/gif") ||
                       (img.currentSrc.startsWith("http") && new URL(img.currentSrc).pathname.endsWith(".gif"))}))
    .filter(img => img.gif)"""

# WCAG 2.0/2.1 A and AA and best practice, on the cell outputs (Lab's own interface is not ours).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
OUTPUTS = {"include": [[".jp-OutputArea"]]}


def test_browser_lab_runs_notebook_01_with_no_error_and_shows_the_gif(lab):
    base, _ = lab
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        watch = PageWatch(page, base)
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={TOKEN}", wait_until="load")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext",
            timeout=STARTUP_S * 1000,
        )
        assert page.evaluate(RUN_ALL), "clearing the outputs left some behind"
        page.wait_for_function(ALL_DONE, timeout=RUN_ALL_MS, polling=500)
        cells = page.evaluate(CELLS)
        try:  # the explorer's live widget replaces its still once the widget manager has drawn it
            page.wait_for_selector(".jp-OutputArea .widget-text input", timeout=60_000)
        except PlaywrightTimeout:
            pass
        still_before = page.evaluate(GIFS_SHOWN)
        page.locator(".jp-OutputArea summary").first.click()  # Play
        try:
            page.wait_for_function(f"() => ({GIFS_SHOWN})().some(img => img.width > 0 && img.shown)", timeout=60_000)
        except PlaywrightTimeout:  # report what the page shows instead of a bare timeout
            pass
        gifs = page.evaluate(GIFS_SHOWN)
        all_imgs = page.evaluate("() => [...document.images].map(i => [i.currentSrc.slice(0, 80), i.naturalWidth])")
        page.locator(".jp-OutputArea summary").first.click()  # stop
        stopped = page.evaluate(GIFS_SHOWN)
        result = Axe().run(page, context=OUTPUTS, options=AXE_OPTIONS).response
        violations = [f"{v['id']}: {n['target']} {n['html'][:150]}" for v in result["violations"] for n in v["nodes"]]
        passed = {
            p_["id"] for p_ in Axe().run(page, context=OUTPUTS, options={"resultTypes": ["passes"]}).response["passes"]
        }
        widget_inputs = page.evaluate(
            """() => [...document.querySelectorAll(".jp-OutputArea .widget-text input")].map(i =>
                   (i.labels && i.labels.length ? i.labels[0].textContent : ""))"""
        )
        figures_alt = page.evaluate(
            """() => [...document.querySelectorAll(".jp-OutputArea img")].map(i => i.alt.slice(0, 40))"""
        )
    # One fresh kernel ran every code cell once, top to bottom.
    assert [c["count"] for c in cells] == list(range(1, len(cells) + 1)), [c["count"] for c in cells]
    errors = [o for c in cells for o in c["outputs"] if o.startswith("error")]
    assert not errors, errors
    # The animation stays still until Play, plays, and stops on a second click (WCAG 2.2.2).
    assert still_before and not any(g["shown"] for g in still_before), still_before
    assert gifs and all(g["width"] > 0 and g["shown"] for g in gifs), (gifs, all_imgs)
    assert not any(g["shown"] for g in stopped), stopped
    # Every image in the outputs has alt text, and the explorer's three fields are named.
    assert not violations, "\n".join(violations)
    assert "image-alt" in passed, sorted(passed)
    assert len(figures_alt) >= 6 and all(figures_alt), figures_alt
    assert widget_inputs == ["kernel size k", "stride s", "padding p"], widget_inputs
    # The page itself raised nothing (network requests for the badges' images are refused here).
    page_errors = [p for p in watch.problems if p.startswith("page error")]
    assert not page_errors, page_errors
