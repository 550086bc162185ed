"""Files are written atomically, reproducibly, and an unwritable figures folder says what to do."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

import helpers.atomic
from helpers.atomic import atomic_write, write_bytes_atomically
from helpers.execute import execute_notebook
from helpers.figures import plotting
from helpers.figures.plotting import FiguresNotWritableError, figures_dir, save_array, save_figure, save_gif

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def a_figure() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [2, 0, 1], color=plotting.OKABE_ITO["blue"])
    ax.set_title("three points")
    return fig


def some_frames(n: int = 6) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8) for _ in range(n)]


@pytest.fixture
def replaces(monkeypatch):
    """Record every ``os.replace(src, dst)`` with what ``dst`` and ``src`` held just before it."""
    calls = []
    real = os.replace

    def spy(src, dst):
        src, dst = Path(src), Path(dst)
        calls.append(
            {
                "src": src,
                "dst": dst,
                "src_bytes": src.read_bytes(),
                "dst_before": dst.read_bytes() if dst.exists() else None,
            }
        )
        return real(src, dst)

    monkeypatch.setattr(helpers.atomic.os, "replace", spy)
    return calls


# --- atomic_write itself -------------------------------------------------------------------


def test_atomic_write_shows_nothing_until_done(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target) as f:
        f.write(b"first half ")
        f.flush()
        assert not target.exists(), "a reader must not see a half-written file"
        (tmp,) = [p for p in tmp_path.iterdir()]
        assert tmp.parent == target.parent and tmp.name.startswith(".out.bin.") and tmp.suffix == ".tmp"
        f.write(b"second half")
    assert target.read_bytes() == b"first half second half"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_atomic_write_keeps_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    with atomic_write(target) as f:
        f.write(b"new, longer content")
        f.flush()
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new, longer content"
    assert target.stat().st_mode & 0o777 == 0o600, "an existing file keeps its permissions"


def test_atomic_write_error_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target) as f:
            f.write(b"partial")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_write_bytes_atomically(tmp_path, replaces):
    path = write_bytes_atomically(tmp_path / "a.txt", b"hello")
    assert path.read_bytes() == b"hello"
    assert len(replaces) == 1 and replaces[0]["src"].parent == tmp_path


# --- figures -------------------------------------------------------------------------------


def test_save_figure_is_atomic_reproducible_and_leaves_no_temp(tmp_path, replaces):
    fig = a_figure()
    try:
        first = save_figure(fig, tmp_path / "fig.png").read_bytes()
        second = save_figure(fig, tmp_path / "fig.png").read_bytes()
        fig.savefig(tmp_path / "direct.png", dpi=plotting.DPI, metadata={"Software": None})
    finally:
        plt.close(fig)
    assert first == second, "saving the same figure twice must give the same bytes"
    assert first == (tmp_path / "direct.png").read_bytes(), "atomic saving must not change the bytes"
    assert first.startswith(b"\x89PNG") and b"Software" not in first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.png", "fig.png"]
    # Both saves went through a complete temp file beside the target, moved into place at once.
    assert [c["dst"].name for c in replaces] == ["fig.png", "fig.png"]
    assert all(c["src"].parent == tmp_path and c["src_bytes"] == first for c in replaces)
    assert replaces[0]["dst_before"] is None and replaces[1]["dst_before"] == first


def test_save_gif_is_atomic_reproducible_and_leaves_no_temp(tmp_path, replaces):
    frames = some_frames()
    first = save_gif(frames, tmp_path / "anim.gif", duration_ms=100).read_bytes()
    second = save_gif(frames, tmp_path / "anim.gif", duration_ms=100).read_bytes()
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == ["anim.gif"]
    assert len(replaces) == 2 and all(c["src_bytes"] == first for c in replaces)
    with Image.open(tmp_path / "anim.gif") as gif:
        assert gif.n_frames == len(frames)


def test_save_array_matches_numpy_save(tmp_path, replaces):
    array = np.linspace(0.0, 1.0, 60 * 100).reshape(60, 100)
    save_array(array, tmp_path / "a.npy")
    np.save(tmp_path / "b.npy", array)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), array)
    assert len(replaces) == 1 and replaces[0]["src"].parent == tmp_path


def test_savers_refuse_a_path_of_the_wrong_type_before_writing(tmp_path, replaces):
    fig = a_figure()
    try:
        for save, what in ((save_figure, fig), (save_array, np.zeros(3)), (save_gif, some_frames(2))):
            with pytest.raises(TypeError, match="path must be a path, a str or a pathlib.Path, got 3"):
                save(what, 3)
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="duration_ms must be a positive integer"):
        save_gif(some_frames(2), tmp_path / "anim.gif", duration_ms=0)
    assert replaces == [] and list(tmp_path.iterdir()) == []


def test_a_failing_gif_save_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "anim.gif"
    target.write_bytes(b"the previous gif")

    def half_then_fail(self, fp, *args, **kwargs):
        fp.write(b"GIF89a partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", half_then_fail)
    with pytest.raises(FiguresNotWritableError, match="No space left on device"):
        save_gif(some_frames(2), target)
    assert target.read_bytes() == b"the previous gif"
    assert [p.name for p in tmp_path.iterdir()] == ["anim.gif"]


# --- an unwritable figures folder ------------------------------------------------------------


def test_figures_dir_under_a_file_names_t2t_figures(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    bad = tmp_path / "notes.txt" / "figures"
    monkeypatch.setenv("T2T_FIGURES", str(bad))
    with pytest.raises(FiguresNotWritableError) as info:
        figures_dir()
    message = str(info.value)
    assert "\n" not in message
    assert str(bad) in message and "T2T_FIGURES" in message and "writable folder" in message
    assert isinstance(info.value, OSError)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_figures_dir_returns_a_writable_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("T2T_FIGURES", str(tmp_path / "new" / "figures"))
    assert figures_dir() == tmp_path / "new" / "figures"
    assert (tmp_path / "new" / "figures").is_dir()
    assert list((tmp_path / "new" / "figures").iterdir()) == [], "the write probe leaves nothing"


def test_read_only_folder_gives_the_short_error(tmp_path, monkeypatch):
    """As root a chmod'ed folder stays writable, so a refused temp file stands in for one."""

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refused)
    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    fig = a_figure()
    try:
        with pytest.raises(FiguresNotWritableError, match=r"cannot write figures to .*Permission denied.*T2T_FIGURES"):
            save_figure(fig, tmp_path / "fig.png")
    finally:
        plt.close(fig)
    with pytest.raises(FiguresNotWritableError, match="Permission denied"):
        save_array(np.zeros(3), tmp_path / "a.npy")
    monkeypatch.setenv("T2T_FIGURES", str(tmp_path))
    with pytest.raises(FiguresNotWritableError, match="Permission denied"):
        figures_dir()
    assert list(tmp_path.iterdir()) == []


