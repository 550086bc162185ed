"""Checkers for the exercises at the end of each notebook.

Each exercise that can be checked has a function ``check_<name>(answer)`` in the module of its
notebook (``soft_split`` for 01, ``token_transformer`` for 02, ``reconstruction`` for 03,
``t2t_vit`` for 04, ``training`` for 05). A checker returns a :class:`Feedback`: it says whether
the answer is right and, when it is not, gives a hint aimed at the likely mistake. It never
prints the answer itself.
"""

from .feedback import Feedback, right, wrong

__all__ = ["Feedback", "right", "wrong"]
