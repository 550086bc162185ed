"""Every committed notebook is fully executed, error-free, and follows the series' structure."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SERIES = ["01_soft_split", "02_token_transformer", "03_image_reconstruction", "04_t2t_vit"]


def load(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_the_series_notebooks_exist():
    names = [p.stem for p in NOTEBOOKS]
    for name in SERIES:
        assert name in names, f"notebooks/{name}.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_executed_in_order_without_errors(path):
    code_cells = [c for c in load(path).cells if c.cell_type == "code" and c.source.strip()]
    assert code_cells, "a notebook without code cells"
    counts = [c.execution_count for c in code_cells]
    assert None not in counts, f"unexecuted cells at positions {[i for i, n in enumerate(counts) if n is None]}"
    assert counts == list(range(1, len(counts) + 1)), f"execution counts out of order: {counts}"
    for cell in code_cells:
        for out in cell.outputs:
            assert out.output_type != "error", f"error output in cell {cell.execution_count}: {out.get('ename')}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Warning" not in out.text, out.text[:300]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_series_structure(path):
    nb = load(path)
    cells = nb.cells
    opening = cells[0]
    assert opening.cell_type == "markdown" and opening.source.lstrip().startswith("# ")
    head = opening.source.lower()
    for words in ("learn", "prerequisite", "run time"):
        assert words in head, f"the opening cell should mention {words!r}"
    # the first code cell after the Colab bootstrap (scripts/sync_links.py tags it "bootstrap")
    setup = next(c for c in cells if c.cell_type == "code" and "bootstrap" not in c.metadata.get("tags", []))
    for needed in ("set_num_threads(1)", "manual_seed", "figures_dir()"):
        assert needed in setup.source, f"the setup cell should contain {needed!r}"
    tail = " ".join(c.source for c in cells[-4:] if c.cell_type == "markdown").lower()
    assert "summary" in tail and "exercise" in tail and "hint" in tail
    prose = " ".join(c.source for c in cells if c.cell_type == "markdown")
    words = len(re.findall(r"[A-Za-z][A-Za-z'-]+", prose))
    assert words >= 600, f"only {words} words of explanation"
    assert "$" in prose, "formulas should be written in LaTeX"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shows_helpers_source_instead_of_copies(path):
    sources = "\n".join(c.source for c in load(path).cells if c.cell_type == "code")
    assert not re.search(r"^class \w+\(nn\.Module\)", sources, flags=re.M), (
        "define classes in helpers/ and show them with show_source, don't paste copies"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_streams_are_coalesced(path):
    """Split stdout chunks depend on the kernel's flush timer, so they must be merged on save."""
    for cell in load(path).cells:
        if cell.cell_type != "code":
            continue
        kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
        for a, b in zip(kinds, kinds[1:]):
            assert not (a == b and a[0] == "stream"), f"split {a[1]} stream in cell {cell.execution_count}"


def test_coalesce_streams_merges_only_neighbouring_chunks_of_one_stream():
    from helpers.execute import coalesce_streams

    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print('a', 1)")
    cell.outputs = [
        out("stream", name="stdout", text="a"),
        out("stream", name="stdout", text=" 1\n"),
        out("stream", name="stderr", text="warn\n"),
        out("stream", name="stdout", text="b\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    coalesce_streams(notebook)
    assert [(o.name, o.text) for o in notebook.cells[0].outputs] == [
        ("stdout", "a 1\n"),
        ("stderr", "warn\n"),
        ("stdout", "b\n"),
    ]
