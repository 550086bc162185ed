"""Notebook 01's soft-split explorer: the coverage map against a count done window by window,
the discrete colours, the widget's redraw, and the saved output that stays deterministic."""

from __future__ import annotations

import base64

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
    assert "6 x 10 = 60 tokens of length 400" in fig.axes[0].get_xlabel()
    assert "100 px covered 1x" in fig.axes[1].get_xlabel()
    png = explorer.figure_png(fig)
    plt.close(fig)
    again = explorer.explorer_figure(image, 20, 10, 5)  # the same setting drawn afresh: the same bytes
    assert png.startswith(b"\x89PNG") and png == explorer.figure_png(again)
    plt.close(again)
    with pytest.raises(ValueError, match="one grey channel"):
        explorer.explorer_figure(np.zeros((60, 100, 3)), 20, 10, 5)
    with pytest.raises(ValueError, match="larger than the padded image"):
        explorer.explorer_figure(image, 70, 10, 0)  # 70 > 60 + 2 * 0


def test_the_widget_redraws_on_a_slider_change_and_reports_bad_settings():
    box = explorer.soft_split_explorer(mountain_at_dusk(), k=20, s=10, p=5)
    sliders, message, picture = box.children[0].children, box.children[1], box.children[2]
    k_slider = sliders[0]
    first = bytes(picture.value)
    assert first.startswith(b"\x89PNG") and message.value == ""
    k_slider.value = 7
    assert bytes(picture.value) != first and message.value == ""
    with pytest.raises(ValueError, match="k must be a whole number from 1 to 40"):
        explorer.soft_split_explorer(mountain_at_dusk(), k=41)


def test_the_widget_shows_the_error_message_for_a_kernel_that_does_not_fit():
    small = np.zeros((8, 8))
    box = explorer.soft_split_explorer(small, k=3, s=2, p=1)
    message, picture = box.children[1], box.children[2]
    before = bytes(picture.value)
    box.children[0].children[0].value = 20  # 20 > 8 + 2 * 1
    assert "larger than the padded image" in message.value
    assert bytes(picture.value) == before  # the last good drawing stays


def test_show_explorer_output_has_a_still_and_a_fixed_text(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    explorer.show_explorer(mountain_at_dusk())
    ((bundle, raw),) = shown
    assert raw and bundle["text/plain"] == explorer.WIDGET_TEXT
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
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
