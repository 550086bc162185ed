"""Notebook 01's soft-split explorer: the coverage map against a count done window by window,
the discrete colours, the widget's redraw, and the saved output that stays deterministic."""

from __future__ import annotations

import base64
import html
import re
import sys
import tomllib
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from helpers import mountain_at_dusk
from helpers.execute import WIDGET_VIEW, drop_widget_views
from helpers.figures import coverage, explorer

matplotlib.use("Agg")


def coverage_by_hand(height: int, width: int, k: int, s: int, p: int) -> np.ndarray:
    """Add 1 under every window of the padded picture, window by window, then cut the padding off."""
    count = np.zeros((height + 2 * p, width + 2 * p), dtype=np.int64)
    for top in range(0, height + 2 * p - k + 1, s):
        for left in range(0, width + 2 * p - k + 1, s):
            count[top : top + k, left : left + k] += 1
    return count[p : p + height, p : p + width]


@pytest.mark.parametrize(
    "k, s, p", [(20, 10, 5), (20, 10, 0), (7, 4, 2), (3, 2, 1), (7, 8, 0), (20, 20, 0), (5, 1, 3), (20, 10, 15)]
)
def test_coverage_map_equals_a_count_by_hand(k, s, p):
    counts = coverage.coverage_map(60, 100, k, s, p)
    assert counts.dtype == np.int64 and counts.shape == (60, 100)
    assert np.array_equal(counts, coverage_by_hand(60, 100, k, s, p))


def test_coverage_of_t2t_k20_corners_edges_inside():
    counts = coverage.coverage_map(60, 100, 20, 10, 5)
    assert (counts[0, 0], counts[0, 50], counts[30, 50]) == (1, 2, 4)
    values, pixels = np.unique(counts, return_counts=True)
    # Corners 4 x 5 x 5 = 100; edge bands 2 x 5 x 90 + 2 x 5 x 50 = 1400; inside 50 x 90 = 4500.
    assert dict(zip(values.tolist(), pixels.tolist())) == {1: 100, 2: 1400, 4: 4500}


def test_coverage_map_rejects_a_kernel_that_does_not_fit():
    with pytest.raises(ValueError, match="larger than the padded image"):
        coverage.coverage_map(10, 10, 30, 1, 2)


def test_discrete_colours_one_colour_per_count():
    cmap, norm, levels = coverage.discrete_colours(np.array([[4, 1], [2, 4]]))
    assert levels.tolist() == [1, 2, 4] and cmap.N == 3
    assert [int(norm(v)) for v in (1, 2, 4)] == [0, 1, 2]
    cmap, norm, levels = coverage.discrete_colours(np.array([0, 1, 1]))
    assert levels.tolist() == [0, 1] and cmap(0)[:3] == matplotlib.colors.to_rgb(coverage.UNCOVERED)


def test_explorer_figure_draws_and_validates():
    image = mountain_at_dusk()
    fig = explorer.explorer_figure(image, 20, 10, 5)
    caption = fig.get_supxlabel()
    assert "6 x 10 = 60 tokens of length 400" in caption and "100 px covered 1x" in caption
    png = explorer.figure_png(fig)
    plt.close(fig)
    again = explorer.explorer_figure(image, 20, 10, 5)  # the same setting drawn afresh: the same bytes
    assert png.startswith(b"\x89PNG") and png == explorer.figure_png(again)
    plt.close(again)
    with pytest.raises(ValueError, match="one grey channel"):
        explorer.explorer_figure(np.zeros((60, 100, 3)), 20, 10, 5)
    with pytest.raises(ValueError, match="larger than the padded image"):
        explorer.explorer_figure(image, 70, 10, 0)  # 70 > 60 + 2 * 0


def outside_the_figure(fig: plt.Figure) -> list[str]:
    """Every piece of text (titles, labels, ticks, legend, caption) that reaches past the figure's edges."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    frame = fig.bbox
    out = []
    for text in fig.findobj(matplotlib.text.Text):
        if not text.get_visible() or not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < frame.x0 - 1 or box.x1 > frame.x1 + 1 or box.y0 < frame.y0 - 1 or box.y1 > frame.y1 + 1:
            out.append(text.get_text()[:60])
    return out


def test_explorer_caption_stays_inside_the_figure_for_any_setting():
    """Issue 20 found the caption running off the figure for 12 of 99 random settings (2,632
    characters at k=39, s=2, p=6). Drawn, every text must lie within the figure's edges."""
    image = mountain_at_dusk()
    rng = np.random.default_rng(20)
    settings = [(39, 2, 6), (40, 1, 20), (1, 1, 0), (20, 10, 5)]
    while len(settings) < 16:
        k, s, p = int(rng.integers(1, 41)), int(rng.integers(1, 41)), int(rng.integers(0, 21))
        if k <= 60 + 2 * p:
            settings.append((k, s, p))
    for k, s, p in settings:
        fig = explorer.explorer_figure(image, k, s, p)
        try:
            assert fig.get_figwidth() <= explorer.WIDTH_IN
            assert not outside_the_figure(fig), ((k, s, p), outside_the_figure(fig))
            assert max(len(line) for line in fig.get_supxlabel().splitlines()) <= explorer.CAPTION_CHARS
        finally:
            plt.close(fig)


