"""Derive every Colab/Binder badge and install command from the one repository URL.

The repository URL is written once, in ``pyproject.toml`` (``[project.urls] Repository``). This
script writes what depends on it:

- in every notebook (``notebooks/*.ipynb``, ``solutions/*.ipynb``), under its title, a markdown
  cell with the "Open in Colab" and Binder badges (tagged ``colab-badge``) and then a code cell
  (tagged ``bootstrap``) that installs the package when its distribution is not installed, and
  stops with what to rename when a learner's own ``helpers`` hides it;
- the badges and the ``pip install git+...`` command in ``README.md``, between marker comments;
- the repository and launch-button settings of the course website (``book/_config.yml``).

Running it twice changes nothing. A fork changes the URL in ``pyproject.toml`` and runs
``python scripts/sync_links.py``; ``tests/test_sync_links.py`` fails until it has.
Use ``--check`` to list what is out of date without writing anything.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DIST_NAME = "t2t-vit-explained"
BRANCH = "main"
NOTEBOOK_DIRS = ("notebooks", "solutions")
BADGE_TAG = "colab-badge"
BOOTSTRAP_TAG = "bootstrap"
# Jupyter Book drops cells tagged remove-cell: the website has its own launch buttons, and the
# badge images live on other servers, which an offline site must not fetch.
SITE_TAG = "remove-cell"
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_SVG = "https://mybinder.org/badge_logo.svg"

# The bootstrap cell. It must print nothing when the package is installed (nbval compares outputs),
# and it must keep the torch and torchvision that Colab ships: it pins them, as installed, in a
# pip constraints file, so pip can only keep them (the package asks for torch>=2.1).
# It knows the package by its distribution's metadata, not by whether some `helpers` is importable:
# a learner's own helpers.py (and PyPI's unrelated "helpers") must not pass for it. When one hides
# the package from `import helpers`, the cell stops and says what to rename.
BOOTSTRAP_TEMPLATE = """\
# Colab, Binder or a fresh Python: install this series' package, {dist}, if it is missing.
# Where it is installed (make setup, Binder) this cell prints nothing and changes nothing.
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

try:
    importlib.metadata.distribution("{dist}")
except importlib.metadata.PackageNotFoundError:
    import os
    import subprocess
    import sys
    import tempfile

    keep = []  # the installed torch stack, pinned so that pip keeps it
    for name in ("torch", "torchvision"):
        try:
            keep.append(f"{{name}}=={{importlib.metadata.version(name)}}")
        except importlib.metadata.PackageNotFoundError:
            pass
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
        constraints.write("\\n".join(keep) + "\\n")
    requirement = "{requirement}"
    print(f"{dist} is not installed: pip install {{requirement!r}}, keeping {{keep or 'no torch'}}")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "-c", constraints.name, requirement]
    try:
        subprocess.run(pip, check=True)
    finally:
        os.unlink(constraints.name)  # leave no temporary file behind
    importlib.invalidate_caches()

# `import helpers` must find the package of {dist}, not a helpers.py (or helpers folder) of your own.
dist = importlib.metadata.distribution("{dist}")
source = json.loads(dist.read_text("direct_url.json") or "{{}}")
if source.get("dir_info", {{}}).get("editable"):  # pip install -e (make setup): the checkout's own folder
    package = Path(url2pathname(urlparse(source["url"]).path)) / "helpers"
else:
    package = Path(dist.locate_file("helpers"))
spec = importlib.util.find_spec("helpers")
found = spec.origin if spec is not None and spec.origin else "nothing"
if found == "nothing" or Path(found).resolve() != (package / "__init__.py").resolve():
    raise ImportError(
        f"`import helpers` finds {{found}}, not the {dist} package in {{package}}: a file or folder of your "
        "own named helpers hides it. Rename yours (for example to my_helpers.py), restart the kernel "
        "(on Colab: Runtime > Restart session) and run this cell again."
    )"""


def repository_url(root: Path = ROOT) -> str:
    """The repository URL from ``pyproject.toml``, checked to be a GitHub ``https`` URL."""
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    url = meta["project"]["urls"]["Repository"].rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(
            f"[project.urls] Repository in pyproject.toml must look like https://github.com/OWNER/NAME; got {url!r}."
        )
    return url.removesuffix(".git")


def owner_and_name(url: str) -> str:
    """``"OWNER/NAME"`` of a GitHub URL."""
    return url.removeprefix("https://github.com/")


def pip_requirement(url: str) -> str:
    """What pip installs from the repository: ``t2t-vit-explained @ git+URL``."""
    return f"{DIST_NAME} @ git+{url}"


def colab_url(url: str, path: str) -> str:
    """Colab's page for the notebook at ``path`` (relative to the repository root)."""
    return f"https://colab.research.google.com/github/{owner_and_name(url)}/blob/{BRANCH}/{path}"


def binder_url(url: str, path: str) -> str:
    """mybinder.org for the repository, opening JupyterLab on ``path`` (a notebook or a folder)."""
    return f"https://mybinder.org/v2/gh/{owner_and_name(url)}/{BRANCH}?urlpath=lab/tree/{path}"


