"""What an exercise checker returns: right or not, and a message that never gives the answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker. ``bool(feedback)`` is ``True`` when the answer is right."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"{'Right' if self.correct else 'Not yet'}: {self.message}"

    def __repr__(self) -> str:
        return str(self)


def right(message: str = "well done.") -> Feedback:
    """A correct answer, with an optional remark that goes a little further."""
    return Feedback(True, message)


def wrong(message: str) -> Feedback:
    """A wrong answer, with a hint aimed at the likely mistake (not the answer)."""
    return Feedback(False, message)
