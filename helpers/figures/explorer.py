"""The soft-split explorer of notebook 01: number fields for k, s and p, the windows and the coverage map.

:func:`explorer_figure` draws one setting and :func:`explorer_alt` describes it in words;
:func:`soft_split_explorer` wraps them in ipywidgets controls; :func:`show_explorer` displays
both as one cell output, the live widget for a running kernel and a still picture of the
starting setting, with its description, for every other reader (GitHub, the website, a notebook
opened without running it).

The controls are ``BoundedIntText`` fields, not ``IntSlider``s: ipywidgets 8 draws a slider as
a noUiSlider handle that none of the widget's options (``description``, ``tooltip``) names, so
a screen reader announces an unnamed slider; a text field is named by its ``description``
through a ``<label for>``. The picture is an ``HTML`` widget holding an ``<img alt>``, because
``ipywidgets.Image`` has no option for a text alternative.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap

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
WIDGET_TEXT = "Soft-split explorer: run this cell in Jupyter to set k, s and p."
# The controls' names, read by screen readers and shown beside the fields.
NAMES = {"k": "kernel size k", "s": "stride s", "p": "padding p"}
WIDTH_IN = 7.5  # drawn at the width the website shows it, so its labels stay at least 9 px
CAPTION_CHARS = 100  # the caption wraps at this many characters a line


def coverage_summary(counts: np.ndarray, sep: str = " | ") -> str:
    """How often the pixels are covered, in one short line whatever the setting.

    Up to four distinct counts are listed (``"100 px covered 1x | 1400 px covered 2x | ..."``);
    more are summed up by the range and the most common count, so the text stays short.
    """
    counts = checks.array("counts", counts, 2, "(height, width)", "pass coverage_map(...)", dtype=None)
    if counts.size == 0:
        raise ValueError(f"counts must have at least one pixel, got shape {counts.shape}.")
    checks.string("sep", sep, "sep=' | '")
    levels, pixels = np.unique(counts, return_counts=True)
    if len(levels) <= 4:
        return sep.join(f"{n} px covered {c}x" for c, n in zip(levels.tolist(), pixels.tolist()))
    mode = int(np.argmax(pixels))
    return (
        f"pixels covered {levels[0]}x to {levels[-1]}x ({len(levels)} different counts); "
        f"most often {levels[mode]}x ({pixels[mode]} px)"
    )


def explorer_caption(height: int, width: int, k: int, s: int, p: int) -> str:
    """The caption under the explorer's figure: the token count and the coverage, wrapped."""
    new_w, new_h, total = count_tokens(width, height, k, s, p)
    line = f"k = {k}, s = {s}, p = {p}: {new_h} x {new_w} = {total} tokens of length {k * k}"
    return "\n".join([line, *textwrap.wrap(coverage_summary(coverage_map(height, width, k, s, p)), CAPTION_CHARS)])


def explorer_figure(image: np.ndarray, k: int, s: int, p: int) -> plt.Figure:
    """The padded picture with the first windows boxed, beside how often each pixel is covered."""
    image = grey_image(image)
    height, width = image.shape
    new_w, new_h, total = count_tokens(width, height, k, s, p)
    counts = coverage_map(height, width, k, s, p)

    fig, (ax_img, ax_cov) = plt.subplots(1, 2, figsize=(WIDTH_IN, 3.2), layout="constrained")
    fig.get_layout_engine().set(h_pad=0.06)  # room above the titles
    show_image(
        ax_img,
        np.pad(image, p),
        title=f"Padded picture, {height + 2 * p} x {width + 2 * p}",
        colorbar=False,
        tick_step=20,
    )
    ax_img.add_patch(Rectangle((p, p), width, height, fill=False, ec="0.8", lw=1.0, ls=(0, (4, 3))))
    corners = [(0, 0), (0, s), (s, 0)]
    names = ["window 1", "window 2 (right)", f"window {new_w + 1} (below)"]
    shown = [(corner, name) for corner, name, ok in zip(corners, names, (True, new_w > 1, new_h > 1)) if ok]
    for ((row, col), name), colour, style in zip(shown, WINDOW_COLOURS, ("-", "--", ":")):
        ax_img.add_patch(Rectangle((col, row), k, k, fill=False, ec=colour, lw=2.0, ls=style, label=name))
    ax_img.legend(loc="lower right", fontsize=7.5, framealpha=0.85)
    draw_coverage(ax_cov, counts, title="Windows covering each pixel", tick_step=20)
    fig.supxlabel(explorer_caption(height, width, k, s, p), fontsize=9.5)
    return fig


