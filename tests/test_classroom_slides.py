"""Slide types of the notebooks (scripts/tag_slides.py): every cell has one, and each section starts a slide."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "tag_slides.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load_tag_slides():
    spec = importlib.util.spec_from_file_location("tag_slides", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tag_slides = load_tag_slides()


def run(capsys, *args: str) -> tuple[int, str]:
    """The script's exit status and what it printed (run in this process: no second start-up)."""
    code = tag_slides.main(list(args))
    return code, capsys.readouterr().out


def test_classroom_every_notebook_cell_has_a_slide_type(capsys):
    code, out = run(capsys, "--check", *map(str, NOTEBOOKS))
    assert code == 0, out


def test_classroom_each_title_and_section_starts_a_slide_and_colab_cells_are_skipped():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        kinds = [c["metadata"]["slideshow"]["slide_type"] for c in cells]
        for cell, kind in zip(cells, kinds):
            first = "".join(cell["source"]).lstrip().split("\n")[0]
            if "remove-cell" in cell["metadata"].get("tags", []):
                assert kind == "skip", (path.name, first)
            elif cell["cell_type"] == "markdown" and first.startswith(("# ", "## ")):
                assert kind == "slide", (path.name, first)
        assert kinds[0] == "slide" and kinds.count("slide") >= 5, path.name


def test_classroom_tag_slides_fills_missing_types_keeps_set_ones_and_check_names_the_cells(tmp_path, capsys):
    notebook = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    del notebook["cells"][3]["metadata"]["slideshow"]
    notebook["cells"][5]["metadata"]["slideshow"]["slide_type"] = "fragment"  # a teacher's choice
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    code, out = run(capsys, "--check", str(path))
    assert code == 1 and "cells [3]" in out, out

    assert run(capsys, str(path))[0] == 0
    tagged = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert tagged[3]["metadata"]["slideshow"]["slide_type"] == "subslide"  # a code cell below its section
    assert tagged[5]["metadata"]["slideshow"]["slide_type"] == "fragment"
    assert [c["source"] for c in tagged] == [c["source"] for c in notebook["cells"]]

    assert run(capsys, "--force", str(path))[0] == 0
    forced = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert forced[5]["metadata"]["slideshow"]["slide_type"] != "fragment"
