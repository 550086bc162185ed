"""The environment files agree: conda users and pip users get the same pinned stack."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def read_requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-+]+)", line)
        assert match, f"requirements.txt line {line!r} is not pinned with =="
        pins[match.group(1).lower()] = match.group(2)
    return pins


def test_every_requirement_is_pinned_and_torch_pair_is_the_supported_one():
    pins = read_requirements()
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"
    for needed in (
        "timm",
        "numpy",
        "matplotlib",
        "imageio",
        "pillow",
        "nbval",
        "pytest",
        "jupyterlab",
        "ipykernel",
        "ruff",
    ):
        assert needed in pins, f"{needed} missing from requirements.txt"


def test_environment_yml_installs_requirements_txt_with_python_311():
    text = (ROOT / "environment.yml").read_text()
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    assert "- python=3.11" in lines
    pip_entries = [line for line in lines if line.startswith("- -r ")]
    assert pip_entries == ["- -r requirements.txt"], "environment.yml must install exactly requirements.txt through pip"
    # Any other package listed in the yml would be a second, drifting source of versions.
    deps = lines[lines.index("dependencies:") + 1 :]
    packages = [line[2:] for line in deps if line.startswith("- ") and not line.startswith("- -r")]
    assert sorted(packages) == ["pip", "pip:", "python=3.11"], packages


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in read_requirements().items():
        assert version(name) == pinned, f"{name}: installed {version(name)}, pinned {pinned}"


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    return [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]


def test_ci_runs_exactly_the_readme_test_commands():
    """CI does what the README tells a newcomer: install the browser, then the test command."""
    commands = readme_commands()
    assert "make figures" in commands and "make test" in commands
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    ci_commands = [line for line in ci if line and not line.startswith(("#", "set ", "cd "))]
    assert ci_commands == ["make browser-deps", "make test"], ci_commands
    quick_start = commands[commands.index("make setup") : commands.index("make test") + 1]
    assert quick_start == ["make setup", "make figures", "make browser-deps", "make test"], quick_start


def test_binder_uses_the_python_and_pins_of_the_project():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    assert "- python=3.11" in (ROOT / "environment.yml").read_text()


def test_binder_postbuild_installs_cpu_torch_then_the_pins_then_the_package(tmp_path):
    """Run binder/postBuild with a stand-in ``python`` on PATH that logs each command line."""
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK), "repo2docker runs postBuild as a program"
    log = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], cwd=ROOT, env=env, check=True)
    pins = read_requirements()
    cpu = "https://download.pytorch.org/whl/cpu"
    assert log.read_text().splitlines() == [
        f"-m pip install --no-cache-dir --no-deps --index-url {cpu} "
        f"torch=={pins['torch']} torchvision=={pins['torchvision']}",
        "-m pip install --no-cache-dir -r requirements.txt",
        "-m pip install --no-cache-dir --no-deps .",
    ]


def test_make_test_runs_nbval_strict_on_the_notebooks():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--nbval " in recipe and "--nbval-lax" not in recipe and "notebooks" in recipe
