"""The course website (``make book``) in a real browser: every page, image, GIF, link and formula."""

from __future__ import annotations

import functools
import importlib.util
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser_launch import PageWatch, chromium

ROOT = Path(__file__).resolve().parents[1]


def load_build_book():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "scripts" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The website, built exactly as ``make book`` builds it, into a temporary folder."""
    return load_build_book().build(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def server(site):
    """A local web server for the site on 127.0.0.1; yields its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)


class Refs(HTMLParser):
    """The href, src and id attributes of one HTML page."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.refs.append(attrs[key])


def parse(path: Path) -> Refs:
    refs = Refs()
    refs.feed(path.read_text(encoding="utf-8"))
    return refs


def test_browser_book_has_a_landing_page_and_one_page_per_notebook(site):
    built = set(pages(site))
    expected = {"index.html", "book/intro.html"}
    for folder in ("notebooks", "solutions"):
        expected |= {f"{folder}/{p.stem}.html" for p in (ROOT / folder).glob("*.ipynb")}
    expected |= {f"docs/{p.stem}.html" for p in (ROOT / "docs").glob("*.md")}
    assert expected <= built, sorted(expected - built)
    assert len([p for p in built if p.startswith("notebooks/")]) >= 5


def test_browser_book_every_local_link_and_image_resolves(site):
    broken = []
    for page in pages(site):
        path = site / page
        for ref in parse(path).refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page}: {ref}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in parse(target).ids:
                broken.append(f"{page}: {ref} (no such anchor)")
    assert not broken, broken


def test_browser_book_mathjax_is_the_local_copy(site):
    """The formulas are typeset by the MathJax shipped in _static, not by one from a CDN."""
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    for page in pages(site):
        for ref in parse(site / page).refs:
            assert "mathjax" not in ref.lower() or not urlsplit(ref).netloc, f"{page}: {ref}"


def notebook_has_math(stem: str) -> bool:
    path = next(ROOT / d / f"{stem}.ipynb" for d in ("notebooks", "solutions") if (ROOT / d / f"{stem}.ipynb").exists())
    nb = nbformat.read(path, as_version=4)
    return any("$" in c.source for c in nb.cells if c.cell_type == "markdown")


WAIT_FOR_IMAGES = """async () => {
    const imgs = [...document.images];
    imgs.forEach(img => { img.loading = "eager"; });
    await Promise.all(imgs.map(img => img.complete ? null :
        new Promise(done => { img.addEventListener("load", done); img.addEventListener("error", done); })));
    return imgs.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth}));
}"""

WAIT_FOR_MATH = """async () => {
    if (!window.MathJax || !MathJax.startup) return null;
    await MathJax.startup.promise;
    return {
        math: document.querySelectorAll("span.math, div.math").length,
        typeset: document.querySelectorAll("span.math mjx-container, div.math mjx-container").length,
        errors: document.querySelectorAll("mjx-merror").length,
    };
}"""


def test_browser_book_every_page_loads_offline_with_its_images_gifs_and_math(site, server):
    problems, gifs = [], []
    with chromium() as browser:
        for rel in pages(site):
            page = browser.new_page()  # a fresh page each time: its watch sees only this load
            watch = PageWatch(page, server)
            page.goto(f"{server}/{rel}", wait_until="load")
            if rel == "index.html":  # a redirect to the landing page
                page.wait_for_url("**/book/intro.html")
            for img in page.evaluate(WAIT_FOR_IMAGES):
                if img["width"] == 0:
                    watch.problems.append(f"image not shown: {img['src']}")
                if img["src"].endswith(".gif"):
                    gifs.append(img["src"])
            stem = Path(rel).stem
            if rel.startswith(("notebooks/", "solutions/")) and notebook_has_math(stem):
                math = page.evaluate(WAIT_FOR_MATH)
                if math is None:
                    watch.problems.append("MathJax did not load")
                elif not (math["math"] > 0 and math["typeset"] == math["math"] and math["errors"] == 0):
                    watch.problems.append(f"math not typeset: {math}")
            page.close()
            problems += [f"{rel}: {p}" for p in watch.problems]
    assert not problems, "\n".join(problems)
    # The three animations of the series: soft split (01), reconstruction (03), T2T pipeline (04).
    assert len(gifs) >= 3, gifs
