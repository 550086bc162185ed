"""The course website (``make book``) in a real browser: every page, image, GIF, link and formula,
and accessibility (WCAG 2.1 AA, issue 20): axe-core on every page, alt text on every image,
animations that play only on request, menus that open on a phone, code that wraps."""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_launch import PageWatch, chromium

from helpers.figures.alt_text import ALT

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


@functools.cache  # pages embed their figures, so parse each one once
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
                if img["src"].endswith(".gif") or img["src"].startswith("data:image/gif"):
                    gifs.append(img["src"][:40])
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


# --- Accessibility (issue 20) ---------------------------------------------------------------

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices; plus label-content-name-mismatch
# (WCAG 2.5.3), which axe tags experimental and runs only when asked.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "rules": {"label-content-name-mismatch": {"enabled": True}},
    "resultTypes": ["violations"],
}


def axe_violations(page) -> list[str]:
    result = Axe().run(page, options=AXE_OPTIONS).response
    return [
        f"{v['id']} ({v['impact']}): {n['target']} {n['html'][:120]}" for v in result["violations"] for n in v["nodes"]
    ]


MOVING_GIFS = """() => [...document.images]
    .filter(img => /^data:image\\/gif|\\.gif$/.test(img.src) && img.checkVisibility({visibilityProperty: true}))
    .map(img => img.src.slice(0, 60))"""

NO_SIDEWAYS_SCROLL = """() => [...document.querySelectorAll("div.cell_input pre")]
    .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), "").slice(0, 100))"""


@pytest.fixture(scope="module")
def desktop_scan(site, server) -> dict[str, dict]:
    """Every page once on a 1366 x 768 screen: axe's violations, the GIFs moving on screen, and
    the input code blocks (with those that scroll sideways). One visit per page keeps this fast."""
    scan = {}
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        for rel in pages(site):
            if rel == "index.html":  # only a redirect to book/intro.html
                continue
            page.goto(f"{server}/{rel}", wait_until="load")
            scan[rel] = {
                "axe": axe_violations(page),
                "moving": page.evaluate(MOVING_GIFS),
                "code_blocks": page.locator("div.cell_input pre").count(),
                "scrolling": page.evaluate(NO_SIDEWAYS_SCROLL),
            }
        page.close()
    return scan


def test_browser_book_axe_finds_no_violation_on_any_page(desktop_scan):
    assert len(desktop_scan) >= 15
    problems = [f"{rel}: {v}" for rel, found in desktop_scan.items() for v in found["axe"]]
    assert not problems, "\n".join(problems)


def test_browser_book_axe_finds_no_violation_on_a_phone(server):
    """At 375 px the layout changes (menus become buttons and dialogs); the content does not, so a
    phone check of the landing page, a notebook and a guide covers what differs."""
    problems = []
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        for rel in ("book/intro.html", "notebooks/01_soft_split.html", "docs/teaching.html"):
            page.goto(f"{server}/{rel}", wait_until="load")
            problems += [f"{rel}: {v}" for v in axe_violations(page)]
        page.close()
    assert not problems, "\n".join(problems)


class Images(HTMLParser):
    """The src and alt of every <img> in a page."""

    def __init__(self):
        super().__init__()
        self.images: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            attrs = dict(attrs)
            self.images.append((attrs.get("src", ""), attrs.get("alt")))


LOOKS_LIKE_A_PATH_OR_HASH = re.compile(r"(^|[/\\])[\w.-]+\.(png|gif|jpe?g|svg|webp)$|[0-9a-f]{16,}|^\.\.?/", re.I)


def test_browser_book_every_image_has_alt_text_that_is_not_a_path_or_hash(site):
    images, bad = [], []
    for rel in pages(site):
        parser = Images()
        parser.feed((site / rel).read_text(encoding="utf-8"))
        for src, alt in parser.images:
            images.append((rel, alt))
            if not alt or not alt.strip() or LOOKS_LIKE_A_PATH_OR_HASH.search(alt.strip()):
                bad.append(f"{rel}: alt={alt!r} for {src[:60]}")
    assert not bad, "\n".join(bad)
    # The notebooks' figures carry the descriptions written for them, on the pages that show them.
    shown = {alt for _, alt in images}
    missing = [name for name, text in ALT.items() if text not in shown]
    assert not missing, missing
    assert len([a for r, a in images if r.startswith(("notebooks/", "solutions/"))]) >= 24


