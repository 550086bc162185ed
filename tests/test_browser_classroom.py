"""The classroom kit in a real browser: the student edition of the website (``make book-student``)
holds no solution, and a slide deck (``make slides``) opens offline and steps through its slides."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import re
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser_launch import PageWatch, chromium

ROOT = Path(__file__).resolve().parents[1]
DECK = "01_soft_split"  # math, a GIF and many sections


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def serve(folder: Path):
    """A web server for ``folder`` on 127.0.0.1; yields its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def student_site(tmp_path_factory) -> Path:
    """The student edition, built exactly as ``make book-student`` builds it."""
    return load_script("build_book").build(tmp_path_factory.mktemp("student"), student=True)


def _normal(text: str) -> str:
    return " ".join(text.split())


def solution_fingerprints() -> dict[str, list[str]]:
    """Per worked solution, its code lines (25 characters or more) found nowhere in a lesson, guide or landing page."""
    public = "\n".join(
        [c.source for p in (ROOT / "notebooks").glob("*.ipynb") for c in nbformat.read(p, as_version=4).cells]
        + [p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")]
        + [(ROOT / "book" / "intro.md").read_text(encoding="utf-8")]
    )
    public = _normal(public)
    found = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        lines = [
            _normal(line)
            for cell in cells
            if cell.cell_type == "code" and "remove-cell" not in cell.metadata.get("tags", [])
            for line in cell.source.splitlines()
        ]
        found[path.stem] = sorted({line for line in lines if len(line) >= 25 and line not in public})
    return found


PAGE_REFS = """() => [...document.querySelectorAll("[href], [src]")].map(e => e.href || e.src)"""


def is_solution_url(url: str) -> bool:
    path = unquote(urlsplit(url).path)
    return "/solutions/" in path or "_solutions." in path or path.endswith("/solutions")


def test_browser_classroom_student_site_has_no_solution_page_link_or_content(student_site):
    fingerprints = solution_fingerprints()
    assert fingerprints and all(len(lines) >= 3 for lines in fingerprints.values()), fingerprints
    site = student_site
    # No file of the site comes from solutions/: no page, no source copy, no download.
    from_solutions = [
        p.relative_to(site).as_posix()
        for p in site.rglob("*")
        if "solutions" in p.relative_to(site).parts or "_solutions" in p.name
    ]
    assert not from_solutions, from_solutions
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)
    expected = {"index.html", "book/intro.html"} | {
        f"notebooks/{p.stem}.html" for p in (ROOT / "notebooks").glob("*.ipynb")
    }
    expected |= {f"docs/{p.stem}.html" for p in (ROOT / "docs").glob("*.md")}
    assert expected <= set(pages), sorted(expected - set(pages))
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    assert "solutions/" not in index
    problems = []
    with serve(site) as server, chromium() as browser:
        for rel in pages:
            page = browser.new_page()
            watch = PageWatch(page, server)
            page.goto(f"{server}/{rel}", wait_until="load")
            if rel == "index.html":  # a redirect to the landing page
                page.wait_for_url("**/book/intro.html")
                page.wait_for_load_state("load")
            links = [url for url in page.evaluate(PAGE_REFS) if is_solution_url(url)]
            text = _normal(page.evaluate("() => document.body.innerText"))
            shown = [line for lines in fingerprints.values() for line in lines if line in text]
            page.close()
            problems += [f"{rel}: {p}" for p in watch.problems]
            problems += [f"{rel}: links to {url}" for url in links]
            problems += [f"{rel}: shows the solution line {line!r}" for line in shown]
    assert not problems, "\n".join(problems)


def test_browser_classroom_solution_detector_finds_a_rendered_solution():
    """The check above would notice a solution: every worked solution, rendered, shows its fingerprints."""
    from nbconvert import HTMLExporter

    fingerprints = solution_fingerprints()
    exporter = HTMLExporter(exclude_output=True)
    with chromium() as browser:
        for stem, lines in fingerprints.items():
            html, _ = exporter.from_filename(str(ROOT / "solutions" / f"{stem}.ipynb"))
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # the export's CDN scripts: not needed here
            page.set_content(re.sub(r"<script\b.*?</script>", "", html, flags=re.S), wait_until="load")
            text = _normal(page.evaluate("() => document.body.innerText"))
            page.close()
            assert [line for line in lines if line in text] == lines, stem


@pytest.fixture(scope="module")
def slides(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("slides")
    load_script("build_slides").build(folder, [ROOT / "notebooks" / f"{DECK}.ipynb"])
    return folder


def expected_slides(path: Path) -> list[list[str]]:
    """The deck the tags describe: per section (slide), the first line of each of its vertical slides."""
    tag_slides = load_script("tag_slides")
    notebook = json.loads(path.read_text(encoding="utf-8"))
    tag_slides.tag(notebook)
    sections: list[list[str]] = []
    for cell in notebook["cells"]:
        kind = cell["metadata"]["slideshow"]["slide_type"]
        first = "".join(cell["source"]).strip().split("\n")[0]
        if kind == "slide" or (kind == "subslide" and not sections):
            sections.append([first])
        elif kind == "subslide":
            sections[-1].append(first)
    return sections


def heading_text(line: str) -> str:
    return line.lstrip("#").strip()


def test_browser_classroom_slides_open_offline_and_step_through(slides):
    sections = expected_slides(ROOT / "notebooks" / f"{DECK}.ipynb")
    assert len(sections) >= 5
    with serve(slides) as server, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watch = PageWatch(page, server)
        page.goto(f"{server}/{DECK}.slides.html", wait_until="load")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        assert page.evaluate("() => Reveal.getHorizontalSlides().length") == len(sections)
        assert page.evaluate("() => Reveal.getTotalSlides()") == sum(len(s) for s in sections)

        def at():
            indices = page.evaluate("() => Reveal.getIndices()")
            title = page.evaluate("() => Reveal.getCurrentSlide().textContent")  # as written, not upper-cased
            return (indices["h"], indices["v"]), _normal(title)

        position, text = at()
        assert position == (0, 0) and heading_text(sections[0][0]) in text
        page.keyboard.press("ArrowRight")  # the next section
        position, text = at()
        assert position == (1, 0) and _normal(heading_text(sections[1][0])) in text, (position, text)
        page.keyboard.press("ArrowDown")  # the next cell of that section
        assert at()[0] == (1, 1)
        for _ in range(len(sections[1]) - 1):
            page.keyboard.press("Space")  # through the section, then on to the next one
        assert at()[0] == (2, 0)
        # Math typeset by the local MathJax, and the soft-split GIF shown.
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
        math = page.evaluate(
            "() => [document.querySelectorAll('mjx-container').length, document.querySelectorAll('mjx-merror').length]"
        )
        assert math[0] > 0 and math[1] == 0, math
        gifs = page.evaluate(
            "() => [...document.images].filter(i => i.src.startsWith('data:image/gif')).map(i => i.naturalWidth)"
        )
        assert gifs and all(w > 0 for w in gifs), gifs
        page.close()
    assert not watch.problems, watch.problems
