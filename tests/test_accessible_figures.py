"""Figures and animations carry their text alternative; animations start still (issue 20)."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from PIL import Image

from helpers.figures import accessible
from helpers.figures.alt_text import ALT, alt_text

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
IMG = re.compile(r'<img src="data:(image/[a-z]+);base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"')


def test_figure_output_has_the_png_an_img_with_alt_and_the_description_as_text():
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    png = accessible.figure_png(fig)
    plt.close(fig)
    alt = 'A rising line, from "low" to high & back <never>.'
    bundle = accessible.Figure(png, alt)._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == png and bundle["text/plain"] == alt
    ((mime, data, shown),) = IMG.findall(bundle["text/html"])
    assert mime == "image/png" and base64.b64decode(data) == png and html.unescape(shown) == alt
    with pytest.raises(ValueError, match="describe the figure"):
        accessible.Figure(png, "  ")
    with pytest.raises(TypeError, match="alt must be a string"):
        accessible.Figure(png, None)


def test_show_figure_displays_once_and_closes_the_figure(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, _ = plt.subplots(figsize=(2, 1))
    accessible.show_figure(fig, ALT["mountains"])
    assert not plt.fignum_exists(fig.number)
    ((out,),) = [shown]
    assert out.alt == ALT["mountains"] and out.png.startswith(b"\x89PNG")


def test_animation_starts_as_a_still_first_frame_and_plays_behind_a_closed_control():
    gif = (ROOT / "figures" / "softsplit.gif").read_bytes()
    anim = accessible.Animation(gif, ALT["softsplit"])
    with Image.open(io.BytesIO(gif)) as reference:
        frames, duration = reference.n_frames, reference.info["duration"]
        reference.seek(0)
        first = np.asarray(reference.convert("RGB"))
    assert (anim.frames, anim.seconds) == (frames, frames * duration / 1000) == (60, 30.0)
    bundle = anim._repr_mimebundle_()
    still = base64.b64decode(bundle["image/png"])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(still)).convert("RGB")), first)
    page = bundle["text/html"]
    assert page.count("<details>") == 1 and "<details open" not in page  # closed: nothing moves until Play
    (gif_img, still_img) = IMG.findall(page)
    assert gif_img[0] == "image/gif" and base64.b64decode(gif_img[1]) == gif
    assert still_img[0] == "image/png" and base64.b64decode(still_img[1]) == still
    assert html.unescape(gif_img[2]) == ALT["softsplit"] and ALT["softsplit"] in html.unescape(still_img[2])
    assert "60 frames, 30 s" in page and bundle["text/plain"] == ALT["softsplit"]
    with pytest.raises(ValueError, match="bytes of a GIF"):
        accessible.Animation(still, ALT["softsplit"])


def test_alt_text_names_the_missing_entry():
    assert alt_text("mountains") == ALT["mountains"]
    with pytest.raises(ValueError, match="no alt text called .mountain."):
        alt_text("mountain")


def image_outputs(path: Path):
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if any(m in data for m in ("image/png", "image/gif", "image/jpeg")):
                yield i, data


def test_every_figure_in_the_notebooks_carries_its_alt_text_in_an_img():
    """JupyterLab draws a bare PNG without alt; each figure output also has an <img alt> in HTML."""
    outputs, used = 0, set()
    for path in NOTEBOOKS:
        for i, data in image_outputs(path):
            outputs += 1
            assert "image/gif" not in data, f"{path.name} cell {i}: a bare GIF would play by itself"
            images = IMG.findall("".join(data.get("text/html", "")))
            assert images, f"{path.name} cell {i}: no <img alt> beside the picture"
            for _, _, alt in images:
                alt = html.unescape(alt)
                assert len(alt) > 80, f"{path.name} cell {i}: alt {alt!r}"
                used |= {name for name, text in ALT.items() if text in alt}
    assert outputs >= 24
    assert used == set(ALT), sorted(set(ALT) - used)  # every description is shown, none is stale