def test_the_path_or_hash_pattern_tells_a_description_from_a_file_name():
    for bad in (
        "../_images/1f0e9c3d5b7a9e8f0a1b2c3d4e5f6a7b.png",
        "figures/mountains.png",
        "softsplit.gif",
        "a3f9c2e1d4b5a6c7",
    ):
        assert LOOKS_LIKE_A_PATH_OR_HASH.search(bad), bad
    for good in (ALT["mountains"], "Open In Colab", "Launch Binder", "A figure, 20 by 20, of file sizes in MB."):
        assert not LOOKS_LIKE_A_PATH_OR_HASH.search(good), good


SIDEBAR_OPEN = "() => document.getElementById('pst-primary-sidebar-modal').open"
CONTENTS_OPEN = "() => document.getElementById('pst-secondary-sidebar-modal').open"


def test_browser_book_chapter_menu_and_contents_open_on_a_phone(server):
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        watch = PageWatch(page, server)
        page.goto(f"{server}/notebooks/01_soft_split.html", wait_until="load")
        toggles = page.locator(".primary-toggle:visible")
        assert toggles.count() == 1, "one visible chapter-menu button"
        assert not page.evaluate(SIDEBAR_OPEN)
        toggles.click()
        page.wait_for_function(SIDEBAR_OPEN, timeout=5000)
        link = page.locator("#pst-primary-sidebar-modal a", has_text="02 · The Token Transformer: attention")
        assert link.is_visible()
        page.keyboard.press("Escape")
        page.wait_for_function(f"() => !({SIDEBAR_OPEN})()", timeout=5000)
        page.locator(".secondary-toggle:visible").click()
        page.wait_for_function(CONTENTS_OPEN, timeout=5000)
        assert page.locator("#pst-secondary-sidebar-modal a", has_text="Watching the window slide").is_visible()
        page.keyboard.press("Escape")
        link_after = page.locator("#pst-primary-sidebar-modal a").count()
        page.close()
    assert link_after == 0, "the menu's links went back to the sidebar"
    assert not watch.problems, watch.problems


def test_browser_book_desktop_has_one_search_button_and_a_working_menu_button(server):
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{server}/notebooks/01_soft_split.html", wait_until="load")
        assert page.locator(".search-button__button:visible").count() == 1
        assert page.locator("#pst-header").is_hidden(), "the theme's empty top bar is not shown"
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        page.locator(".primary-toggle:visible").click()
        page.wait_for_function(
            "() => document.getElementById('pst-primary-sidebar').classList.contains('pst-sidebar-hidden')"
        )
        page.close()


def test_browser_book_no_input_code_scrolls_sideways_on_a_1366_px_screen(desktop_scan):
    notebook_pages = {rel: found for rel, found in desktop_scan.items() if rel.startswith(("notebooks/", "solutions/"))}
    assert sum(found["code_blocks"] for found in notebook_pages.values()) > 100
    scrolling = [f"{rel}: {line}" for rel, found in notebook_pages.items() for line in found["scrolling"]]
    assert not scrolling, "\n".join(scrolling)


ANIMATIONS = """() => [...document.querySelectorAll(".t2t-animation")].map(a => {
    const gif = a.querySelector("details img"), still = a.querySelector("img.t2t-still");
    const shown = img => img.checkVisibility({visibilityProperty: true});
    return {gif: gif.src.slice(0, 15), gifShown: shown(gif), stillShown: shown(still),
            open: a.querySelector("details").open, alt: gif.alt};
})"""


def test_browser_book_animations_stay_still_until_played_and_stop_on_a_second_click(desktop_scan, server):
    """WCAG 2.2.2: no animation on the site plays by itself; each one plays and stops on request."""
    moving = [f"{rel}: {src}" for rel, found in desktop_scan.items() for src in found["moving"]]
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{server}/notebooks/01_soft_split.html", wait_until="load")
        (before,) = page.evaluate(ANIMATIONS)
        page.locator(".t2t-animation summary").click()
        (playing,) = page.evaluate(ANIMATIONS)
        page.locator(".t2t-animation summary").click()
        (stopped,) = page.evaluate(ANIMATIONS)
        page.close()
    assert not moving, moving
    assert before["gif"] == "data:image/gif;" and not before["gifShown"] and before["stillShown"]
    assert playing["open"] and playing["gifShown"] and not playing["stillShown"]
    assert not stopped["gifShown"] and stopped["stillShown"]
    assert before["alt"] == ALT["softsplit"]
