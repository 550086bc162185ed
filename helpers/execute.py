"""Execute notebooks in place, reproducibly: ``python -m helpers.execute notebooks/*.ipynb``.

Each notebook runs in a fresh kernel whose working directory is the notebook's folder, with
no timing metadata, so a second run leaves ``git diff`` empty. Figures go to ``$T2T_FIGURES``
when it is set (the tests use a temporary folder), else to ``figures/``. The executed notebook is
written atomically (a temporary file beside it, then :func:`os.replace`), so an editor or a
reader never sees half a notebook, and a failed run leaves the old file untouched.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from . import checks
from .atomic import remove_stale_temporaries, write_bytes_atomically

TIMEOUT_S = 600


def coalesce_streams(notebook: nbformat.NotebookNode) -> None:
    """Merge consecutive stdout (or stderr) chunks of a cell into one output.

    The kernel flushes stdout on a timer, so one ``print`` may be saved as one chunk on one
    run and two on the next. Merging them keeps the saved notebook identical across runs.
    """
    checks.instance("notebook", notebook, nbformat.NotebookNode, "nbformat.read(path, as_version=4)")
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if (
                merged
                and out.output_type == "stream"
                and merged[-1].output_type == "stream"
                and merged[-1].name == out.name
            ):
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def drop_widget_views(notebook: nbformat.NotebookNode) -> None:
    """Remove live-widget views from the saved outputs, keeping their still and text forms.

    A widget view only names a model (by a random id) that lives in the running kernel; saved,
    it would change on every run and point at nothing. The other forms of the same output (a
    PNG, a line of text) are what GitHub, the website and an unexecuted notebook show.
    """
    checks.instance("notebook", notebook, nbformat.NotebookNode, "nbformat.read(path, as_version=4)")
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.outputs:
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                if not data:
                    continue
            kept.append(out)
        cell.outputs = kept


def execute_notebook(path: str | Path, output: str | Path | None = None) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` and write it to ``output`` (default: in place)."""
    path = checks.existing_file("path", path, "notebook", "Give the path of an .ipynb file")
    if output is not None:
        output = checks.path("output", output, "output='executed.ipynb'")
        if output.is_dir():
            raise ValueError(f"output {str(output)!r} is a folder; give the path of the notebook file to write.")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,  # widget state holds random model ids; see drop_widget_views
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute()
    coalesce_streams(notebook)
    drop_widget_views(notebook)
    text = nbformat.writes(notebook)
    if not text.endswith("\n"):
        text += "\n"  # as nbformat.write does
    write_bytes_atomically(Path(output) if output else path, text.encode("utf-8"))
    return notebook


def _execute_quietly(path: str) -> str:
    execute_notebook(path)
    return path


def main(paths: list[str]) -> int:
    """Execute the notebooks, as many at once as there are cores (each kernel uses one thread).

    Later notebooks do more work (04 builds the paper's nine models, 05 trains two), so they
    start first and the slowest one is not left to run alone at the end.
    Outputs don't depend on the order: every notebook runs in its own fresh kernel.
    """
    if isinstance(paths, str | bytes | os.PathLike) or not isinstance(paths, list | tuple):
        raise TypeError(f"paths must be a list of notebook paths, got {checks.given(paths)}; for example ['01.ipynb'].")
    if not paths:
        print("usage: python -m helpers.execute NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for path in paths:
        if not isinstance(path, str | os.PathLike) or not Path(path).is_file():
            print(f"helpers.execute: error: no notebook at {path!r}", file=sys.stderr)
            return 2
        remove_stale_temporaries(path)  # left by a run that was killed while writing this notebook
    jobs = max(1, min(len(paths), os.cpu_count() or 1))
    ordered = sorted(paths, reverse=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for done in pool.map(_execute_quietly, ordered):
            print(f"executed {done}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
