"""Make sure ``.venv`` exists and was made by the Python that ``make setup`` uses.

A ``.venv`` made by another Python (or left half-made by an interrupted setup) breaks every
later ``pip install``. This script recreates it, saying why, instead of letting setup fail.

Usage: ``python scripts/check_venv.py .venv`` (``make setup`` runs it first).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path


def venv_python_version(env: Path) -> str | None:
    """``"3.11"`` for the venv's interpreter, or ``None`` when it is missing or does not run."""
    python = env / "bin" / "python"
    if not python.exists():
        return None
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/check_venv.py VENV_DIR", file=sys.stderr)
        return 2
    env = Path(argv[0])
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if env.exists():
        found = venv_python_version(env)
        if found == wanted:
            print(f"[setup] {env} uses Python {found}: reusing it")
            return 0
        reason = "does not run" if found is None else f"was made by Python {found}"
        print(f"[setup] {env} {reason}, but setup uses Python {wanted} ({sys.executable}): recreating it")
        shutil.rmtree(env)
    print(f"[setup] creating {env} with Python {wanted} ({sys.executable})")
    venv.EnvBuilder(with_pip=True).create(env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
