"""The project is a real package: only ``helpers`` is installed, and it works outside the checkout."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_declares_a_buildable_project_with_lower_bounds():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["build-system"]["build-backend"] == "setuptools.build_meta"
    project = meta["project"]
    assert project["name"] not in ("helpers", "t2t", "t2t-vit"), "use a distinctive distribution name"
    # Lower bounds only: exact pins belong to requirements.txt.
    for dep in project["dependencies"]:
        assert ">=" in dep and "==" not in dep, dep
    assert meta["tool"]["setuptools"]["packages"]["find"]["include"] == ["helpers", "helpers.*"]
    assert list(project["urls"]) == ["Repository"]


def test_pip_install_dot_into_a_target_holds_helpers_alone_and_builds_a_model_outside_the_repo(tmp_path):
    """``pip install .`` into a bare target folder, then use the package from another directory.

    pip builds in the source tree (it writes ``build/`` and ``*.egg-info`` there), so it runs on a
    copy of the checkout: the test never leaves build outputs in the work tree.
    """
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "_build", "*.egg-info", "__pycache__", "notebooks"),
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", target, "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    installed = {p.name for p in target.iterdir() if not p.name.endswith(".dist-info")}
    assert installed == {"helpers"}, installed
    (dist_info,) = target.glob("t2t_vit_explained-*.dist-info")
    assert (dist_info / "top_level.txt").read_text().split() == ["helpers"]
    code = (
        "import helpers, timm, torch;"
        f"assert helpers.__file__.startswith({str(target)!r}), helpers.__file__;"
        "m = timm.create_model('t2t_vit_7', num_classes=3).eval();"
        "print(tuple(m(torch.zeros(1, 3, 224, 224)).shape))"
    )
    # The target folder goes first on sys.path, so `helpers` must come from the installed copy (the
    # assert checks), while torch and timm come from this interpreter's site-packages.
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(target)!r}); " + code],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "(1, 3)"


def test_build_outputs_are_ignored_and_none_is_committed():
    """``pip install`` and ``make book`` write build/, *.egg-info and _build/: never commit them."""
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"build/", "*.egg-info/", "_build/"} <= set(ignored)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    strays = [f for f in tracked.splitlines() if f.split("/", 1)[0] in ("build", "_build") or ".egg-info/" in f]
    assert not strays, strays


def test_no_import_cycle_between_zoo_and_checkpoint():
    """checkpoint.py and zoo.py read the variant tables from variants.py, not from each other."""
    model = ROOT / "helpers" / "timm"

    def imported(name: str) -> set[str]:
        tree = ast.parse((model / f"{name}.py").read_text())
        return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}

    assert "zoo" not in imported("checkpoint")
    assert "variants" in imported("checkpoint") and "variants" in imported("zoo")
    assert not {"zoo", "checkpoint"} & {m.lstrip(".") for m in imported("variants")}


def test_the_teaching_layer_depends_only_on_the_checks():
    """helpers/model imports torch, numpy, timm's layers and helpers.checks; nothing from timm's side,
    the fast layers, the figures or training (those are built around the model, not into it)."""
    for path in sorted((ROOT / "helpers" / "model").glob("*.py")):
        tree = ast.parse(path.read_text())
        modules = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        outside = {m for m in modules if not m.startswith(("torch", "numpy", "timm.layers", "collections", "math"))}
        assert outside <= {
            ".",
            "",
            "attention",
            "backbone",
            "neuralnet",
            "performer",
            "t2t_vit",
            "token_transformer",
            "tokens",
            "tokens2token",
        }, (path.name, outside)
        relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 2]
        assert all(n.module is None and [a.name for a in n.names] == ["checks"] for n in relative), path.name


def test_pip_installs_the_git_url_form_the_readme_documents(tmp_path):
    """``pip install "t2t-vit-explained @ git+URL"``, here with this repository's own git URL."""
    readme = (ROOT / "README.md").read_text()
    assert 'pip install "t2t-vit-explained @ git+https://github.com/' in readme
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            target,
            f"t2t-vit-explained @ git+{ROOT.as_uri()}",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    installed = {p.name for p in target.iterdir() if not p.name.endswith(".dist-info")}
    assert installed == {"helpers"}, installed
    assert (target / "helpers" / "model" / "t2t_vit.py").is_file()


