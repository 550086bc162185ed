"""A small, readable, reproducible training loop for the tiny T2T-ViT and its patch baseline."""

from __future__ import annotations

import hashlib
import inspect
import math
import random
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from .. import checks
from ..model.t2t_vit import T2TViT
from ..probe import attention_weights
from .patch_vit import PatchViT

# One shared backbone recipe: the two models differ only in how they make tokens.
TINY_BACKBONE = dict(preds=10, token_len=64, num_heads=4, depth=4)
TINY_MLP = 2.0
# 32 x 32 digits: soft splits k = 7, 3, 3 with strides 4, 2, 1 give 8 x 8, 4 x 4, 4 x 4 grids,
# so the backbone sees 16 tokens, the same as 8 x 8 patches.
TINY_T2T = dict(softsplit_kernels=(7, 3, 3), softsplit_strides=(4, 2, 1), token_chan=16, t2t_num_heads=1)
TINY_PATCH = dict(patch_size=8)
# The prediction token is a parameter that weight decay must not pull towards 0 (timm's no_weight_decay()).
PREDICTION_TOKEN = "backbone.cls_token"

# A deterministic text bar: no rates or times, drawn only when it starts and when it closes.
BAR_FORMAT = "{desc} |{bar:20}| {n_fmt}/{total_fmt}{postfix}"
MAX_THREADS = 1024  # more torch threads than any machine has cores is a typo
MAX_CLASSES = 2**14  # confusion_matrix holds num_classes ** 2 counts


def _overrides(build: str, overrides: dict, model: type) -> None:
    """Refuse override names that ``model`` does not take (a typo would otherwise reach its constructor)."""
    accepted = [name for name in inspect.signature(model.__init__).parameters if name not in ("self", "img_size")]
    unknown = sorted(set(overrides) - set(accepted))
    if unknown:
        raise TypeError(f"{build}() got unknown override(s) {unknown}; {model.__name__} accepts {accepted}.")


def _labels(name: str, value, length: int | None = None, high: int | None = None) -> torch.Tensor:
    """A 1-D tensor of class numbers (whole numbers >= 0, below ``high`` if given), ``length`` long if given."""
    checks.tensor(name, value, "(N,) of class numbers")
    if value.ndim != 1 or value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(
            f"{name} must be a 1-D tensor of whole class numbers (int64), got dtype {value.dtype} and shape "
            f"{tuple(value.shape)}; for example {name}=torch.tensor([0, 3, 9])."
        )
    if length is not None and len(value) != length:
        raise ValueError(
            f"{name} holds {len(value)} labels but there are {length} images or predictions; pass one each."
        )
    if len(value) and (value.min() < 0 or (high is not None and value.max() >= high)):
        allowed = f"from 0 to {high - 1}" if high is not None else ">= 0"
        raise ValueError(
            f"{name} must hold class numbers {allowed}, got values from {value.min().item()} to {value.max().item()}."
        )
    return value


