"""Build a reveal.js slide deck of each notebook that works offline: ``make slides``.

Usage: ``python scripts/build_slides.py [OUTPUT_DIR] [NOTEBOOK...]`` (default ``_build/slides``
and ``notebooks/*.ipynb``). Each notebook becomes ``OUTPUT_DIR/NAME.slides.html``, exported by
nbconvert's ``SlidesExporter`` from the committed, executed notebook (nothing is re-run), with
its slide types from ``metadata.slideshow`` (scripts/tag_slides.py; a cell without one gets the
rule's). ``OUTPUT_DIR/index.html`` lists the decks.

Nothing comes from the network. nbconvert's reveal template loads reveal.js, jQuery, require.js,
MathJax 2 and mermaid from CDNs; the template in ``scripts/slides_template/t2t_slides`` extends it
and loads only reveal.js, from ``--SlidesExporter.reveal_url_prefix=vendor/reveal.js``, a copy of
the one the ``sphinx-revealjs`` package ships, and MathJax 3 from ``vendor/mathjax``, a copy of
the one ``sphinx-mathjax-offline`` ships (the course website uses the same). The folder can be
copied as a whole and opened from disk or from any web server.

Present: open a deck in a browser; the right arrow goes to the next section, the down arrow (or
the space bar) through its cells, ``f`` is full screen, ``s`` the speaker view, ``Esc`` the
overview.
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import tag_slides  # noqa: E402

from helpers.atomic import write_bytes_atomically  # noqa: E402

TEMPLATE_DIR = ROOT / "scripts" / "slides_template"
TEMPLATE = "t2t_slides"
REVEAL_PREFIX = "vendor/reveal.js"
MATHJAX = "vendor/mathjax/tex-chtml.js"
# What nbconvert shows of an output, best first: its default order, with GIF animations added.
DISPLAY_PRIORITY = [
    "text/html",
    "application/pdf",
    "text/latex",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "text/markdown",
    "text/plain",
]


def reveal_source() -> Path:
    """reveal.js as the sphinx-revealjs package ships it (``dist/`` and ``plugin/``)."""
    import sphinx_revealjs

    return Path(sphinx_revealjs.__file__).parent / "_static" / "revealjs"


def mathjax_source() -> Path:
    """MathJax 3 as sphinx-mathjax-offline ships it (the folder holding ``tex-chtml.js``)."""
    import importlib.util

    spec = importlib.util.find_spec("sphinx-mathjax-offline") or importlib.util.find_spec("sphinx_mathjax_offline")
    if spec is None or spec.origin is None:
        raise SystemExit("sphinx-mathjax-offline is not installed: run make setup")
    return Path(spec.origin).parent / "static" / "mathjax"


def copy_vendor(output_dir: Path) -> None:
    """reveal.js (its dist/, the notes plugin and its licence) and MathJax into ``output_dir/vendor``."""
    reveal, mathjax = reveal_source(), mathjax_source()
    target = output_dir / REVEAL_PREFIX
    for part in ("dist", "plugin/notes"):
        shutil.copytree(reveal / part, target / part, dirs_exist_ok=True)
    shutil.copy2(reveal / "LICENSE", target / "LICENSE")
    shutil.copytree(mathjax, output_dir / Path(MATHJAX).parent, dirs_exist_ok=True)


def exporter():
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.reveal_url_prefix = REVEAL_PREFIX
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_transition = "none"  # no motion: calmer, and nothing to wait for
    config.SlidesExporter.mathjax_url = MATHJAX
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    config.SlidesExporter.template_name = TEMPLATE
    config.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    return SlidesExporter(config=config)


def deck(notebook_path: Path, slides=None) -> str:
    """The HTML of one deck."""
    notebook = nbformat.read(notebook_path, as_version=4)
    tag_slides.tag(notebook)  # cells without a slide type get the rule's (in this copy only)
    body, _ = (slides or exporter()).from_notebook_node(notebook, resources={"metadata": {"name": notebook_path.stem}})
    return body


def index_page(names: list[str]) -> str:
    items = "\n".join(f'<li><a href="{html.escape(n)}.slides.html">{html.escape(n)}</a></li>' for n in names)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>T2T-ViT, explained: slides</title></head>
<body>
<main>
<h1>T2T-ViT, explained: slides</h1>
<p>One deck per notebook. Right arrow: next section; down arrow or space: next cell; f: full
screen; s: speaker view; Esc: overview.</p>
<ul>
{items}
</ul>
</main>
</body>
</html>
"""


def build(output_dir: Path, notebooks: list[Path]) -> list[Path]:
    """Write a deck of each notebook, the vendored scripts and an index into ``output_dir``."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    copy_vendor(output_dir)
    slides = exporter()
    written = []
    for path in notebooks:
        target = output_dir / f"{Path(path).stem}.slides.html"
        write_bytes_atomically(target, deck(Path(path), slides).encode("utf-8"))
        written.append(target)
    index = index_page([Path(p).stem for p in notebooks]).encode("utf-8")
    write_bytes_atomically(output_dir / "index.html", index)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build an offline reveal.js deck of each notebook.")
    parser.add_argument("output_dir", nargs="?", default=str(ROOT / "_build" / "slides"))
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    written = build(Path(args.output_dir), notebooks)
    print(f"[slides] {len(written)} decks in {args.output_dir} (open {Path(args.output_dir) / 'index.html'})")


if __name__ == "__main__":
    main()