def test_coverage_summary_lists_few_counts_and_sums_up_many():
    counts = coverage.coverage_map(60, 100, 20, 10, 5)
    assert explorer.coverage_summary(counts) == "100 px covered 1x | 1400 px covered 2x | 4500 px covered 4x"
    many = coverage.coverage_map(60, 100, 39, 2, 6)
    levels, pixels = np.unique(many, return_counts=True)
    summary = explorer.coverage_summary(many)
    assert f"{levels[0]}x to {levels[-1]}x ({len(levels)} different counts)" in summary
    assert f"most often {levels[pixels.argmax()]}x ({pixels.max()} px)" in summary


def test_explorer_alt_text_states_the_setting_and_its_numbers():
    alt = explorer.explorer_alt(mountain_at_dusk(), 20, 10, 5)
    for fact in ("k = 20", "s = 10", "p = 5", "padded with zeros to 70 x 110", "6 x 10 = 60 tokens of length 400"):
        assert fact in alt, fact
    assert "100 px covered 1x, 1400 px covered 2x, 4500 px covered 4x" in alt and "overlap" in alt
    gaps = explorer.explorer_alt(mountain_at_dusk(), 7, 8, 0)
    assert "without padding" in gaps and "leave gaps" in gaps and "read by no window" in gaps


def shown_alt(picture) -> str:
    match = re.fullmatch(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">', picture.value)
    assert match, picture.value[:120]
    assert base64.b64decode(match.group(1)).startswith(b"\x89PNG")
    return html.unescape(match.group(2))


def test_the_widget_redraws_on_a_change_and_names_its_fields():
    box = explorer.soft_split_explorer(mountain_at_dusk(), k=20, s=10, p=5)
    fields, message, picture = box.children[0].children, box.children[1], box.children[2]
    # Each field is named by its description (ipywidgets ties it to the input with <label for>).
    assert [f.description for f in fields] == ["kernel size k", "stride s", "padding p"]
    assert [(f.min, f.max) for f in fields] == [explorer.LIMITS[n] for n in "ksp"]
    first = picture.value
    assert shown_alt(picture) == explorer.explorer_alt(mountain_at_dusk(), 20, 10, 5) and message.value == ""
    fields[0].value = 7
    assert picture.value != first and message.value == ""
    assert shown_alt(picture) == explorer.explorer_alt(mountain_at_dusk(), 7, 10, 5)
    with pytest.raises(ValueError, match="k must be a whole number from 1 to 40"):
        explorer.soft_split_explorer(mountain_at_dusk(), k=41)


def test_the_widget_shows_the_error_message_for_a_kernel_that_does_not_fit():
    small = np.zeros((8, 8))
    box = explorer.soft_split_explorer(small, k=3, s=2, p=1)
    message, picture = box.children[1], box.children[2]
    before = picture.value
    box.children[0].children[0].value = 20  # 20 > 8 + 2 * 1
    assert "larger than the padded image" in message.value
    assert picture.value == before  # the last good drawing stays


def test_show_explorer_output_has_a_described_still_and_a_fixed_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    explorer.show_explorer(mountain_at_dusk())
    ((bundle, raw),) = shown
    assert raw and bundle["text/plain"] == explorer.WIDGET_TEXT
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    assert bundle["text/html"] == explorer.picture_html(png, explorer.explorer_alt(mountain_at_dusk(), 20, 10, 5))
    assert set(bundle[WIDGET_VIEW]) >= {"model_id", "version_major"}


def test_drop_widget_views_keeps_still_and_text_and_removes_bare_views():
    out = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("show_explorer(image)")
    cell.outputs = [
        out("display_data", data={"text/plain": "t", "image/png": "AAAA", WIDGET_VIEW: {"model_id": "x"}}),
        out("display_data", data={WIDGET_VIEW: {"model_id": "y"}}),
        out("stream", name="stdout", text="kept\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("text")])
    drop_widget_views(notebook)
    outputs = notebook.cells[0].outputs
    assert len(outputs) == 2
    assert set(outputs[0].data) == {"text/plain", "image/png"}
    assert outputs[1].text == "kept\n"


def test_show_explorer_without_ipywidgets_shows_the_still_picture(monkeypatch):
    """ipywidgets is declared, but an environment without it still gets the described still (issue 22)."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    explorer.show_explorer(mountain_at_dusk())
    ((bundle, _),) = shown
    assert WIDGET_VIEW not in bundle and bundle["text/plain"] == explorer.WIDGET_TEXT
    assert bundle["text/html"].startswith('<img src="data:image/png;base64,')


def test_ipywidgets_is_a_declared_dependency():
    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert any(dep.startswith("ipywidgets>=") for dep in meta["project"]["dependencies"])
