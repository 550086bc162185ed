"""Badges, bootstrap cells and install commands all follow the one URL in pyproject.toml."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
FORK = "https://github.com/a-teacher/t2t-course"


def load_sync_links():
    spec = importlib.util.spec_from_file_location("sync_links", ROOT / "scripts" / "sync_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync_links = load_sync_links()


def repo_url() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def test_everything_is_in_sync_with_pyproject():
    stale = sorted(str(p.relative_to(ROOT)) for p in sync_links.planned_changes(ROOT))
    assert not stale, f"out of date (run python scripts/sync_links.py): {stale}"


def test_every_notebook_opens_with_its_title_badges_and_bootstrap_cell():
    url = repo_url()
    owner_name = url.removeprefix("https://github.com/")
    paths = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    assert len(paths) >= 5
    for path in paths:
        rel = path.relative_to(ROOT).as_posix()
        nb = nbformat.read(path, as_version=4)
        # The title first (it opens the page), then the badges and the bootstrap, before any code.
        title, badge, boot = nb.cells[0], nb.cells[1], nb.cells[2]
        assert title.cell_type == "markdown" and title.source.startswith("# "), rel
        assert badge.cell_type == "markdown" and "colab-badge" in badge.metadata["tags"], rel
        # Written out by hand here, not by the script's helpers: the links Colab and Binder document.
        assert f"(https://colab.research.google.com/github/{owner_name}/blob/main/{rel})" in badge.source, rel
        assert f"(https://mybinder.org/v2/gh/{owner_name}/main?urlpath=lab/tree/{rel})" in badge.source, rel
        assert "Open In Colab" in badge.source
        assert boot.cell_type == "code" and "bootstrap" in boot.metadata["tags"], rel
        assert boot.outputs == [], f"{rel}: the bootstrap cell must print nothing where helpers is installed"
        # Neither belongs on the website: it has launch buttons and must not fetch remote badges.
        assert "remove-cell" in badge.metadata["tags"] and "remove-cell" in boot.metadata["tags"]
        others = [c for c in nb.cells[3:] if {"colab-badge", "bootstrap"} & set(c.metadata.get("tags", []))]
        assert not others, f"{rel}: a second badge or bootstrap cell"


def test_readme_has_both_badges_and_the_git_install_command():
    readme = (ROOT / "README.md").read_text()
    url = repo_url()
    assert "https://colab.research.google.com/assets/colab-badge.svg" in readme
    assert "https://mybinder.org/badge_logo.svg" in readme
    assert f'pip install "t2t-vit-explained @ git+{url}"' in readme


def test_the_url_is_written_nowhere_but_pyproject_by_hand():
    """The script derives the URL; it must not carry a copy of it."""
    owner_name = repo_url().removeprefix("https://github.com/")
    assert owner_name not in (ROOT / "scripts" / "sync_links.py").read_text()


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "fork"
    for rel in ("pyproject.toml", "README.md", "book/_config.yml", "notebooks/01_soft_split.ipynb"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, root / rel)
    return root


def test_a_fork_changes_one_line_and_reruns_the_script(tmp_path):
    root = copy_project(tmp_path)
    old = repo_url()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'Repository = "{old}"', f'Repository = "{FORK}"'))
    assert FORK in pyproject.read_text()

    changes = sync_links.planned_changes(root)
    assert set(changes) == {root / "README.md", root / "book/_config.yml", root / "notebooks/01_soft_split.ipynb"}
    for path, text in changes.items():
        path.write_text(text)
    old_owner_name, new_owner_name = (u.removeprefix("https://github.com/") for u in (old, FORK))
    for path in changes:
        text = path.read_text()
        assert old_owner_name not in text, path
        assert new_owner_name in text, path
    config = (root / "book/_config.yml").read_text()
    assert f"  url: {FORK}\n" in config
    nb = nbformat.read(root / "notebooks/01_soft_split.ipynb", as_version=4)
    assert f'"t2t-vit-explained @ git+{FORK}"' in nb.cells[2].source
    # Idempotent: a second run has nothing left to do.
    assert sync_links.planned_changes(root) == {}


def test_a_url_that_is_not_a_github_repository_is_refused(tmp_path):
    root = copy_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(repo_url(), "git@github.com:someone/repo.git"))
    with pytest.raises(ValueError, match="Repository"):
        sync_links.planned_changes(root)


def test_syncing_again_keeps_the_bootstrap_cells_execution_count():
    """After helpers.execute numbered the cells, a re-run of the script must change nothing."""
    nb = nbformat.read(ROOT / "notebooks" / "01_soft_split.ipynb", as_version=4)
    nb = sync_links.sync_notebook(nb, FORK, "notebooks/01_soft_split.ipynb")
    nb.cells[2].execution_count = 1
    again = sync_links.sync_notebook(nbformat.from_dict(nb), FORK, "notebooks/01_soft_split.ipynb")
    assert again.cells[2].execution_count == 1
    assert nbformat.writes(again) == nbformat.writes(nb)


class Recorder:
    """Stands in for subprocess.run: records the command and the constraints file it names."""

    def __init__(self):
        self.commands = []
        self.constraints = []
        self.files = []

    def __call__(self, cmd, **kwargs):
        self.commands.append((list(cmd), kwargs))
        if "-c" in cmd:
            constraints = Path(cmd[cmd.index("-c") + 1])
            self.constraints.append(constraints.read_text())
            self.files.append(constraints)
        return subprocess.CompletedProcess(cmd, 0)


def run_bootstrap(monkeypatch, *, dist_installed: bool, installed: dict[str, str]) -> tuple[Recorder, str]:
    """Execute the bootstrap cell's code as a kernel would, with pip replaced by a recorder.

    ``dist_installed=False``: this project's distribution is missing until the (recorded) pip
    install runs, whatever ``helpers`` is importable meanwhile.
    """
    recorder = Recorder()
    monkeypatch.setattr(subprocess, "run", recorder)
    real_distribution = importlib.metadata.distribution

    def distribution(name):
        if name == sync_links.DIST_NAME and not dist_installed and not recorder.commands:
            raise importlib.metadata.PackageNotFoundError(name)
        return real_distribution(name)

    def version(name):
        if name not in installed:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    monkeypatch.setattr(importlib.metadata, "version", version)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(sync_links.bootstrap_source(FORK), "<bootstrap>", "exec"), {})
    return recorder, stdout.getvalue()


def test_badges_go_first_in_a_notebook_without_a_title():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb = sync_links.sync_notebook(nb, FORK, "notebooks/x.ipynb")
    assert [c.id for c in nb.cells[:2]] == ["colab-badge", "bootstrap"] and nb.cells[2].source == "x = 1"


def test_bootstrap_does_nothing_and_prints_nothing_when_the_package_is_installed(monkeypatch):
    recorder, printed = run_bootstrap(monkeypatch, dist_installed=True, installed={"torch": "2.14.1"})
    assert recorder.commands == []
    assert printed == ""


def test_bootstrap_on_colab_installs_from_the_repository_keeping_colabs_torch(monkeypatch):
    colab = {"torch": "2.5.1+cu121", "torchvision": "0.20.1+cu121"}
    recorder, printed = run_bootstrap(monkeypatch, dist_installed=False, installed=colab)
    ((cmd, kwargs),) = recorder.commands
    constraints_file = cmd[6]
    assert cmd == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        constraints_file,
        f"t2t-vit-explained @ git+{FORK}",
    ]
    assert kwargs == {"check": True}
    # pip may only keep the installed torch pair: both are pinned, exactly as installed.
    assert recorder.constraints == ["torch==2.5.1+cu121\ntorchvision==0.20.1+cu121\n"]
    assert not any(f.exists() for f in recorder.files), "the bootstrap must delete its constraints file"
    assert FORK in printed


def test_bootstrap_without_torch_lets_pip_install_it(monkeypatch):
    recorder, _ = run_bootstrap(monkeypatch, dist_installed=False, installed={})
    ((cmd, _),) = recorder.commands
    assert cmd[-1] == f"t2t-vit-explained @ git+{FORK}"
    assert not re.search(r"torch", recorder.constraints[0])


def test_bootstrap_knows_the_package_by_its_metadata_not_by_an_importable_helpers(monkeypatch):
    """An importable ``helpers`` (PyPI's unrelated one, or a learner's) does not count as installed."""
    assert importlib.util.find_spec("helpers") is not None
    recorder, printed = run_bootstrap(monkeypatch, dist_installed=False, installed={})
    assert len(recorder.commands) == 1 and "t2t-vit-explained is not installed" in printed


@pytest.mark.parametrize("kind", ["helpers.py", "helpers/__init__.py"])
def test_bootstrap_stops_and_says_what_to_rename_when_a_local_helpers_hides_the_package(monkeypatch, tmp_path, kind):
    (tmp_path / kind).parent.mkdir(exist_ok=True)
    (tmp_path / kind).write_text("print('my own helpers')\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # the notebook's folder comes first on sys.path, as in a kernel
    monkeypatch.delitem(sys.modules, "helpers", raising=False)
    importlib.invalidate_caches()
    with pytest.raises(ImportError, match=r"finds .*helpers.*Rename yours \(for example to my_helpers\.py\)"):
        run_bootstrap(monkeypatch, dist_installed=True, installed={})


def test_a_new_bootstrap_keeps_the_cells_count_outputs_and_other_metadata():
    """New bootstrap code replaces the old in place: the count, the empty outputs and a slide type stay."""
    nb = nbformat.read(ROOT / "notebooks" / "01_soft_split.ipynb", as_version=4)
    boot = next(c for c in nb.cells if "bootstrap" in c.metadata.get("tags", []))
    badge = next(c for c in nb.cells if "colab-badge" in c.metadata.get("tags", []))
    boot.source, boot.execution_count = "import helpers  # an old bootstrap", 7
    boot.metadata["slideshow"] = badge.metadata["slideshow"] = {"slide_type": "skip"}
    synced = sync_links.sync_notebook(nb, FORK, "notebooks/01_soft_split.ipynb")
    boot = next(c for c in synced.cells if "bootstrap" in c.metadata.get("tags", []))
    badge = next(c for c in synced.cells if "colab-badge" in c.metadata.get("tags", []))
    assert boot.source == sync_links.bootstrap_source(FORK) and boot.execution_count == 7 and boot.outputs == []
    assert boot.metadata["slideshow"] == badge.metadata["slideshow"] == {"slide_type": "skip"}
    assert boot.metadata["tags"] == ["bootstrap", "remove-cell"] and badge.metadata["tags"] == [
        "colab-badge",
        "remove-cell",
    ]
