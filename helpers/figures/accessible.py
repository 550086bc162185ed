"""Figures and animations as cell outputs that carry their text alternative (WCAG 2.1 AA).

A figure shown by the inline backend is a bare PNG, and JupyterLab draws a bare PNG as an
``<img>`` without ``alt``: a screen reader says "image" and nothing else. :func:`show_figure`
shows the same PNG together with an HTML form, ``<img alt="...">``, which JupyterLab, the course
website (myst-nb) and GitHub render in its place; the plain-text form is the description itself.

An animated GIF that loops forever cannot be paused (success criterion 2.2.2). :func:`animation`
shows a still of the first frame and puts the GIF behind a "Play" control, an HTML
``<details>`` element: it plays only after a click, and a second click stops it. It needs no
JavaScript, so it works in JupyterLab and on the website alike.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import matplotlib.pyplot as plt
from PIL import Image

from .. import checks

DISPLAY_DPI = 100  # the inline backend's resolution: one inch of figure is 100 screen pixels


def figure_png(fig: plt.Figure, dpi: int = DISPLAY_DPI) -> bytes:
    """``fig`` as PNG bytes cropped like the inline backend's, without the software tag."""
    checks.instance("fig", fig, plt.Figure, "fig, ax = plt.subplots()")
    dpi = checks.int_in_range("dpi", dpi, 1, 1000, "dpi=100")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _bytes(name: str, value: object) -> bytes:
    return bytes(checks.instance(name, value, (bytes, bytearray), f"{name}=Path('figure.png').read_bytes()"))


def _gif(data: object) -> Image.Image:
    """``data`` opened as a GIF (``ValueError`` for other bytes)."""
    try:
        gif = Image.open(io.BytesIO(_bytes("data", data)))
    except (OSError, Image.DecompressionBombError):
        raise ValueError("data must be the bytes of a GIF file, such as save_gif writes.") from None
    if gif.format != "GIF":
        gif.close()
        raise ValueError(f"data must be the bytes of a GIF file, got a {gif.format} picture.")
    return gif


def _alt(alt: object) -> str:
    alt = checks.string("alt", alt, "alt=ALT['mountains']")
    if not alt.strip():
        raise ValueError("alt must describe the figure for a reader who cannot see it, not be empty.")
    return alt


def img_tag(data: bytes, mime: str, alt: str, css_class: str = "") -> str:
    """An ``<img>`` with the image embedded as a data URL and ``alt`` escaped for an attribute."""
    data = _bytes("data", data)
    checks.string("mime", mime, "mime='image/png'")
    alt = _alt(alt)
    checks.string("css_class", css_class, "css_class=''")
    source = base64.b64encode(data).decode("ascii")
    klass = f' class="{css_class}"' if css_class else ""
    return f'<img src="data:{mime};base64,{source}" alt="{html.escape(alt, quote=True)}"{klass}>'


class Figure:
    """A drawn figure as a cell output: PNG, ``<img alt>`` and the description as plain text."""

    def __init__(self, png: bytes, alt: str):
        self.png, self.alt = _bytes("png", png), _alt(alt)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {
            "text/html": img_tag(self.png, "image/png", self.alt),
            "image/png": base64.b64encode(self.png).decode("ascii"),
            "text/plain": self.alt,
        }


def show_figure(fig: plt.Figure, alt: str) -> None:
    """Display ``fig`` with its text alternative ``alt`` and close it (so it is shown once)."""
    from IPython.display import display

    alt = _alt(alt)
    png = figure_png(fig)
    plt.close(fig)
    display(Figure(png, alt))


def gif_timing(data: bytes) -> tuple[int, float]:
    """The number of frames of a GIF and the seconds one loop takes."""
    with _gif(data) as gif:
        frames = getattr(gif, "n_frames", 1)
        total_ms = 0
        for i in range(frames):
            gif.seek(i)
            total_ms += gif.info.get("duration", 0)
    return frames, total_ms / 1000


def first_frame_png(data: bytes) -> bytes:
    """The first frame of a GIF as PNG bytes (a still that does not move)."""
    with _gif(data) as gif:
        gif.seek(0)
        buffer = io.BytesIO()
        gif.convert("RGB").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


class Animation:
    """An animated GIF as a cell output that does not move until the reader asks it to.

    HTML: a "Play" control (``<details>``) that opens onto the GIF, and below it a still of the
    first frame; the website hides the still while the animation plays (``book/_ext``). PNG: the
    still alone, for a frontend without HTML. Plain text: the description.
    """

    def __init__(self, gif: bytes, alt: str):
        if not _bytes("gif", gif).startswith((b"GIF87a", b"GIF89a")):
            raise ValueError("Animation needs the bytes of a GIF file.")
        self.gif, self.alt = gif, _alt(alt)
        self.frames, self.seconds = gif_timing(gif)
        self.still = first_frame_png(gif)

    def summary(self) -> str:
        return f"Play the animation ({self.frames} frames, {self.seconds:g} s, repeating); click here again to stop it"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        player = (
            '<div class="t2t-animation">'
            f"<details><summary>{html.escape(self.summary())}</summary>"
            f"{img_tag(self.gif, 'image/gif', self.alt)}</details>"
            f"{img_tag(self.still, 'image/png', 'Still of the first frame. ' + self.alt, 't2t-still')}"
            "</div>"
        )
        return {
            "text/html": player,
            "image/png": base64.b64encode(self.still).decode("ascii"),
            "text/plain": self.alt,
        }


def animation(path: str | os.PathLike, alt: str) -> Animation:
    """The GIF at ``path`` as an :class:`Animation` output, described by ``alt``."""
    path = checks.existing_file("path", path, "GIF", "Save it first with save_gif, or check the folder")
    return Animation(Path(path).read_bytes(), alt)


__all__ = ["Animation", "Figure", "animation", "figure_png", "img_tag", "show_figure"]
