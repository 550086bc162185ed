"""The classroom kit, graded by nbgrader itself: the release ``make assignments`` builds, and what
``nbgrader autograde`` gives the worked solutions, the untouched release, a wrong answer and a
submission with an error.

One course directory is built exactly as ``make assignments`` builds it, and one ``nbgrader
autograde`` run grades every submission. To keep that run short, most submissions keep only the
notebook's set-up and graded cells (a student may delete the lesson's cells: nbgrader grades the
cells it marked); one lesson is also graded whole, untouched and with the solutions.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
FULL_LESSON = "03_image_reconstruction"  # graded whole as well: a short lesson
# A wrong answer a student might give (height and width swapped), and a cell that fails.
WRONG = (
    "03_image_reconstruction",
    "answer_reconstructed_shape",
    "answer_reconstructed_shape = answer_reconstructed_shape[:2] + answer_reconstructed_shape[:1:-1]",
)
ERROR = ("03_image_reconstruction", "answer_fold_inverse")


def load_build_assignments():
    spec = importlib.util.spec_from_file_location("build_assignments", ROOT / "scripts" / "build_assignments.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build_assignments = load_build_assignments()


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solution_regions(source: nbformat.NotebookNode) -> dict[str, str]:
    """``{grade_id: code}``: what each answer cell of the teacher's version holds between the markers."""
    regions = {}
    for cell in source.cells:
        if nbgrader_meta(cell).get("solution"):
            match = re.search(r"### BEGIN SOLUTION\n(.*?)\n### END SOLUTION", cell.source, re.S)
            regions[nbgrader_meta(cell)["grade_id"]] = match.group(1)
    return regions


def filled(release: nbformat.NotebookNode, regions: dict[str, str]) -> nbformat.NotebookNode:
    """The release with every stub replaced by the worked answer: a student who wrote the solutions."""
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        if nbgrader_meta(cell).get("solution"):
            assert STUB in cell.source, cell.source
            cell.source = cell.source.replace(STUB, regions[nbgrader_meta(cell)["grade_id"]])
    return notebook


