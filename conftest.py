"""pytest setup shared by the unit tests and nbval, whatever directory pytest starts in."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

ROOT = Path(__file__).resolve().parent
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"

# Agg for this process only: notebook kernels must keep their inline backend, so MPLBACKEND is
# deliberately not exported to them.
matplotlib.use("Agg")


def pytest_configure(config):
    """Point nbval at the one sanitize file, and keep notebook figures out of the work tree."""
    if getattr(config.option, "nbval_sanitize_with", None) is None and hasattr(config.option, "nbval"):
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)
    # Kernels started by nbval inherit this, so notebooks under test write their figures here.
    os.environ.setdefault("T2T_FIGURES", tempfile.mkdtemp(prefix="t2t-figures-"))


def pytest_sessionfinish(session, exitstatus):
    """No test may be skipped: a skip would hide a check that CI is meant to run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped; every test must run.", red=True)
        session.exitstatus = 1
