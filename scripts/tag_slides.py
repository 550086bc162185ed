"""Give every cell of the notebooks a slide type, so that a teacher can present them.

Usage: ``python scripts/tag_slides.py [--check] [--force] NOTEBOOK...``

The slide type lives where Jupyter's slideshow tools read it, ``metadata.slideshow.slide_type``:
nbconvert's reveal.js export (``make slides``) and JupyterLab's property inspector (and RISE) use
it. The rule, one slide per section:

- a markdown cell that opens with a ``#`` or ``##`` heading starts a new slide (the title, each
  section);
- every other cell is a sub-slide below it (reveal.js stacks them vertically: the right arrow goes
  to the next section, the down arrow, or the space bar, through the cells of this one);
- cells the website hides (tag ``remove-cell``: the Colab badges, the set-up for Colab) are skipped.

Cells that already have a slide type keep it, so a teacher's own choice survives; ``--force``
applies the rule to every cell. ``--check`` changes nothing and fails if a cell has no slide type.
Notebooks are written atomically with the layout of the repository (one-space indent, a trailing
newline); a cell's source and outputs are never touched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")


def slide_type(cell: dict) -> str:
    """The slide type the rule gives ``cell`` (a cell of a notebook's JSON)."""
    if "remove-cell" in cell.get("metadata", {}).get("tags", []):
        return "skip"
    source = "".join(cell.get("source", ""))
    first = source.lstrip().split("\n", 1)[0]
    if cell.get("cell_type") == "markdown" and (first.startswith("# ") or first.startswith("## ")):
        return "slide"
    return "subslide"


def tag(notebook: dict, force: bool = False) -> int:
    """Set the slide type of every cell that lacks one (every cell with ``force``); return how many changed."""
    changed = 0
    for cell in notebook["cells"]:
        meta = cell.setdefault("metadata", {})
        current = meta.get("slideshow", {}).get("slide_type")
        wanted = slide_type(cell) if force or current not in SLIDE_TYPES else current
        if wanted != current:
            meta.setdefault("slideshow", {})["slide_type"] = wanted
            changed += 1
    return changed


def untagged(notebook: dict) -> list[int]:
    return [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Give every notebook cell a slide type.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; fail if a cell has no slide type")
    parser.add_argument("--force", action="store_true", help="apply the rule to cells that have a slide type too")
    args = parser.parse_args(argv)
    missing = 0
    for path in args.notebooks:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if args.check:
            cells = untagged(notebook)
            missing += len(cells)
            if cells:
                print(f"{path}: cells {cells} have no slide type; run python scripts/tag_slides.py {path}")
            continue
        changed = tag(notebook, force=args.force)
        if changed:
            text = json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
            sys.path.insert(0, str(ROOT))
            from helpers.atomic import write_bytes_atomically

            write_bytes_atomically(path, text.encode("utf-8"))
        print(f"{path}: {changed} cell(s) tagged")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