def check_venv(env: Path) -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_venv.py"), str(env)], capture_output=True, text=True, check=True
    )
    return out.stdout


def venv_version(env: Path) -> str:
    cmd = [str(env / "bin" / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def test_setup_recreates_a_venv_made_by_another_python_and_reuses_its_own(tmp_path):
    env = tmp_path / ".venv"
    (env / "bin").mkdir(parents=True)
    other = env / "bin" / "python"  # stands in for an interpreter of another version
    other.write_text("#!/bin/sh\necho 3.9\n")
    other.chmod(0o755)
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"

    said = check_venv(env)
    assert f"was made by Python 3.9, but setup uses Python {wanted}" in said and "recreating" in said
    assert venv_version(env) == wanted
    assert (env / "bin" / "pip").exists()

    (env / "keep-me").write_text("")
    assert f"uses Python {wanted}: reusing it" in check_venv(env)
    assert (env / "keep-me").exists()


def test_setup_recreates_a_half_made_venv(tmp_path):
    env = tmp_path / ".venv"
    env.mkdir()  # an interrupted setup: the folder, but no interpreter
    assert "does not run" in check_venv(env)
    assert venv_version(env) == f"{sys.version_info[0]}.{sys.version_info[1]}"


# ---- the sdist and the package description (issue 22) ------------------------------------------------


def build_sdist(tmp_path: Path) -> Path:
    """``python -m build --sdist``'s work, on a copy of the checkout (setuptools writes egg-info there)."""
    source = tmp_path / "source"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "_build", "*.egg-info", "__pycache__")
    )
    code = "from setuptools import build_meta; print(build_meta.build_sdist('dist'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=source, check=True, capture_output=True, text=True)
    return source / "dist" / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> Path:
    return build_sdist(tmp_path_factory.mktemp("sdist"))


def test_the_sdist_leaves_the_tests_out_and_installs_on_its_own(sdist, tmp_path):
    """The tests need the whole checkout (notebooks, scripts, conftest.py): the sdist ships none of them."""
    import tarfile

    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    top = {name.split("/", 1)[0] for name in names}
    assert top <= {"helpers", "LICENSE", "MANIFEST.in", "PKG-INFO", "README.md", "pyproject.toml", "setup.cfg",
                   "setup.py", "t2t_vit_explained.egg-info"}, top  # fmt: skip
    assert "helpers/model/t2t_vit.py" in names and not any(n.startswith("tests/") or n == "conftest.py" for n in names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", target, sdist],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert (target / "helpers" / "model" / "t2t_vit.py").is_file()
    (dist_info,) = target.glob("t2t_vit_explained-*.dist-info")
    assert "](https://github.com/" in (dist_info / "METADATA").read_text()


def test_the_package_description_has_only_absolute_links_derived_from_the_repository_url(sdist):
    import email
    import tarfile

    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    with tarfile.open(sdist) as archive:
        (info,) = [m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
        description = email.message_from_bytes(archive.extractfile(info).read()).get_payload()
    targets = re.findall(r"\]\(([^)\s]+)\)", description)
    relative = [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", t)]
    assert not relative, relative
    readme_relative = [t for t in re.findall(r"\]\(([^)\s]+)\)", (ROOT / "README.md").read_text()) if ":" not in t]
    assert len(readme_relative) >= 10  # the README does link to its notebooks, docs and folders
    for target in readme_relative:
        kind = "tree" if target.endswith("/") else "blob"
        assert f"]({url}/{kind}/main/{target})" in description, target


def test_description_links_follow_a_fork(monkeypatch):
    """setup.py resolves against whatever URL pyproject.toml names: a fork changes that one line."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("project_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setattr("setuptools.setup", lambda **kwargs: None)
    spec.loader.exec_module(module)
    fork = "https://github.com/someone/fork"
    text = "[a](docs/x.md) [b](figures/) ![c](figures/y.png) [d](https://e.org/f) [g](#h) [i](./LICENSE)"
    assert module.absolute_links(text, fork) == (
        f"[a]({fork}/blob/main/docs/x.md) [b]({fork}/tree/main/figures/) ![c]({fork}/raw/main/figures/y.png) "
        f"[d](https://e.org/f) [g](#h) [i]({fork}/blob/main/LICENSE)"
    )
