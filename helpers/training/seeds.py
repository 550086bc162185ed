"""Train the two tiny models over several seeds and summarise the spread of their results.

One seed is one draw of the initial weights and of the shuffle order. A difference between
two models means something only when it is larger than the spread between seeds, so the
notebook trains each model once per seed and reports the mean with the spread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from torch import nn

from .. import checks
from .data import DigitSplit, make_loaders
from .loop import fit, seed_everything


@dataclass
class SeedRuns:
    """The runs of one model, one per seed: histories, final models and wall times (seconds)."""

    name: str
    seeds: list[int] = field(default_factory=list)
    histories: list[dict[str, list[float]]] = field(default_factory=list)
    models: list[nn.Module] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        checks.string("name", self.name, "name='t2t'")
        for name in ("seeds", "histories", "models", "seconds"):
            checks.instance(name, getattr(self, name), list, f"{name}=[]")

    def _key(self, key: str) -> str:
        return checks.choice("key", key, sorted({k for h in self.histories for k in h}) or ["test_acc", "train_loss"])

    def final(self, key: str = "test_acc") -> list[float]:
        """The last epoch's value of ``key`` for every seed."""
        key = self._key(key)
        return [h[key][-1] for h in self.histories]

    def at_epoch(self, epoch: int, key: str = "test_acc") -> list[float]:
        """The value of ``key`` after ``epoch`` (counted from 1) for every seed."""
        key = self._key(key)
        epochs = min((len(h[key]) for h in self.histories), default=0)
        if not epochs:
            checks.positive_int("epoch", epoch, "epoch=1 for the first")
            return []
        epoch = checks.int_in_range("epoch", epoch, 1, epochs, f"epoch=1 for the first, epoch={epochs} for the last")
        return [h[key][epoch - 1] for h in self.histories]


def train_over_seeds(
    name: str,
    build: Callable[[], nn.Module],
    split: DigitSplit,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int = 64,
    show_progress: bool = False,
    **fit_kwargs,
) -> SeedRuns:
    """Build and train one model per seed: ``seed_everything(seed)``, ``build()``, a loader seeded by ``seed``.

    ``build`` takes no arguments (e.g. ``lambda: tiny_t2t_vit(img_size=split.image_size)``),
    so every seed builds the same architecture from its own initial weights. Wall times are
    measured with ``time.perf_counter`` around :func:`fit`; they depend on the machine and
    its load, so print them only where a reader is told so.
    """
    checks.string("name", name, "name='t2t'")
    checks.function("build", build, "build=tiny_t2t_vit")
    checks.instance("split", split, DigitSplit, "split=load_digit_split()")
    seeds = checks.sequence("seeds", seeds, of="seeds", example="seeds=(0, 1, 2)")
    if not seeds:
        raise ValueError("seeds must name at least one seed, got an empty list; try seeds=(0, 1, 2).")
    seeds = [checks.random_seed(f"seeds[{i}]", seed) for i, seed in enumerate(seeds)]
    epochs = checks.positive_int("epochs", epochs, "epochs=10")
    batch_size = checks.positive_int("batch_size", batch_size, "batch_size=64")
    checks.boolean("show_progress", show_progress)
    unknown = sorted(set(fit_kwargs) - {"lr", "weight_decay", "warmup_epochs"})
    if unknown:
        raise TypeError(
            f"train_over_seeds got unknown argument(s) {unknown}; it passes on lr, weight_decay and warmup_epochs."
        )
    if "warmup_epochs" in fit_kwargs:
        checks.int_in_range("warmup_epochs", fit_kwargs["warmup_epochs"], 0, epochs - 1, "warmup_epochs=0")
    checks.positive_float("lr", fit_kwargs.get("lr", 2e-3), "lr=2e-3")
    checks.real_number("weight_decay", fit_kwargs.get("weight_decay", 0.05), 0.0, include_low=True)
    runs = SeedRuns(name)
    for seed in seeds:
        seed_everything(seed)
        try:
            model = build()
        except TypeError as err:
            raise TypeError(
                f"build must be called with no arguments and return a model; build() failed: {err}"
            ) from None
        checks.module("the model that build() returns", model)
        loader, _ = make_loaders(split, batch_size=batch_size, seed=seed)
        start = time.perf_counter()
        history = fit(
            model,
            loader,
            split.test_images,
            split.test_labels,
            epochs=epochs,
            name=f"{name} seed {seed}",
            show_progress=show_progress,
            **fit_kwargs,
        )
        runs.seconds.append(time.perf_counter() - start)
        runs.seeds.append(seed)
        runs.histories.append(history)
        runs.models.append(model)
    return runs


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and *sample* standard deviation (divided by ``n - 1``; 0 for one value)."""
    values = [checks.finite_number(f"values[{i}]", v) for i, v in enumerate(checks.sequence("values", values))]
    if not values:
        raise ValueError("mean_std needs at least one value, got none.")
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def describe(values: Sequence[float], scale: float = 100.0, unit: str = "%") -> str:
    """``"91.3% ± 2.1 (min 88.9, max 93.6)"``: mean ± sample std, then the range, times ``scale``."""
    mean, std = mean_std(values)
    scale = checks.finite_number("scale", scale, "scale=100.0 for percent")
    unit = checks.string("unit", unit, "unit='%'")
    lo, hi = min(values) * scale, max(values) * scale
    return f"{mean * scale:.1f}{unit} ± {std * scale:.1f} (min {lo:.1f}, max {hi:.1f})"
