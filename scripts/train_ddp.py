"""Train the tiny T2T-ViT (or the patch ViT) on the digits, on one or many processes.

One process, as in notebook 05::

    python scripts/train_ddp.py --epochs 12

Several processes with DistributedDataParallel (CPU, gloo backend)::

    torchrun --nproc_per_node=2 scripts/train_ddp.py --epochs 12

Every process builds the same model from the same seed and sees its own shard of each shuffled
epoch (``DistributedSampler``); DDP averages the gradients over the processes after every
backward pass, so all copies take the same optimiser step and stay identical. With ``N``
processes and ``--batch-size B`` each step sees ``N * B`` images, exactly the batches that one
process with ``--batch-size N*B`` would see. ``--out DIR`` makes each rank write its final weights
(``rank{R}.pt``) and a summary with a SHA-256 of them (``rank{R}.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from helpers import training  # noqa: E402
from helpers.training import data

TINY_TRAIN, TINY_TEST = 128, 64  # --tiny: a slice of the data, for tests that must take seconds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("t2t", "patch"), default="t2t", help="which tiny model")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64, help="images per process per step")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--tiny", action="store_true", help=f"train on {TINY_TRAIN} images, test on {TINY_TEST}")
    parser.add_argument("--out", type=Path, default=None, help="folder for rank{R}.pt and rank{R}.json")
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.warmup_epochs >= args.epochs:
        args.warmup_epochs = 0  # a one-epoch run has no room for a warmup
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1:
        dist.init_process_group(backend="gloo")  # CPU; use "nccl" on GPUs

    training.seed_everything(args.seed)  # same seed on every rank: same initial weights
    training.make_deterministic(args.threads)
    split = data.load_digit_split(seed=args.seed)
    train_images, train_labels = split.train_images, split.train_labels
    test_images, test_labels = split.test_images, split.test_labels
    if args.tiny:
        train_images, train_labels = train_images[:TINY_TRAIN], train_labels[:TINY_TRAIN]
        test_images, test_labels = test_images[:TINY_TEST], test_labels[:TINY_TEST]

    build = training.tiny_t2t_vit if args.model == "t2t" else training.tiny_patch_vit
    model = build(img_size=split.image_size)
    optimizer = training.make_optimizer(model, args.lr, args.weight_decay)  # on the unwrapped model
    net = DistributedDataParallel(model) if world_size > 1 else model

    dataset = TensorDataset(train_images, train_labels)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, num_workers=0)
    steps = len(loader)
    scheduler = training.warmup_cosine(optimizer, args.epochs * steps, args.warmup_epochs * steps)

    width = len(str(args.epochs))
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        desc = f"{args.model} x{world_size} epoch {epoch:>{width}}/{args.epochs}"
        bar = training.progress(steps, desc, disable=rank != 0)
        loss = torch.tensor(training.train_one_epoch(net, loader, optimizer, scheduler, bar))
        if world_size > 1:
            dist.all_reduce(loss)  # each rank saw its own shard: average their losses
            loss /= world_size
        acc = training.accuracy(model, test_images, test_labels)
        bar.set_postfix_str(f"loss {loss.item():.3f}, test acc {acc:.1%}", refresh=False)
        bar.close()

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), args.out / f"rank{rank}.pt")
        summary = {
            "rank": rank,
            "world_size": world_size,
            "digest": training.state_digest(model),
            "train_loss": round(loss.item(), 6),
            "test_acc": acc,
        }
        (args.out / f"rank{rank}.json").write_text(json.dumps(summary, indent=1))
    if world_size > 1:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
