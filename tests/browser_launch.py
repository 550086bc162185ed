"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` driven by Playwright.

Playwright's own browser download is not reachable, so the tests use the system browser
(``make test`` installs it as root, through ``make browser-deps``), or the one ``T2T_CHROMIUM``
names. A missing browser fails the tests, it never skips them.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("T2T_CHROMIUM", "/usr/bin/chromium"))
# Quiet and offline: no first-run pages, no updates, no background fetches of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
]


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A launched Playwright ``Browser``, closed afterwards."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium. Install it with "
            "`make browser-deps` (as root) or `sudo apt-get install chromium`, or point T2T_CHROMIUM at one."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PageWatch:
    """Everything that went wrong while a page loaded: failed or refused requests, HTTP errors,
    console errors, uncaught exceptions, and any request that left 127.0.0.1."""

    def __init__(self, page, origin: str):
        self.problems: list[str] = []
        self.origin = origin

        def route(r):
            if urlsplit(r.request.url).scheme in ("data", "blob") or r.request.url.startswith(origin):
                r.continue_()
            else:
                self.problems.append(f"network request outside 127.0.0.1: {r.request.url}")
                r.abort()

        page.route("**/*", route)
        page.on("requestfailed", lambda req: self.problems.append(f"request failed: {req.url} ({req.failure})"))
        page.on(
            "response",
            lambda res: res.status >= 400 and self.problems.append(f"HTTP {res.status}: {res.url}"),
        )
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console error: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
