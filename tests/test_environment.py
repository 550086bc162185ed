"""The environment files agree: conda users and pip users get the same pinned stack."""

from __future__ import annotations

import os
import re
import shutil
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


def quick_start_commands() -> list[str]:
    """The commands of the first bash block under the README's "Quick start" heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_only_the_test_command():
    """A newcomer types `make figures` and `make test`; CI runs the second on a clean checkout
    with nothing before it, which proves the test command does its own set-up."""
    assert quick_start_commands() == ["make figures", "make test"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    ci_commands = [line for line in ci if line and not line.startswith(("#", "set ", "cd "))]
    assert ci_commands == [quick_start_commands()[1]], ci_commands


def run_browser_deps(tmp_path, uid: int, apt: bool, env=(), make_args=()):
    """`make browser-deps` with a PATH that holds only a stand-in `id` (printing uid) and, if
    apt, a stand-in `apt-get` that logs its arguments. Returns (stdout lines, apt-get calls)."""
    make = shutil.which("make")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt-get.txt"
    programs = {"id": f"echo {uid}"}
    if apt:
        programs["apt-get"] = f'echo "$*" >> {log}'
    for name, body in programs.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    result = subprocess.run(
        [make, "--no-print-directory", "-C", str(ROOT), "browser-deps", *make_args],
        env={"PATH": str(bin_dir), **dict(env)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines(), log.read_text().splitlines() if log.exists() else []


def test_browser_deps_uses_t2t_chromium_when_it_is_a_program(tmp_path):
    chrome = tmp_path / "Google Chrome" / "chrome"  # a space in the path, as on macOS
    chrome.parent.mkdir()
    chrome.write_text("#!/bin/sh\n")
    chrome.chmod(0o755)
    out, apt = run_browser_deps(tmp_path, uid=0, apt=True, env={"T2T_CHROMIUM": str(chrome)})
    assert out == [f"[browser-deps] {chrome} is installed"] and apt == []


def test_browser_deps_says_when_t2t_chromium_points_at_nothing(tmp_path):
    out, apt = run_browser_deps(tmp_path, uid=0, apt=True, env={"T2T_CHROMIUM": "/nonexistent/chrome"})
    assert len(out) == 1 and "T2T_CHROMIUM=/nonexistent/chrome is not a program" in out[0], out
    assert apt == [], "apt-get would install a browser the tests do not use"


def test_browser_deps_installs_chromium_with_apt_get_as_root(tmp_path):
    out, apt = run_browser_deps(tmp_path, uid=0, apt=True, make_args=["CHROMIUM=/nonexistent"])
    assert out == ["[browser-deps] installing Debian's chromium with apt-get"]
    assert apt == ["update -qq", "install -y -qq chromium"]


def test_browser_deps_without_root_prints_one_line_saying_what_to_run(tmp_path):
    out, apt = run_browser_deps(tmp_path, uid=1000, apt=True, make_args=["CHROMIUM=/nonexistent"])
    assert len(out) == 1 and "`sudo make browser-deps`" in out[0] and "T2T_CHROMIUM=" in out[0], out
    assert apt == []


def test_browser_deps_without_apt_get_says_to_install_a_browser_and_set_t2t_chromium(tmp_path):
    out, apt = run_browser_deps(tmp_path, uid=0, apt=False, make_args=["CHROMIUM=/nonexistent"])
    assert out == [
        "[browser-deps] /nonexistent is missing and there is no apt-get: "
        "install Chromium or Chrome and set T2T_CHROMIUM=/path/to/chrome"
    ]


def test_make_test_gets_the_browser_first_and_hands_it_to_pytest():
    env = {**os.environ, "T2T_CHROMIUM": "/opt/my chrome"}
    env.pop("MAKEFLAGS", None)
    lines = subprocess.run(
        ["make", "--no-print-directory", "-n", "test"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    pytest_line = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert any("[browser-deps]" in line for line in lines[:pytest_line]), lines
    assert lines[pytest_line].startswith('T2T_CHROMIUM="/opt/my chrome" '), lines[pytest_line]


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
