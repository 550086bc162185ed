"""A fresh run of every notebook regenerates every committed figure byte for byte."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from helpers.execute import execute_notebook

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Execute copies of all notebooks with ``$T2T_FIGURES`` pointing at a temporary folder."""
    work = tmp_path_factory.mktemp("regenerate")
    out = work / "figures"
    out.mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("T2T_FIGURES", str(out))
    mp.setenv("PYTHONPATH", str(ROOT))
    try:
        notebooks = work / "notebooks"
        notebooks.mkdir()
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            shutil.copy(path, notebooks / path.name)
            execute_notebook(notebooks / path.name)
    finally:
        mp.undo()
    return out


def committed_figures() -> list[Path]:
    return sorted(p for p in FIGURES.iterdir() if p.is_file() and not p.name.startswith("."))


def test_every_committed_figure_is_regenerated_identically(regenerated):
    made = {p.name for p in regenerated.iterdir()}
    committed = {p.name for p in committed_figures()}
    assert committed, "figures/ is empty"
    assert made == committed, (
        f"made but not committed: {sorted(made - committed)}; committed but not made: {sorted(committed - made)}"
    )
    changed = [p.name for p in committed_figures() if digest(p) != digest(regenerated / p.name)]
    assert not changed, f"these figures differ from the committed bytes: {changed}"


def test_gifs_stay_small(regenerated):
    for gif in regenerated.glob("*.gif"):
        assert gif.stat().st_size < 1.5 * 1024 * 1024, f"{gif.name} is {gif.stat().st_size} bytes"


def test_no_temporary_files_are_left(regenerated):
    """Figures are written to a hidden temporary file and moved into place: none may remain."""
    hidden = sorted(p.name for p in regenerated.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")
    assert not hidden, hidden