def graded_part(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without the lesson: its bootstrap cell and the cells nbgrader marked."""
    trimmed = nbformat.from_dict(notebook)
    trimmed.cells = [c for c in notebook.cells if nbgrader_meta(c) or "bootstrap" in c.metadata.get("tags", [])]
    return trimmed


def edit_answer(notebook: nbformat.NotebookNode, grade_id: str, edit) -> nbformat.NotebookNode:
    notebook = nbformat.from_dict(notebook)
    cells = [c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == grade_id]
    assert len(cells) == 1, grade_id
    cells[0].source = edit(cells[0].source)
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The course directory of ``make assignments``, in a temporary folder."""
    course_dir = tmp_path_factory.mktemp("classroom")
    build_assignments.build(course_dir)
    return course_dir


def release_of(course: Path, name: str) -> nbformat.NotebookNode:
    return read(course / "release" / name / f"{name}.ipynb")


def source_of(course: Path, name: str) -> nbformat.NotebookNode:
    return read(course / "source" / name / f"{name}.ipynb")


def chapter_names() -> list[str]:
    return [c.name for c in build_assignments.chapters()]


@pytest.fixture(scope="module")
def grades(course) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """``{(student, assignment): {grade_id: (score, max_score)}}`` after ``nbgrader autograde``.

    The submissions are split between two copies of the course directory, graded at the same time
    (one per core), each by one ``nbgrader autograde`` run.
    """
    halves = [{}, {}]
    for name in chapter_names():
        release = release_of(course, name)
        answers = filled(release, solution_regions(source_of(course, name)))
        halves[0][("solutions", name)] = graded_part(answers)
        halves[1][("blank", name)] = graded_part(release)
        if name == FULL_LESSON:
            halves[0][("lesson-solutions", name)] = answers
            halves[1][("lesson-untouched", name)] = release
        if name == WRONG[0]:
            wrong = edit_answer(answers, WRONG[1], lambda code: code.rstrip("\n") + "\n" + WRONG[2] + "\n")
            halves[0][("wrong", name)] = graded_part(wrong)
        if name == ERROR[0]:
            broken = edit_answer(answers, ERROR[1], lambda code: 'raise RuntimeError("a bug")\n' + code)
            halves[1][("error", name)] = graded_part(broken)
    folders = [course, course.with_name(course.name + "-second-half")]
    shutil.copytree(course, folders[1])
    runs = []
    for folder, submissions in zip(folders, halves):
        for (student, name), notebook in submissions.items():
            path = folder / "submitted" / student / name / f"{name}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(notebook, path)
        command = build_assignments.nbgrader_command("autograde", "*", "--force", "--log-level=ERROR")
        env = build_assignments.nbgrader_env()
        runs.append(subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    for run in runs:
        output = run.communicate()[0]
        assert run.returncode == 0, output.decode(errors="replace")[-3000:]
    from nbgrader.api import Gradebook

    found = {}
    for folder, submissions in zip(folders, halves):
        with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
            for student, name in submissions:
                notebook = gradebook.find_submission_notebook(name, name, student)
                found[(student, name)] = {g.name: (g.score, g.max_score) for g in notebook.grades}
    return found


def test_classroom_release_has_every_lesson_cell_and_no_answer_or_hidden_test(course):
    for name in chapter_names():
        release, source = release_of(course, name), source_of(course, name)
        lesson = read(ROOT / "notebooks" / f"{name}.ipynb")
        text = "\n".join(c.source for c in release.cells)
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "_checker" not in text, name
        for code in solution_regions(source).values():
            assert code not in text, (name, code)
        # Every markdown cell and every code cell of the lesson before its exercises is there, in order.
        kept = [c.source for c in release.cells if not nbgrader_meta(c)]
        taught = [c.source for c in lesson.cells]
        exercises = next(i for i, s in enumerate(taught) if s.startswith("## Exercises"))
        assert kept[: exercises + 1] == taught[: exercises + 1], name
        assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code"), name
        answers = [c for c in release.cells if nbgrader_meta(c).get("solution")]
        tests = [c for c in release.cells if nbgrader_meta(c).get("grade")]
        assert answers and all(STUB in c.source for c in answers), name
        assert len(tests) >= len(answers), name


def test_classroom_every_checker_call_of_the_solutions_is_one_graded_answer(course):
    """The graded answers are exactly the checker calls of solutions/, and the tests hold no answer."""
    for name in chapter_names():
        solution = read(ROOT / "solutions" / f"{name}_solutions.ipynb")
        called = set(
            re.findall(r"\.(check_\w+)\(", "\n".join(c.source for c in solution.cells if c.cell_type == "code"))
        )
        source = source_of(course, name)
        tests = {nbgrader_meta(c)["grade_id"]: c.source for c in source.cells if nbgrader_meta(c).get("grade")}
        assert set(tests) == {f"test_answer_{c.removeprefix('check_')}" for c in called}, name
        regions = solution_regions(source)
        for grade_id, test in tests.items():
            checker = "check_" + grade_id.removeprefix("test_answer_")
            assert re.search(rf"from helpers\.exercises\.\w+ import {checker} as _checker", test), test
            # The test's only data is the student's variable: no number or string of its own.
            body = test.split("### BEGIN HIDDEN TESTS")[1]
            assert not re.search(r"(?<![\w.])\d|[\"']", body), test
        assert all(f"answer_{c.removeprefix('check_')} =" in "\n".join(regions.values()) for c in called), name


def test_classroom_assignment_refuses_a_lesson_that_uses_an_answer_variable(tmp_path):
    """A lesson that set ``answer_...`` itself would give points to an untouched release."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "solutions").mkdir()
    name = "03_image_reconstruction"
    lesson = read(ROOT / "notebooks" / f"{name}.ipynb")
    lesson.cells.insert(3, nbformat.v4.new_code_cell("answer_fold_inverse = None"))
    nbformat.write(lesson, tmp_path / "notebooks" / f"{name}.ipynb")
    solution = ROOT / "solutions" / f"{name}_solutions.ipynb"
    (tmp_path / "solutions" / solution.name).write_bytes(solution.read_bytes())
    chapter = build_assignments.chapters(tmp_path)[0]
    with pytest.raises(SystemExit, match="answer_fold_inverse"):
        build_assignments.source_notebook(chapter)


def test_grade_the_solutions_score_full_marks(grades):
    for name in chapter_names():
        scores = grades[("solutions", name)]
        assert scores and all(score == top > 0 for score, top in scores.values()), (name, scores)


def test_grade_the_untouched_release_scores_zero_on_every_graded_exercise(grades):
    for name in chapter_names():
        scores = grades[("blank", name)]
        assert scores and all(score == 0 < top for score, top in scores.values()), (name, scores)


def test_grade_a_whole_lesson_scores_full_marks_with_the_solutions_and_zero_untouched(grades):
    solved, untouched = grades[("lesson-solutions", FULL_LESSON)], grades[("lesson-untouched", FULL_LESSON)]
    assert solved == grades[("solutions", FULL_LESSON)]
    assert untouched == grades[("blank", FULL_LESSON)]


def test_grade_one_wrong_answer_loses_exactly_that_exercises_points(grades):
    name, variable, _ = WRONG
    full, wrong = grades[("solutions", name)], grades[("wrong", name)]
    assert wrong[f"test_{variable}"] == (0, full[f"test_{variable}"][1])
    assert {k: v for k, v in wrong.items() if k != f"test_{variable}"} == {
        k: v for k, v in full.items() if k != f"test_{variable}"
    }
    assert sum(s for s, _ in wrong.values()) == sum(s for s, _ in full.values()) - full[f"test_{variable}"][1]


def test_grade_an_error_in_one_cell_still_grades_the_rest(grades):
    name, variable = ERROR
    full, broken = grades[("solutions", name)], grades[("error", name)]
    assert broken[f"test_{variable}"][0] == 0
    rest = {k: v for k, v in broken.items() if k != f"test_{variable}"}
    assert rest and rest == {k: v for k, v in full.items() if k != f"test_{variable}"}


def test_classroom_make_assignments_builds_the_release_into_classroom():
    dry = subprocess.run(["make", "-n", "assignments"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "scripts/build_assignments.py classroom" in dry.stdout, dry.stdout
    ignored = subprocess.run(["git", "check-ignore", "classroom/release/x.ipynb"], cwd=ROOT, capture_output=True)
    assert ignored.returncode == 0, "classroom/ must be git-ignored"


def test_grade_feedback_shows_each_score_and_the_checkers_hint(course, grades):
    """``nbgrader generate_feedback`` (docs/teaching.md, "Return feedback") on the wrong submission."""
    name, variable, _ = WRONG
    assert grades[("wrong", name)][f"test_{variable}"][0] == 0
    subprocess.run(
        build_assignments.nbgrader_command("generate_feedback", name, "--student=wrong", "--log-level=ERROR"),
        cwd=course,
        env=build_assignments.nbgrader_env(),
        check=True,
        capture_output=True,
    )
    page = (course / "feedback" / "wrong" / name / f"{name}.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)))
    scores = re.findall(r"Score: ([\d.]+) / ([\d.]+)", text)
    total = sum(s for s, _ in grades[("wrong", name)].values()), sum(m for _, m in grades[("wrong", name)].values())
    assert (float(scores[0][0]), float(scores[0][1])) == total, scores
    shown = Counter((float(s), float(m)) for s, m in scores[1:])  # per test (and its entry in the contents)
    expected = Counter(grades[("wrong", name)].values())
    assert all(shown[k] >= n for k, n in expected.items()), (shown, expected)
    assert re.search(r"AssertionError\s*:\s*Not yet\s*:\s*\S", text), "the failed test should show the checker's hint"
