"""Animations are embedded in the notebooks, inside the HTML of their Play control (which nbval
compares strictly, so the GIF byte for byte), and the notebooks stay small enough to open anywhere."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np

from helpers.execute import execute_notebook
from helpers.figures.plotting import save_gif

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 4 * 1024 * 1024
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
# The three animations of the series and the notebook that draws each.
ANIMATIONS = {
    "01_soft_split.ipynb": "softsplit.gif",
    "03_image_reconstruction.ipynb": "reconstruction.gif",
    "04_t2t_vit.ipynb": "t2t_pipeline.gif",
}


def test_every_notebook_stays_under_4_mb():
    assert len(NOTEBOOKS) >= 5
    sizes = {p.name: p.stat().st_size for p in NOTEBOOKS}
    assert all(size < MAX_BYTES for size in sizes.values()), sizes


def test_no_markdown_cell_links_a_gif_in_figures():
    """A markdown link to ../figures/*.gif shows only its alt text on Colab and on the website."""
    links = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                links += [f"{path.name}: {m}" for m in re.findall(r"[^\s(\"']*figures/[^\s)\"']+\.gif", cell.source)]
    assert not links, links


GIF_IN_HTML = re.compile(r'<img src="data:image/gif;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">')


def embedded_gifs(notebook: nbformat.NotebookNode) -> list[tuple[bytes, str]]:
    """The GIFs inside the notebook's HTML outputs, with their alt text."""
    found = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            html = out.get("data", {}).get("text/html", "")
            found += [(base64.b64decode(m.group(1)), m.group(2)) for m in GIF_IN_HTML.finditer("".join(html))]
    return found


def test_the_three_animations_are_embedded_as_the_committed_gifs():
    for name, gif in ANIMATIONS.items():
        embedded = embedded_gifs(nbformat.read(ROOT / "notebooks" / name, as_version=4))
        assert [data for data, _ in embedded] == [(ROOT / "figures" / gif).read_bytes()], name
        assert all(len(alt) > 100 for _, alt in embedded), name


# --- nbval and the embedded GIF: compared byte for byte, so an embedded GIF must be reproducible.


def frames(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8) for _ in range(3)]


def nbval(notebook: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env"]
    cmd += ["--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), notebook.name]
    return subprocess.run(cmd, cwd=notebook.parent, capture_output=True, text=True, timeout=300)


def test_nbval_strict_compares_an_embedded_gif_byte_for_byte(tmp_path):
    """The animation's output passes nbval when the GIF is the same, and fails when a byte changes:
    nbval compares the text/html output, and the sanitize rules blank PNGs only, not GIFs."""
    gif = save_gif(frames(0), tmp_path / "anim.gif", duration_ms=100)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import warnings\n"
            "with warnings.catch_warnings():  # importing timm may warn, depending on what is installed\n"
            "    warnings.simplefilter('ignore')\n"
            "    from helpers.figures.plotting import show_gif"
        ),
        nbformat.v4.new_code_cell("show_gif('anim.gif', 'Three frames of coloured noise.')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "gif.ipynb"
    nbformat.write(nb, path)
    executed = execute_notebook(path)
    (output,) = executed.cells[1].outputs
    assert set(output["data"]) == {"text/html", "image/png", "text/plain"}
    assert embedded_gifs(executed) == [(gif.read_bytes(), "Three frames of coloured noise.")]

    same = nbval(path)
    assert same.returncode == 0, same.stdout[-2000:]
    save_gif(frames(1), gif, duration_ms=100)  # a different animation in the same file
    changed = nbval(path)
    assert changed.returncode == 1, changed.stdout[-2000:]
    assert "text/html" in changed.stdout