def badges_markdown(url: str, path: str | None = None) -> str:
    """The two badges for the notebook at ``path``; without one (the README), for the series:
    Colab opens the first notebook, Binder the notebooks folder."""
    colab_target = colab_url(url, path or "notebooks/01_soft_split.ipynb")
    return (
        f"[![Open In Colab]({COLAB_BADGE_SVG})]({colab_target}) "
        f"[![Launch Binder]({BINDER_BADGE_SVG})]({binder_url(url, path or 'notebooks')})"
    )


def bootstrap_source(url: str) -> str:
    """The bootstrap cell's code."""
    return BOOTSTRAP_TEMPLATE.format(requirement=pip_requirement(url), dist=DIST_NAME)


def notebook_paths(root: Path = ROOT) -> list[Path]:
    return sorted(p for d in NOTEBOOK_DIRS for p in (root / d).glob("*.ipynb"))


def _tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def sync_notebook(nb: nbformat.NotebookNode, url: str, rel_path: str) -> nbformat.NotebookNode:
    """Put the badge cell and then the bootstrap cell at the top, updating them if they exist.

    They go right under the notebook's title (a first markdown cell starting with ``# ``), so the
    title stays the opening cell, as on the website; without a title they go first. Either way
    the bootstrap cell runs before any other code.

    The bootstrap cell keeps its execution count and (empty) outputs, also when its code changes
    (it prints nothing where the package is installed), and both cells keep the metadata other
    tools gave them (such as a slide type) besides their tags, so re-running this script after
    executing the notebooks changes nothing.
    """
    old_badge = next((c for c in nb.cells if _tagged(c, BADGE_TAG)), None)
    boot = next((c for c in nb.cells if _tagged(c, BOOTSTRAP_TAG)), None)
    rest = [c for c in nb.cells if not (_tagged(c, BADGE_TAG) or _tagged(c, BOOTSTRAP_TAG))]

    badge = nbformat.v4.new_markdown_cell(badges_markdown(url, rel_path))
    badge.id = BADGE_TAG
    # Other tools' metadata (a slide type, say) stays; the tags are this script's.
    badge.metadata = {**(old_badge.metadata if old_badge is not None else {}), "tags": [BADGE_TAG, SITE_TAG]}

    code = bootstrap_source(url)
    if boot is None or boot.cell_type != "code":
        boot = nbformat.v4.new_code_cell(code)
    elif boot.source != code:
        # The cell prints nothing where the package is installed, so its (empty) outputs and its
        # execution count stay true for the new code: no re-execution is needed.
        boot.source = code
    boot.id = BOOTSTRAP_TAG
    boot.metadata = {**boot.metadata, "tags": [BOOTSTRAP_TAG, SITE_TAG]}
    at = 1 if rest and rest[0].cell_type == "markdown" and rest[0].source.startswith("# ") else 0
    nb.cells = [*rest[:at], badge, boot, *rest[at:]]
    return nb


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def replace_between(text: str, name: str, body: str, *, comment: str = "<!-- {} -->") -> str:
    """Replace what lies between the marker lines ``sync_links: NAME`` and ``/sync_links: NAME``."""
    begin, end = comment.format(f"sync_links: {name}"), comment.format(f"/sync_links: {name}")
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), flags=re.S)
    if not pattern.search(text):
        raise ValueError(f"marker lines {begin!r} ... {end!r} not found")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text, count=1)


def readme_text(text: str, url: str) -> str:
    text = replace_between(text, "badges", badges_markdown(url))
    install = f'```bash\npip install "{pip_requirement(url)}"\n```'
    return replace_between(text, "install", install)


def book_config_text(text: str, url: str) -> str:
    body = (
        "repository:\n"
        f"  url: {url}\n"
        f"  branch: {BRANCH}\n"
        "launch_buttons:\n"
        "  notebook_interface: jupyterlab\n"
        "  binderhub_url: https://mybinder.org\n"
        "  colab_url: https://colab.research.google.com"
    )
    return replace_between(text, "repository", body, comment="# {}")


def planned_changes(root: Path = ROOT) -> dict[Path, str]:
    """Every file whose text this script would change, with its new text."""
    url = repository_url(root)
    changes = {}
    for path in notebook_paths(root):
        old = path.read_text(encoding="utf-8")
        nb = sync_notebook(nbformat.reads(old, as_version=4), url, path.relative_to(root).as_posix())
        new = nbformat.writes(nb)
        new += "" if new.endswith("\n") else "\n"  # as nbformat.write (helpers.execute) saves it
        if new != old:
            changes[path] = new
    for path, update in ((root / "README.md", readme_text), (root / "book" / "_config.yml", book_config_text)):
        old = path.read_text(encoding="utf-8")
        new = update(old, url)
        if new != old:
            changes[path] = new
    return changes


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print("usage: python scripts/sync_links.py [--check]", file=sys.stderr)
        return 2
    changes = planned_changes()
    for path, text in changes.items():
        rel = path.relative_to(ROOT)
        if check:
            print(f"out of date: {rel}")
        else:
            _write_atomically(path, text)
            print(f"updated {rel}")
    if check and changes:
        print("run: python scripts/sync_links.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