def _batches(name: str, loader) -> int | None:
    """The number of batches ``loader`` gives (None if it cannot tell); ``ValueError`` when it gives none."""
    if isinstance(loader, (str, bytes)) or not hasattr(loader, "__iter__"):
        raise TypeError(
            f"{name} must be a DataLoader (or another iterable of (images, labels) batches), "
            f"got {checks.given(loader)}."
        )
    count = len(loader) if hasattr(loader, "__len__") else None
    if count == 0:
        raise ValueError(
            f"{name} gives no batches: its dataset is empty (or drop_last=True with fewer images than one batch); "
            "give it at least one image, or a smaller batch_size."
        )
    return count


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (weights, dropout, shuffles that use the global generator)."""
    seed = checks.random_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_deterministic(threads: int = 1) -> None:
    """Fix the thread count and forbid torch kernels that are not deterministic."""
    torch.set_num_threads(checks.int_in_range("threads", threads, 1, MAX_THREADS, "threads=1"))
    torch.use_deterministic_algorithms(True)


def tiny_t2t_vit(img_size: tuple[int, int, int] = (1, 32, 32), **overrides) -> T2TViT:
    """The tiny T2T-ViT used for the digits: 16 tokens of width 64, depth 4, 4 heads."""
    _overrides("tiny_t2t_vit", overrides, T2TViT)
    kwargs = {**TINY_BACKBONE, **TINY_T2T, "encoding_hidden_chan_mul": TINY_MLP, **overrides}
    return T2TViT(img_size=img_size, **kwargs)


def tiny_patch_vit(img_size: tuple[int, int, int] = (1, 32, 32), **overrides) -> PatchViT:
    """The matching plain ViT: 8 x 8 patches, then the very same backbone recipe."""
    _overrides("tiny_patch_vit", overrides, PatchViT)
    kwargs = {**TINY_BACKBONE, **TINY_PATCH, "hidden_chan_mul": TINY_MLP, **overrides}
    return PatchViT(img_size=img_size, **kwargs)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (the fixed sinusoid position table is a buffer, so not counted)."""
    checks.module("model", model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_optimizer(model: nn.Module, lr: float = 2e-3, weight_decay: float = 0.05) -> torch.optim.AdamW:
    """AdamW that decays weight matrices only: biases, norms and the prediction token are exempt.

    So are the names a model's ``no_weight_decay()`` lists, where it has one (timm's models do).
    """
    checks.module("model", model)
    lr = checks.positive_float("lr", lr, "lr=2e-3")
    weight_decay = checks.real_number("weight_decay", weight_decay, 0.0, include_low=True, example="weight_decay=0.05")
    skip = {PREDICTION_TOKEN, *(model.no_weight_decay() if hasattr(model, "no_weight_decay") else ())}
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim <= 1 or name in skip else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr)


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0
) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate factor: linear ramp over ``warmup_steps``, then a cosine down to 0."""
    checks.instance("optimizer", optimizer, torch.optim.Optimizer, "make_optimizer(model)")
    total_steps = checks.positive_int("total_steps", total_steps, "total_steps=100")
    warmup_steps = checks.non_negative_int("warmup_steps", warmup_steps, "warmup_steps=10")
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps ({warmup_steps}) must be smaller than total_steps ({total_steps}); "
            "train for more epochs or warm up for fewer."
        )

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def progress(total: int, desc: str, disable: bool = False) -> tqdm:
    """A tqdm bar that prints the same bytes on every run (see ``BAR_FORMAT``) to stdout."""
    total = checks.non_negative_int("total", total, "total=22 (steps per epoch)")
    desc = checks.string("desc", desc, "desc='epoch 1/10'")
    disable = checks.boolean("disable", disable)
    return tqdm(
        desc=desc,
        total=total,
        bar_format=BAR_FORMAT,
        file=sys.stdout,
        mininterval=float("inf"),  # no time-dependent redraws in between
        maxinterval=float("inf"),  # nor from tqdm's monitor thread
        ascii=" #",
        disable=disable,
    )


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    bar: tqdm | None = None,
) -> float:
    """One pass over ``loader``; returns the mean cross-entropy over the samples seen.

    ``bar``, if given, is advanced by one step per batch. A loader that gives no batch is a
    ``ValueError``: there is no mean over no samples.
    """
    checks.module("model", model)
    _batches("loader", loader)
    checks.instance("optimizer", optimizer, torch.optim.Optimizer, "make_optimizer(model)")
    if scheduler is not None:
        checks.instance("scheduler", scheduler, torch.optim.lr_scheduler.LRScheduler, "warmup_cosine(optimizer, 100)")
    if bar is not None:
        checks.instance("bar", bar, tqdm, "progress(len(loader), 'epoch 1')")
    model.train()
    total, seen = 0.0, 0
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(labels)
        seen += len(labels)
        if bar is not None:
            bar.update()
    if not seen:
        raise ValueError("loader gave no images: there is no mean loss over no samples; give it at least one batch.")
    return total / seen


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Predicted class for each image, ``(N, C, H, W) -> (N,)``, in eval mode."""
    checks.module("model", model)
    checks.tensor("images", images, "(N, C, H, W)")
    batch_size = checks.positive_int("batch_size", batch_size, "batch_size=256")
    model.eval()
    if len(images) == 0:
        return torch.zeros(0, dtype=torch.int64)
    return torch.cat([model(chunk).argmax(dim=1) for chunk in images.split(batch_size)])


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of ``images`` whose predicted class equals ``labels``."""
    checks.module("model", model)
    checks.tensor("images", images, "(N, C, H, W)")
    _labels("labels", labels, len(images) if images.ndim else None)
    if len(labels) == 0:
        raise ValueError("accuracy needs at least one image and label, got none.")
    return (predict(model, images) == labels).float().mean().item()


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    epochs: int = 10,
    lr: float = 2e-3,
    weight_decay: float = 0.05,
    warmup_epochs: int = 1,
    name: str = "model",
    show_progress: bool = True,
) -> dict[str, list[float]]:
    """Train with AdamW and a warmup-cosine schedule; test after every epoch.

    Returns ``{"train_loss": [...], "test_acc": [...]}``, one entry per epoch.
    """
    epochs = checks.positive_int("epochs", epochs, "epochs=10")
    warmup_epochs = checks.int_in_range("warmup_epochs", warmup_epochs, 0, epochs - 1, "warmup_epochs=0")
    checks.boolean("show_progress", show_progress)
    checks.string("name", name, "name='t2t'")
    checks.positive_float("lr", lr, "lr=2e-3")
    checks.real_number("weight_decay", weight_decay, 0.0, include_low=True, example="weight_decay=0.05")
    checks.module("model", model)
    steps = _batches("train_loader", train_loader)
    if steps is None:
        raise TypeError(f"train_loader must have a length (a DataLoader does), got {checks.given(train_loader)}.")
    checks.tensor("test_images", test_images, "(N, C, H, W)")
    _labels("test_labels", test_labels, len(test_images) if test_images.ndim else None)
    if len(test_labels) == 0:
        raise ValueError("fit tests after every epoch: test_images and test_labels need at least one image.")
    optimizer = make_optimizer(model, lr, weight_decay)
    scheduler = warmup_cosine(optimizer, epochs * steps, warmup_epochs * steps)
    history = {"train_loss": [], "test_acc": []}
    width = len(str(epochs))
    for epoch in range(1, epochs + 1):
        bar = progress(steps, f"{name} epoch {epoch:>{width}}/{epochs}", disable=not show_progress)
        loss = train_one_epoch(model, train_loader, optimizer, scheduler, bar)
        acc = accuracy(model, test_images, test_labels)
        bar.set_postfix_str(f"loss {loss:.3f}, test acc {acc:.1%}", refresh=False)
        bar.close()
        history["train_loss"].append(loss)
        history["test_acc"].append(acc)
    return history


def majority_baseline(train_labels: torch.Tensor, test_labels: torch.Tensor) -> float:
    """Test accuracy of always answering the most common *train* class."""
    _labels("train_labels", train_labels, high=MAX_CLASSES)
    _labels("test_labels", test_labels)
    if not len(train_labels) or not len(test_labels):
        raise ValueError("majority_baseline needs at least one train label and one test label, got an empty tensor.")
    majority = torch.bincount(train_labels).argmax()
    return (test_labels == majority).float().mean().item()


def confusion_matrix(labels: torch.Tensor, preds: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """``counts[i, j]`` = how many images of class ``i`` were predicted as class ``j``.

    Labels and predictions must be class numbers from 0 to ``num_classes - 1`` (``ValueError``
    otherwise: a prediction of class 12 among 10 classes would land in the wrong cell).
    """
    num_classes = checks.int_in_range("num_classes", num_classes, 1, MAX_CLASSES, "num_classes=10")
    _labels("labels", labels, high=num_classes)
    _labels("preds", preds, len(labels), high=num_classes)
    counts = torch.bincount(labels * num_classes + preds, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def state_digest(model: nn.Module) -> str:
    """SHA-256 of every tensor in the state dict, in key order: equal digests = equal weights."""
    checks.module("model", model)
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def tokens_of(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The tokens a model hands to its backbone: T2T module or patch embedding."""
    checks.instance("model", model, (T2TViT, PatchViT), "model=tiny_t2t_vit()")
    return model.tokens2token(images) if isinstance(model, T2TViT) else model.patch_embed(images)


@torch.no_grad()
def backbone_attention(model: nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """Softmax weights of every encoding block, each ``(B, heads, num_tokens + 1, num_tokens + 1)``.

    Row 0 is the prediction token: how much it draws from itself and from every image token.
    Every step is the model's own: its tokenizer, ``backbone.embed``, each block, and each block's
    softmax read by :func:`helpers.probe.attention_weights`.
    """
    checks.instance("model", model, (T2TViT, PatchViT), "model=tiny_t2t_vit()")
    model.eval()
    x = model.backbone.embed(tokens_of(model, images))
    weights = []
    for block in model.backbone.blocks:
        weights.append(attention_weights(block.attn, block.norm1(x)))
        x = block(x)
    return weights
