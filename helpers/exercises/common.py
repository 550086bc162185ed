"""Input checks shared by the exercise checkers of notebooks 04 and 05."""

from __future__ import annotations

import math
from numbers import Real

import torch


def _scalar(value):
    """A one-element tensor or NumPy array as a Python number; anything else unchanged."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "item") and getattr(value, "size", 0) == 1:
        return value.item()
    return value


def whole_numbers(answer, name: str, length: int, example: str) -> tuple[int, ...]:
    """``answer`` as a tuple of ``length`` whole numbers, else TypeError/ValueError naming ``name``."""
    if isinstance(answer, torch.Tensor):
        answer = answer.tolist()
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        raise TypeError(f"{name} must be a tuple of {length} whole numbers, got {answer!r}; write e.g. {example}.")
    if len(answer) != length:
        raise ValueError(f"{name} needs {length} numbers, got {len(answer)} ({answer!r}); write e.g. {example}.")
    values = []
    for value in answer:
        value = _scalar(value)
        if isinstance(value, bool) or not isinstance(value, Real) or not float(value).is_integer():
            raise TypeError(f"{name} must hold whole numbers, got {value!r} in {answer!r}; write e.g. {example}.")
        values.append(int(value))
    return tuple(values)


def real_number(answer, name: str, example: str) -> float:
    """``answer`` as a finite float, else TypeError/ValueError naming ``name``."""
    answer = _scalar(answer)
    if isinstance(answer, bool) or not isinstance(answer, Real):
        raise TypeError(
            f"{name} must be a number, got {answer!r} of type {type(answer).__name__}; write e.g. {example}."
        )
    if not math.isfinite(float(answer)):
        raise ValueError(f"{name} must be a finite number, got {answer!r}; write e.g. {example}.")
    return float(answer)
