"""Training the tiny T2T-ViT on real data: the digits (:mod:`.data`), the loop (:mod:`.loop`),
the patch-ViT baseline it is compared with (:mod:`.patch_vit`), and runs over several seeds
(:mod:`.seeds`).

The loop's functions are importable from here: ``helpers.training.fit``.
"""

from . import data as data
from .loop import (
    BAR_FORMAT,
    TINY_BACKBONE,
    TINY_MLP,
    TINY_PATCH,
    accuracy,
    backbone_attention,
    confusion_matrix,
    count_parameters,
    fit,
    majority_baseline,
    make_deterministic,
    make_optimizer,
    predict,
    progress,
    seed_everything,
    state_digest,
    tiny_patch_vit,
    tiny_t2t_vit,
    tokens_of,
    train_one_epoch,
    warmup_cosine,
)
from .patch_vit import PatchEmbed, PatchViT
from .seeds import SeedRuns, mean_std, train_over_seeds

__all__ = [
    "BAR_FORMAT",
    "PatchEmbed",
    "PatchViT",
    "SeedRuns",
    "TINY_BACKBONE",
    "TINY_MLP",
    "TINY_PATCH",
    "accuracy",
    "backbone_attention",
    "confusion_matrix",
    "count_parameters",
    "data",
    "fit",
    "majority_baseline",
    "mean_std",
    "make_deterministic",
    "make_optimizer",
    "predict",
    "progress",
    "seed_everything",
    "state_digest",
    "tiny_patch_vit",
    "tiny_t2t_vit",
    "tokens_of",
    "train_one_epoch",
    "train_over_seeds",
    "warmup_cosine",
]
