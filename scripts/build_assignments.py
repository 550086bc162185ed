"""Build the student release of the course with nbgrader: ``make assignments``.

Usage: ``python scripts/build_assignments.py [COURSE_DIR]`` (default ``classroom/``). The script
writes an nbgrader course directory:

- ``source/NN_name/NN_name.ipynb``: the teacher's version of each notebook. It is made here from
  two committed files and kept by no one: the lesson (``notebooks/NN_name.ipynb``) up to its
  "Exercises" heading, then the graded exercises, then the rest of the lesson. Each graded
  exercise is one code cell of the worked solution (``solutions/NN_name_solutions.ipynb``) that
  calls a checker from :mod:`helpers.exercises`: its code becomes the answer, between nbgrader's
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and each checker call gives one graded answer,
  a variable ``answer_<name>`` that a hidden test hands to the same checker.
- ``release/NN_name/NN_name.ipynb``: what students get, made by ``nbgrader generate_assignment``:
  answers replaced by a stub, hidden tests removed, outputs cleared.
- ``gradebook.db`` and ``nbgrader_config.py``: what ``nbgrader autograde`` needs to grade the
  submissions a teacher collects into ``submitted/STUDENT/NN_name/``.

The hidden tests hold no answer: each one calls the checker, which computes its own truth, so the
truths live in :mod:`helpers.exercises` alone and the answers in ``solutions/`` alone.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # helpers, when the script runs from a checkout without pip install -e

from helpers.atomic import write_bytes_atomically  # noqa: E402

COURSE_ID = "t2t-vit-explained"
EXERCISES_PACKAGE = "helpers.exercises"
POINTS_PER_ANSWER = 1
SCHEMA_VERSION = 3  # nbgrader's cell metadata schema


@dataclass
class Answer:
    """One graded answer: the value a student hands to one checker."""

    checker: str  # e.g. "check_first_kernel"
    module: str  # e.g. "helpers.exercises.soft_split"
    alias: str  # the name the notebook imports the module as, e.g. "ex"
    required: list[str]  # the checker's parameters without a default: the answer itself
    expression: str  # the answer in the worked solution, e.g. "dict(stride=4, ...)"

    @property
    def variable(self) -> str:
        return "answer_" + self.checker.removeprefix("check_")

    @property
    def template(self) -> str:
        """What the student writes, with ``...`` for the values."""
        if len(self.required) == 1:
            return f"{self.variable} = ..."
        return f"{self.variable} = dict({', '.join(f'{p}=...' for p in self.required)})"

    @property
    def check_call(self) -> str:
        star = "" if len(self.required) == 1 else "**"
        return f"{self.alias}.{self.checker}({star}{self.variable})"


@dataclass
class GradedCell:
    """A code cell of the worked solution that calls at least one checker."""

    title: str  # the heading of the exercise in the worked solution
    code: str  # the worked solution, each checker call turned into its answer variable
    answers: list[Answer] = field(default_factory=list)


@dataclass
class Chapter:
    name: str  # e.g. "01_soft_split": the assignment and its notebook
    lesson: Path
    solution: Path


def chapters(root: Path = ROOT) -> list[Chapter]:
    """The lessons that have a worked solution, in order."""
    found = []
    for lesson in sorted((root / "notebooks").glob("*.ipynb")):
        solution = root / "solutions" / f"{lesson.stem}_solutions.ipynb"
        if solution.exists():
            found.append(Chapter(lesson.stem, lesson, solution))
    if not found:
        raise SystemExit(f"no notebook in {root / 'notebooks'} has a worked solution in {root / 'solutions'}")
    return found


def python_source(cell_source: str) -> str:
    """The cell as plain Python (IPython's ``%magic`` lines turned into calls), for ``ast``."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def exercise_aliases(tree: ast.AST) -> dict[str, str]:
    """``{alias: module}`` for every ``helpers.exercises`` module the code imports."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == EXERCISES_PACKAGE:
            for name in node.names:
                aliases[name.asname or name.name] = f"{EXERCISES_PACKAGE}.{name.name}"
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith(EXERCISES_PACKAGE + ".") and name.asname:
                    aliases[name.asname] = name.name
    return aliases


def checker_calls(node: ast.AST, aliases: dict[str, str]) -> list[ast.Call]:
    """Calls such as ``ex.check_first_kernel(...)`` inside ``node``, in source order."""
    calls = [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id in aliases
        and n.func.attr.startswith("check_")
    ]
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def required_parameters(module: str, checker: str) -> list[str]:
    """The checker's parameters without a default: the answer. Those with one are the exercise's settings."""
    function = getattr(importlib.import_module(module), checker, None)
    if not callable(function):
        raise SystemExit(f"{module} has no checker {checker}")
    return [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def answer_of(call: ast.Call, source: str, aliases: dict[str, str], where: str) -> Answer:
    """The answer a worked solution hands to a checker, as source code."""
    alias, checker = call.func.value.id, call.func.attr
    module = aliases[alias]
    required = required_parameters(module, checker)
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise SystemExit(f"{where}: {checker} is called with *args or **kwargs; write the answer out")
    given = dict(zip(required, call.args))  # positional arguments fill the answer's parameters first
    given.update({k.arg: k.value for k in call.keywords if k.arg in required})
    missing = [p for p in required if p not in given]
    if missing:
        raise SystemExit(f"{where}: the call of {checker} gives no {', '.join(missing)}")
    parts = {p: ast.get_source_segment(source, given[p]) for p in required}
    if len(required) == 1:
        expression = parts[required[0]]
    else:
        expression = "dict(" + ", ".join(f"{p}={v}" for p, v in parts.items()) + ")"
    return Answer(checker, module, alias, required, expression)


def graded_cell(source: str, aliases: dict[str, str], title: str, where: str) -> GradedCell | None:
    """The worked solution of one cell with its checker calls turned into answer variables, or None."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cell = GradedCell(title, "")
    out: list[str] = []
    done = 0  # lines of ``lines`` copied so far
    for statement in tree.body:
        calls = checker_calls(statement, aliases)
        if not calls:
            continue
        answers = [answer_of(c, source, aliases, where) for c in calls]
        first, last = statement.lineno - 1, statement.end_lineno
        out += lines[done:first]
        bindings = []
        for answer in answers:
            if answer.checker not in {a.checker for a in cell.answers}:
                cell.answers.append(answer)
            bindings.append(f"{answer.variable} = {answer.expression}")
        only_checks = (
            len(calls) == 1
            and isinstance(statement, ast.Expr)
            and (
                statement.value is calls[0]
                or (
                    isinstance(statement.value, ast.Call)
                    and isinstance(statement.value.func, ast.Name)
                    and statement.value.func.id == "print"
                    and len(statement.value.args) == 1
                    and statement.value.args[0] is calls[0]
                )
            )
        )
        # A bare ``print(ex.check_x(...))`` becomes the answer; anything else stays, followed by it.
        out += bindings if only_checks else [*lines[first:last], *bindings]
        done = last
    if not cell.answers:
        return None
    out += lines[done:]
    cell.code = "\n".join(out).strip("\n")
    return cell


def _markdown_title(source: str) -> str | None:
    for line in source.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return None


def solution_parts(path: Path) -> tuple[list[str], list[GradedCell]]:
    """The set-up code of a worked solution (cells that import a checker module) and its graded cells."""
    notebook = nbformat.read(path, as_version=4)
    setup, graded, aliases, title = [], [], {}, path.stem
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            title = _markdown_title(cell.source) or title
            continue
        if cell.cell_type != "code" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        tree = ast.parse(python_source(cell.source))
        found = exercise_aliases(tree)
        if found:
            aliases.update(found)
            if checker_calls(tree, aliases):  # it would show its answers in the release's set-up cell
                raise SystemExit(f"{path.name}, cell {index}: import the checkers in a cell of their own")
            setup.append(cell.source)
            continue
        cell_graded = graded_cell(cell.source, aliases, title, f"{path.name}, cell {index}") if aliases else None
        if cell_graded:
            graded.append(cell_graded)
    if not graded:
        raise SystemExit(f"{path}: no cell calls a checker from {EXERCISES_PACKAGE}")
    seen: dict[str, str] = {}
    for cell_graded in graded:
        for answer in cell_graded.answers:
            if answer.checker in seen:
                raise SystemExit(f"{path}: {answer.checker} is graded in two cells ({seen[answer.checker]!r} too)")
            seen[answer.checker] = cell_graded.title
    return setup, graded


def nbgrader_metadata(cell, grade_id: str, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION}
    meta["solution"] = solution
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def answer_cell(graded: GradedCell) -> nbformat.NotebookNode:
    hints = [f"# {a.template}" for a in graded.answers]
    source = "\n".join(
        [
            "# Work out your answer here and store it as",
            *hints,
            "### BEGIN SOLUTION",
            graded.code,
            "### END SOLUTION",
            *[f"print({a.check_call})" for a in graded.answers],
        ]
    )
    return nbgrader_metadata(new_code_cell(source), graded.answers[0].variable, solution=True)


def test_cell(answer: Answer) -> nbformat.NotebookNode:
    source = "\n".join(
        [
            f"# Graded after you hand in: {answer.variable} goes to {answer.checker} ({POINTS_PER_ANSWER} point).",
            "### BEGIN HIDDEN TESTS",
            f"from {answer.module} import {answer.checker} as _checker",
            f"_verdict = _checker({'' if len(answer.required) == 1 else '**'}{answer.variable})",
            "assert _verdict.correct, str(_verdict)",
            "### END HIDDEN TESTS",
        ]
    )
    return nbgrader_metadata(
        new_code_cell(source), f"test_{answer.variable}", grade=True, locked=True, points=POINTS_PER_ANSWER
    )


def heading_cell(graded: GradedCell, index: int) -> nbformat.NotebookNode:
    names = " and ".join(f"`{a.variable}`" for a in graded.answers)
    points = len(graded.answers) * POINTS_PER_ANSWER
    text = (
        f"### Graded: {graded.title}\n\nStore your answer in {names} and run the cell: the checker tells you "
        f"whether it is right. When you hand in the notebook, a hidden test grades it again "
        f"({points} point{'s' if points != 1 else ''})."
    )
    return nbgrader_metadata(new_markdown_cell(text), f"graded_{index}", locked=True)


def lesson_names(notebook: nbformat.NotebookNode) -> set[str]:
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            try:
                tree = ast.parse(python_source(cell.source))
            except SyntaxError:
                continue
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names


def source_notebook(chapter: Chapter) -> nbformat.NotebookNode:
    """The teacher's version: lesson, graded exercises with answers and hidden tests, rest of the lesson."""
    lesson = nbformat.read(chapter.lesson, as_version=4)
    setup, graded = solution_parts(chapter.solution)
    cells = lesson.cells
    try:
        heading = next(
            i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("## Exercises")
        )
    except StopIteration:
        raise SystemExit(f"{chapter.lesson}: no '## Exercises' heading") from None
    end = heading + 1
    while end < len(cells) and cells[end].cell_type == "code":  # the lesson's own exercise cell gives way
        end += 1
    taken = lesson_names(lesson)
    clashes = sorted({a.variable for g in graded for a in g.answers} & taken)
    if clashes:  # a lesson that set an answer variable would hand points to a blank release
        raise SystemExit(f"{chapter.lesson}: the lesson itself uses {', '.join(clashes)}")

    exercises = [nbgrader_metadata(new_code_cell("\n".join(setup)), "setup", locked=True)]
    for index, cell in enumerate(graded, start=1):
        exercises += [heading_cell(cell, index), answer_cell(cell), *[test_cell(a) for a in cell.answers]]
    body = [*cells[: heading + 1], *exercises, *cells[end:]]
    notebook = nbformat.v4.new_notebook(metadata=lesson.metadata)
    for cell in body:
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.pop("id", None)
        notebook.cells.append(cell)
    return _with_ids(notebook)


def _with_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Fresh, stable cell ids (the position), so a rebuilt source differs only where its content does."""
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
    return notebook


NBGRADER_CONFIG = """\
# nbgrader's settings for this course directory, written by scripts/build_assignments.py.
# Run nbgrader from this folder: `nbgrader autograde NN_name`, `nbgrader generate_feedback NN_name`.
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "{course_id}"
# The notebooks' set-up trains nothing that takes long; 10 minutes per cell is a generous limit.
c.Execute.timeout = 600
"""


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(path, text.encode("utf-8"))


def nbgrader_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "nbgrader", *args]


def nbgrader_env() -> dict[str, str]:
    """nbgrader runs ``alembic`` by name, so the folder of this Python goes first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def build(course_dir: Path, root: Path = ROOT) -> list[str]:
    """Write the source notebooks and nbgrader's config into ``course_dir``, then let nbgrader make the release."""
    course_dir = Path(course_dir).resolve()
    names = []
    for chapter in chapters(root):
        notebook = source_notebook(chapter)
        write_text(course_dir / "source" / chapter.name / f"{chapter.name}.ipynb", nbformat.writes(notebook) + "\n")
        names.append(chapter.name)
    write_text(course_dir / "nbgrader_config.py", NBGRADER_CONFIG.format(course_id=COURSE_ID))
    # One nbgrader run for all of them ("*" is a glob over source/): one start-up instead of five.
    subprocess.run(
        nbgrader_command("generate_assignment", "*", "--force", "--log-level=WARN"),
        cwd=course_dir,
        env=nbgrader_env(),
        check=True,
    )
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("course_dir", nargs="?", default=str(ROOT / "classroom"), help="default: classroom/")
    args = parser.parse_args(argv)
    names = build(Path(args.course_dir))
    release = Path(args.course_dir) / "release"
    print(f"[assignments] {len(names)} assignments released in {release}: {', '.join(names)}")


if __name__ == "__main__":
    main()
