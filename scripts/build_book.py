"""Build the course website from the committed, executed notebooks: ``make book``.

Usage: ``python scripts/build_book.py [--student] [OUTPUT_DIR]``; the site lands in
``OUTPUT_DIR/_build/html`` (default: the repository root, so ``_build/html``; with ``--student``,
``_build/student/_build/html``). Nothing is executed (``execute_notebooks: off`` in
``book/_config.yml``) and nothing is downloaded: MathJax comes from ``sphinx-mathjax-offline``.
Any Sphinx warning, such as a broken local link, fails the build.

``--student`` (``make book-student``) builds the student edition: the same site without the
worked solutions. Its table of contents and configuration are written into
``OUTPUT_DIR/student-book/`` from ``book/_toc.yml`` and ``book/_config.yml`` (every entry under
``solutions/`` left out, and ``solutions/`` excluded from the sources), so there is no second
copy to keep. tests/test_browser_classroom.py checks that no page of it links to or shows a
solution.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SOLUTIONS = "solutions"  # the folder of the worked solutions, left out of the student edition


def build_command(output_dir: Path, config: Path = BOOK / "_config.yml", toc: Path = BOOK / "_toc.yml") -> list[str]:
    """The jupyter-book command line (the executable next to this Python, as in a venv)."""
    return [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--config",
        str(config),
        "--toc",
        str(toc),
        "--path-output",
        str(output_dir),
        "--all",  # rebuild every page: no stale page survives a changed notebook
        "-W",
        "-n",
        "--keep-going",
        "-q",
    ]


def _is_solution(entry: object) -> bool:
    path = str(entry.get("file") or entry.get("glob") or "") if isinstance(entry, dict) else ""
    return path.split("/")[0] == SOLUTIONS


def student_toc(toc: dict) -> dict:
    """The table of contents without any entry under ``solutions/`` (and without parts left empty)."""

    def prune(entries: list) -> list:
        kept = []
        for entry in entries:
            if _is_solution(entry):
                continue
            entry = dict(entry)
            for key in ("chapters", "sections", "parts"):
                if key in entry:
                    entry[key] = prune(entry[key])
                    if not entry[key]:
                        break
            else:
                kept.append(entry)
        return kept

    toc = dict(toc)
    if _is_solution({"file": toc.get("root", "")}):
        raise ValueError("the book's root page is a solution")
    for key in ("parts", "chapters", "sections"):
        if key in toc:
            toc[key] = prune(toc[key])
    return toc


def student_config(config: dict) -> dict:
    """The configuration for a copy in another folder: local extensions by absolute path, solutions excluded."""
    config = dict(config)
    config["exclude_patterns"] = [*config.get("exclude_patterns", []), SOLUTIONS, f"{SOLUTIONS}/**"]
    sphinx = dict(config.get("sphinx", {}))
    if "local_extensions" in sphinx:  # paths relative to book/_config.yml
        sphinx["local_extensions"] = {
            name: str((BOOK / path).resolve()) for name, path in sphinx["local_extensions"].items()
        }
    config["sphinx"] = sphinx
    return config


def write_student_book(folder: Path) -> tuple[Path, Path]:
    """Write the student edition's ``_config.yml`` and ``_toc.yml`` into ``folder``; return their paths."""
    from helpers.atomic import write_bytes_atomically

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in (("_config.yml", student_config), ("_toc.yml", student_toc)):
        source = yaml.safe_load((BOOK / name).read_text(encoding="utf-8"))
        text = f"# Written by scripts/build_book.py --student from book/{name}; do not edit.\n"
        text += yaml.safe_dump(make(source), sort_keys=False, allow_unicode=True)
        write_bytes_atomically(folder / name, text.encode("utf-8"))
        paths.append(folder / name)
    return paths[0], paths[1]


def build(output_dir: Path = ROOT, student: bool = False) -> Path:
    """Build the site (the student edition with ``student``) and return the folder holding its ``index.html``."""
    output_dir = Path(output_dir)
    if student:
        config, toc = write_student_book(output_dir / "student-book")
        subprocess.run(build_command(output_dir, config, toc), check=True)
    else:
        subprocess.run(build_command(output_dir), check=True)
    return output_dir / "_build" / "html"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the course website (make book, make book-student).")
    parser.add_argument("output_dir", nargs="?", help="default: the repository root (--student: _build/student)")
    parser.add_argument("--student", action="store_true", help="the student edition, without the worked solutions")
    args = parser.parse_args(argv)
    default = ROOT / "_build" / "student" if args.student else ROOT
    site = build(Path(args.output_dir) if args.output_dir else default, student=args.student)
    edition = "the student edition of the website (no solutions)" if args.student else "the website"
    print(f"[book] {edition} is in {site} (open {site / 'index.html'})")


if __name__ == "__main__":
    main()