def run_cells(tmp_path: Path, *sources: str, allow_errors: bool = False) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return notebook


def test_a_notebook_cell_shows_one_line_not_a_traceback(tmp_path):
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    bad = tmp_path / "notes.txt" / "figures"
    setup = f"import os\nos.environ['T2T_FIGURES'] = {str(bad)!r}\nimport helpers.figures.plotting"
    notebook = run_cells(tmp_path, setup, "FIGURES = helpers.figures.plotting.figures_dir()", allow_errors=True)
    (error,) = [out for out in notebook.cells[1].outputs if out.output_type == "error"]
    lines = "\n".join(ANSI.sub("", line) for line in error.traceback).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("FiguresNotWritableError: cannot write figures to")
    assert "T2T_FIGURES" in lines[0] and str(bad) in lines[0]


# --- executed notebooks ----------------------------------------------------------------------


def test_execute_notebook_writes_atomically(tmp_path, replaces):
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), path)
    execute_notebook(path)
    saved = nbformat.read(path, as_version=4)
    assert saved.cells[0].outputs[0].text == "42\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.ipynb"]
    (call,) = replaces
    assert call["dst"] == path and call["src"].parent == tmp_path
    assert call["src_bytes"] == path.read_bytes() and call["src_bytes"].endswith(b"\n")


def test_a_failing_notebook_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "broken.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise RuntimeError('cell fails')")])
    nbformat.write(notebook, path)
    before = path.read_bytes()
    with pytest.raises(Exception, match="cell fails"):
        execute_notebook(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["broken.ipynb"]
