"""The project is a real package: only ``helpers`` is installed, and it works outside the checkout."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

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


def test_wheel_holds_helpers_alone_and_imports_from_outside_the_repo(tmp_path):
    """Build a wheel, install it into a bare target folder, and use it from another directory."""
    # setuptools writes build/ and *.egg-info/ beside pyproject.toml: build from a copy, not the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", tmp_path, source],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist() if not name.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"helpers"}, tops
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
        capture_output=True,
    )
    code = (
        "import helpers, timm, torch;"
        f"assert helpers.__file__.startswith({str(target)!r}), helpers.__file__;"
        "m = timm.create_model('t2t_vit_7', num_classes=3).eval();"
        "print(tuple(m(torch.zeros(1, 3, 224, 224)).shape))"
    )
    # The target folder goes first on sys.path, so `helpers` must come from the installed wheel (the
    # assert checks), while torch and timm come from this interpreter's site-packages.
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(target)!r}); " + code],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "(1, 3)"


def test_no_import_cycle_between_zoo_and_checkpoint():
    """checkpoint.py and zoo.py read the variant tables from variants.py, not from each other."""
    model = ROOT / "helpers" / "model"

    def imported(name: str) -> set[str]:
        tree = ast.parse((model / f"{name}.py").read_text())
        return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}

    assert "zoo" not in imported("checkpoint")
    assert "variants" in imported("checkpoint") and "variants" in imported("zoo")
    assert not {"zoo", "checkpoint"} & {m.lstrip(".") for m in imported("variants")}
