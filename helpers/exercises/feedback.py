"""What an exercise checker returns: right or not, and a message that never gives the answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker. ``bool(feedback)`` is ``True`` when the answer is right."""

    correct: bool
    message: str

    def __post_init__(self) -> None:
        if not isinstance(self.correct, bool):
            raise TypeError(f"correct must be True or False, got {self.correct!r} ({type(self.correct).__name__}).")
        if not isinstance(self.message, str):
            raise TypeError(f"message must be a string, got {self.message!r} ({type(self.message).__name__}).")
        if not self.message.strip():
            raise ValueError("message must say something: a hint or a remark, not an empty string.")

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
