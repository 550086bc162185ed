"""The package description: README.md with every relative link made absolute.

Everything else about the package is in pyproject.toml. The README's links are relative so that
they work on GitHub and in a checkout; on a package index they would point nowhere, so the
description gets them resolved against the one repository URL, ``[project.urls] Repository``
(``blob/main/`` for files, ``tree/main/`` for folders, ``raw/main/`` for images).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
BRANCH = "main"
# A markdown link or image whose target has no scheme and is not an anchor: [text](target) or ![alt](target).
RELATIVE_LINK = re.compile(r"(!?)\[([^\]]*)\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)\)")


def absolute_links(text: str, url: str) -> str:
    """``text`` with every relative markdown link resolved against the repository ``url``."""

    def resolve(match: re.Match) -> str:
        image, label, target = match.groups()
        kind = "raw" if image else ("tree" if target.endswith("/") else "blob")
        return f"{image}[{label}]({url}/{kind}/{BRANCH}/{target.removeprefix('./')})"

    return RELATIVE_LINK.sub(resolve, text)


def description() -> str:
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"].rstrip("/")
    return absolute_links((ROOT / "README.md").read_text(encoding="utf-8"), url.removesuffix(".git"))


setup(long_description=description(), long_description_content_type="text/markdown")
