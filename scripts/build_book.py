"""Build the course website from the committed, executed notebooks: ``make book``.

Usage: ``python scripts/build_book.py [OUTPUT_DIR]``; the site lands in ``OUTPUT_DIR/_build/html``
(default: the repository root, so ``_build/html``). Nothing is executed (``execute_notebooks:
off`` in ``book/_config.yml``) and nothing is downloaded: MathJax comes from
``sphinx-mathjax-offline``. Any Sphinx warning, such as a broken local link, fails the build.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_command(output_dir: Path) -> list[str]:
    """The jupyter-book command line (the executable next to this Python, as in a venv)."""
    return [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--config",
        str(ROOT / "book" / "_config.yml"),
        "--toc",
        str(ROOT / "book" / "_toc.yml"),
        "--path-output",
        str(output_dir),
        "--all",  # rebuild every page: no stale page survives a changed notebook
        "-W",
        "-n",
        "--keep-going",
        "-q",
    ]


def build(output_dir: Path = ROOT) -> Path:
    """Build the site and return the folder holding its ``index.html``."""
    subprocess.run(build_command(Path(output_dir)), check=True)
    return Path(output_dir) / "_build" / "html"


if __name__ == "__main__":
    if len(sys.argv) > 2:
        print("usage: python scripts/build_book.py [OUTPUT_DIR]", file=sys.stderr)
        raise SystemExit(2)
    site = build(Path(sys.argv[1]) if len(sys.argv) == 2 else ROOT)
    print(f"[book] the website is in {site} (open {site / 'index.html'})")
