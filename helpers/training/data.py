"""Real images that need no download: scikit-learn's handwritten digits, upsampled and split."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, TensorDataset

from .. import checks

NUM_CLASSES = 10
RAW_SIZE = 8  # the bundled digits are 8 x 8 pixels with integer values 0..16
RAW_MAX = 16.0
NUM_DIGITS = 1797  # images in scikit-learn's bundled digits


@dataclass
class DigitSplit:
    """A fixed train/test split of the digits, normalised with train-set statistics.

    Images are ``(N, 1, size, size)`` float32, labels ``(N,)`` int64. ``mean`` and ``std``
    are the train set's pixel mean and standard deviation before normalising (in [0, 1] units).
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    mean: float
    std: float

    def __post_init__(self) -> None:
        for name in ("train_images", "test_images"):
            checks.tensor(name, getattr(self, name), "(N, 1, size, size)")
        for name in ("train_labels", "test_labels"):
            checks.tensor(name, getattr(self, name), "(N,)")
        self.mean = checks.finite_number("mean", self.mean)
        self.std = checks.finite_number("std", self.std)

    @property
    def image_size(self) -> tuple[int, int, int]:
        """``(channels, height, width)`` of every image, ready for ``img_size=``."""
        return tuple(self.train_images.shape[1:])


def upsample(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize ``(N, 1, h, w) -> (N, 1, size, size)`` (``align_corners=False``)."""
    checks.tensor("images", images, "(N, 1, h, w)")
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(
            f"images must be a float tensor of shape (N, C, h, w), got dtype {images.dtype} and shape "
            f"{tuple(images.shape)}; for example torch.rand(5, 1, 8, 8)."
        )
    size = checks.positive_int("size", size, "size=32")
    checks.tensor_size(
        "the upsampled images (N x C x size x size)", (*images.shape[:2], size, size), "use a smaller size"
    )
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)


def load_digit_split(size: int = 32, test_fraction: float = 0.25, seed: int = 0) -> DigitSplit:
    """Load the 1,797 bundled digits, scale to [0, 1], upsample to ``size`` and split.

    The split is stratified by class and fixed by ``seed``. Both sets are normalised with the
    mean and standard deviation of the *train* pixels, so nothing about the test set leaks in.
    """
    size = checks.whole_number("size", size, RAW_SIZE, f"size=32 (the digits are {RAW_SIZE} x {RAW_SIZE} pixels)")
    test_fraction = checks.real_number("test_fraction", test_fraction, 0.0, 1.0, example="test_fraction=0.25")
    seed = checks.random_seed("seed", seed)
    checks.tensor_size(f"the upsampled digits ({NUM_DIGITS} x size x size)", (NUM_DIGITS, size, size), "use size=32")
    test_count = math.ceil(NUM_DIGITS * test_fraction)
    if not NUM_CLASSES <= test_count <= NUM_DIGITS - NUM_CLASSES:
        raise ValueError(
            f"test_fraction={test_fraction!r} puts {test_count} of the {NUM_DIGITS} digits in the test set; a split "
            f"by class needs at least {NUM_CLASSES} on each side: use a test_fraction from "
            f"{NUM_CLASSES / NUM_DIGITS:.4f} to {1 - NUM_CLASSES / NUM_DIGITS:.4f}, for example 0.25."
        )
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / RAW_MAX
    labels = torch.tensor(digits.target, dtype=torch.int64)
    train_idx, test_idx = train_test_split(
        torch.arange(len(labels)).numpy(), test_size=test_fraction, random_state=seed, stratify=labels.numpy()
    )
    images = upsample(images, size)
    train, test = images[train_idx], images[test_idx]
    mean, std = train.mean().item(), train.std(correction=0).item()
    return DigitSplit(
        train_images=(train - mean) / std,
        train_labels=labels[train_idx],
        test_images=(test - mean) / std,
        test_labels=labels[test_idx],
        mean=mean,
        std=std,
    )


def make_loaders(
    split: DigitSplit, batch_size: int = 64, seed: int = 0, eval_batch_size: int = 256
) -> tuple[DataLoader, DataLoader]:
    """``(train_loader, test_loader)``: the train set shuffled by a seeded generator, in-process.

    The generator makes the shuffle order a function of ``seed`` alone, and ``num_workers=0``
    keeps every batch in this process, so two runs see the same batches in the same order.
    """
    checks.instance("split", split, DigitSplit, "split=load_digit_split()")
    batch_size = checks.positive_int("batch_size", batch_size, "batch_size=64")
    eval_batch_size = checks.positive_int("eval_batch_size", eval_batch_size, "eval_batch_size=256")
    seed = checks.random_seed("seed", seed)
    generator = torch.Generator().manual_seed(seed)
    train = DataLoader(
        TensorDataset(split.train_images, split.train_labels),
        batch_size=batch_size,
        shuffle=True,
        generator=generator,
        num_workers=0,
    )
    test = DataLoader(TensorDataset(split.test_images, split.test_labels), batch_size=eval_batch_size, shuffle=False)
    return train, test