def explorer_alt(image: np.ndarray, k: int, s: int, p: int) -> str:
    """The explorer's figure in words, for a reader who cannot see it (its ``alt`` text)."""
    image = grey_image(image)
    height, width = image.shape
    new_w, new_h, total = count_tokens(width, height, k, s, p)
    counts = coverage_map(height, width, k, s, p)
    neighbours = []
    if new_w > 1:
        neighbours.append(f"window 2, {s} px to its right")
    if new_h > 1:
        neighbours.append(f"window {new_w + 1}, {s} px below it")
    around = f", with {' and '.join(neighbours)}" if neighbours else ""
    padded = f"padded with zeros to {height + 2 * p} x {width + 2 * p}" if p else "without padding"
    overlap = "overlap" if s < k else ("touch" if s == k else "leave gaps between them")
    return (
        f"Soft-split explorer at kernel size k = {k}, stride s = {s}, padding p = {p}. Left: the "
        f"{height} x {width} picture {padded}, the "
        f"first {k} x {k} window boxed in its top-left corner{around}; neighbouring windows {overlap}. "
        f"The split makes {new_h} x {new_w} = {total} tokens of length {k * k}. Right: a map of how "
        f"many windows cover each pixel of the picture: {coverage_summary(counts, sep=', ')}"
        + ("; pixels with 0 are read by no window." if counts.min() == 0 else ".")
    )


def figure_png(fig: plt.Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes, without the software tag, so the same drawing gives the same bytes."""
    checks.instance("fig", fig, plt.Figure, "fig, ax = plt.subplots()")
    dpi = checks.int_in_range("dpi", dpi, 1, 1000, "dpi=100")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def picture_html(png: bytes, alt: str) -> str:
    """An ``<img>`` of the figure with its description as ``alt``."""
    png = bytes(checks.instance("png", png, (bytes, bytearray), "png=figure_png(fig)"))
    checks.string("alt", alt, "alt='what the figure shows'")
    source = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{source}" alt="{html.escape(alt, quote=True)}">'


def soft_split_explorer(image: np.ndarray, k: int = 20, s: int = 10, p: int = 5):
    """An ipywidgets box: fields for ``k``, ``s`` and ``p`` above the live :func:`explorer_figure`.

    A setting whose kernel does not fit the padded picture shows the ``ValueError``'s message
    instead of a figure. The picture is an ``HTML`` widget (an ``<img>`` with its description
    as ``alt``), so no cell output is made.
    """
    start = {name: checks.int_in_range(name, value, *LIMITS[name]) for name, value in {"k": k, "s": s, "p": p}.items()}
    import ipywidgets as widgets

    fields = {
        name: widgets.BoundedIntText(
            value=value,
            min=LIMITS[name][0],
            max=LIMITS[name][1],
            step=1,
            description=NAMES[name],
            style={"description_width": "initial"},
            layout=widgets.Layout(width="12em"),
        )
        for name, value in start.items()
    }
    picture = widgets.HTML()
    message = widgets.HTML()

    def redraw(_change=None) -> None:
        setting = [field.value for field in fields.values()]
        try:
            fig = explorer_figure(image, *setting)
        except ValueError as error:
            message.value = f"<b>{html.escape(str(error))}</b>"
            return
        message.value = ""
        picture.value = picture_html(figure_png(fig), explorer_alt(image, *setting))
        plt.close(fig)

    for field in fields.values():
        field.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(fields.values())), message, picture])


def show_explorer(image: np.ndarray, k: int = 20, s: int = 10, p: int = 5) -> None:
    """Display the explorer as one output: the widget where widgets run, a still figure elsewhere.

    The output carries four forms of the same thing; a frontend shows the richest it can:
    the live widget (JupyterLab, Notebook, Colab with a kernel), else the starting setting as an
    ``<img>`` with its description as ``alt`` (GitHub, the website), else its PNG, else a line
    of text. Without ipywidgets installed, only the still forms are shown.
    """
    from IPython.display import display

    fig = explorer_figure(image, k, s, p)
    png = figure_png(fig)
    plt.close(fig)
    try:
        bundle = soft_split_explorer(image, k, s, p)._repr_mimebundle_()
    except ImportError:  # no ipywidgets in this environment: the still forms below are the whole output
        bundle = {}
    html_still = picture_html(png, explorer_alt(image, k, s, p))
    bundle.update(
        {"text/plain": WIDGET_TEXT, "image/png": base64.b64encode(png).decode("ascii"), "text/html": html_still}
    )
    display(bundle, raw=True)


__all__ = [
    "coverage_summary",
    "explorer_alt",
    "explorer_caption",
    "explorer_figure",
    "figure_png",
    "show_explorer",
    "soft_split_explorer",
]
