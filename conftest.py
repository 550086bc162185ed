"""pytest setup shared by the unit tests and nbval, whatever directory pytest starts in.

A test run leaves nothing behind. Every temporary file of the session (``tmp_path``, notebook
figures, anything a test or a subprocess puts in the temp dir) lives in one private folder,
``$TMPDIR/t2t-tests-XXXX``, removed when the session ends. At the end the session also fails
if a test left an unexpected entry in that folder or a new or changed file in the git work tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parent
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"

# Agg for this process only: notebook kernels must keep their inline backend, so MPLBACKEND is
# deliberately not exported to them.
matplotlib.use("Agg")

# What the session, torch (its compile cache) and hypothesis (its home, tests/test_fuzz.py) put in the
# private temp folder; all removed at the end.
EXPECTED_TMP = ("figures", "pytest-of-", "torchinductor_", "t2t-hypothesis-")
# Caches that tools keep in the work tree by design (all git-ignored).
CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints")

_state: dict[str, object] = {}


def _work_tree_status() -> set[str] | None:
    """``git status`` entries (changed, untracked and ignored files), or None outside a checkout."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    entries = {e for e in done.stdout.split("\0") if e}
    return {e for e in entries if not any(part in CACHES for part in Path(e[3:]).parts)}


def pytest_configure(config):
    """Point nbval at the one sanitize file; send every temporary file to one private folder."""
    if getattr(config.option, "nbval_sanitize_with", None) is None and hasattr(config.option, "nbval"):
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)
    if "tmp" in _state:
        return  # configured already (pytest started inside pytest)
    tmp = Path(tempfile.mkdtemp(prefix="t2t-tests-"))
    _state["tmp"] = tmp
    _state["saved_env"] = {name: os.environ.get(name) for name in ("TMPDIR", "T2T_FIGURES")}
    _state["saved_tempdir"] = tempfile.tempdir
    # This process (tmp_path, tempfile) and every child (nbval kernels, torchrun) use it.
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    # Kernels started by nbval inherit this, so notebooks under test write their figures here.
    if "T2T_FIGURES" not in os.environ:
        (tmp / "figures").mkdir()
        os.environ["T2T_FIGURES"] = str(tmp / "figures")
    _state["tree"] = _work_tree_status()


def _leftovers() -> list[str]:
    tmp = _state["tmp"]
    found = [f"{tmp}/{p.name}" for p in sorted(tmp.iterdir()) if not p.name.startswith(EXPECTED_TMP)]
    before, after = _state["tree"], _work_tree_status()
    if before is not None and after is not None:
        found += [f"work tree: {entry}" for entry in sorted(after - before)]
    return found


def pytest_sessionfinish(session, exitstatus):
    """No test may be skipped, and none may leave files behind."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        if reporter:
            reporter.ensure_newline()
            reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped; every test must run.", red=True)
        session.exitstatus = 1
    if "tmp" not in _state:
        return
    left = _leftovers()
    if left:
        if reporter:
            reporter.ensure_newline()
            reporter.write_line(f"FAILED: the tests left {len(left)} file(s) behind: {left}", red=True)
        if session.exitstatus == 0:
            session.exitstatus = 1


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Remove the private temp folder (tmp_path folders included) and restore the environment."""
    tmp = _state.pop("tmp", None)
    if tmp is None:
        return
    for name, value in _state.pop("saved_env").items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    tempfile.tempdir = _state.pop("saved_tempdir")
    shutil.rmtree(tmp, ignore_errors=True)
