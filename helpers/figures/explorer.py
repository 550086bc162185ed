"""The soft-split explorer of notebook 01: sliders for k, s and p, the windows and the coverage map.

:func:`explorer_figure` draws one setting; :func:`soft_split_explorer` wraps it in ipywidgets
sliders; :func:`show_explorer` displays both as one cell output, the live widget for a running
kernel and a still picture of the starting setting for every other reader (GitHub, the website,
a notebook opened without running it).
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .. import checks
from ..model.tokens import count_tokens
from .coverage import coverage_map, draw_coverage
from .plotting import OKABE_ITO, show_image
from .softsplit import grey_image

# The first window, its right-hand and its lower neighbour.
WINDOW_COLOURS = (OKABE_ITO["orange"], OKABE_ITO["sky_blue"], OKABE_ITO["bluish_green"])
LIMITS = {"k": (1, 40), "s": (1, 40), "p": (0, 20)}
WIDGET_TEXT = "Soft-split explorer: run this cell in Jupyter to move the sliders for k, s and p."


def explorer_figure(image: np.ndarray, k: int, s: int, p: int) -> plt.Figure:
    """The padded picture with the first windows boxed, beside how often each pixel is covered."""
    image = grey_image(image)
    height, width = image.shape
    new_w, new_h, total = count_tokens(width, height, k, s, p)
    counts = coverage_map(height, width, k, s, p)

    fig, (ax_img, ax_cov) = plt.subplots(1, 2, figsize=(12, 4.1), layout="constrained")
    fig.get_layout_engine().set(h_pad=0.1)  # room above the titles
    show_image(ax_img, np.pad(image, p), title=f"Padded picture, {height + 2 * p} x {width + 2 * p}", colorbar=False)
    ax_img.add_patch(Rectangle((p, p), width, height, fill=False, ec="0.8", lw=1.0, ls=(0, (4, 3))))
    corners = [(0, 0), (0, s), (s, 0)]
    names = ["window 1", "window 2 (right)", f"window {new_w + 1} (below)"]
    shown = [(corner, name) for corner, name, ok in zip(corners, names, (True, new_w > 1, new_h > 1)) if ok]
    for ((row, col), name), colour, style in zip(shown, WINDOW_COLOURS, ("-", "--", ":")):
        ax_img.add_patch(Rectangle((col, row), k, k, fill=False, ec=colour, lw=2.5, ls=style, label=name))
    ax_img.legend(loc="lower right", fontsize=8, framealpha=0.85)
    ax_img.set_xlabel(f"k = {k}, s = {s}, p = {p}: {new_h} x {new_w} = {total} tokens of length {k * k}")

    levels, pixels = np.unique(counts, return_counts=True)
    spread = " | ".join(f"{n} px covered {c}x" for c, n in zip(levels.tolist(), pixels.tolist()))
    draw_coverage(ax_cov, counts, title="Windows covering each pixel of the picture")
    ax_cov.set_xlabel(spread)
    return fig


def figure_png(fig: plt.Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, without the software tag, so the same drawing gives the same bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def soft_split_explorer(image: np.ndarray, k: int = 20, s: int = 10, p: int = 5):
    """An ipywidgets box: sliders for ``k``, ``s`` and ``p`` above the live :func:`explorer_figure`.

    A setting whose kernel does not fit the padded picture shows the ``ValueError``'s message
    instead of a figure. The picture is sent as a PNG image widget, so no cell output is made.
    """
    start = {name: checks.int_in_range(name, value, *LIMITS[name]) for name, value in {"k": k, "s": s, "p": p}.items()}
    import ipywidgets as widgets

    sliders = {
        name: widgets.IntSlider(
            value=value, min=LIMITS[name][0], max=LIMITS[name][1], description=name, continuous_update=False
        )
        for name, value in start.items()
    }
    picture = widgets.Image(format="png")
    message = widgets.HTML()

    def redraw(_change=None) -> None:
        try:
            fig = explorer_figure(image, *(slider.value for slider in sliders.values()))
        except ValueError as error:
            message.value = f"<b>{error}</b>"
            return
        message.value = ""
        picture.value = figure_png(fig)
        plt.close(fig)

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(sliders.values())), message, picture])


def show_explorer(image: np.ndarray, k: int = 20, s: int = 10, p: int = 5) -> None:
    """Display the explorer as one output: the widget where widgets run, a still figure elsewhere.

    The output carries three forms of the same thing; a frontend shows the richest it can:
    the live widget (JupyterLab, Notebook, Colab with a kernel), else the PNG of the starting
    setting (GitHub, a static website), else a line of text.
    """
    from IPython.display import display

    fig = explorer_figure(image, k, s, p)
    still = base64.b64encode(figure_png(fig)).decode("ascii")
    plt.close(fig)
    bundle = soft_split_explorer(image, k, s, p)._repr_mimebundle_()
    bundle.update({"text/plain": WIDGET_TEXT, "image/png": still})
    display(bundle, raw=True)


__all__ = ["explorer_figure", "figure_png", "show_explorer", "soft_split_explorer"]
