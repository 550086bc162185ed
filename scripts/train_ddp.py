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

After every epoch rank 0 saves a checkpoint (``--checkpoint PATH``, written atomically): the
weights, the optimiser, the learning-rate schedule, the epoch, and the states of every random
number generator (torch, NumPy, Python, the data loader's) and of the sampler. ``--resume PATH``
continues from one and ends with exactly the weights of a run that was never interrupted;
``--auto-resume`` does the same from ``--checkpoint`` if it exists, for restarts under
``torchrun --max-restarts`` (see docs/distributed_training.md).

A new run never replaces a checkpoint that another run saved with other settings (or a file
that is not one of this script's checkpoints): it stops at start-up and says what to do, unless
``--overwrite`` is given. Every path is checked before any training, and the temporary files
that a killed write left beside the checkpoint (``.NAME.XXXXXXXX.tmp``) are removed at start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from helpers import checks, training  # noqa: E402
from helpers.atomic import atomic_write, remove_stale_temporaries, write_bytes_atomically  # noqa: E402
from helpers.timm.checkpoint import sniff_file  # noqa: E402
from helpers.training import data  # noqa: E402

TINY_TRAIN, TINY_TEST = 128, 64  # --tiny: a slice of the data, for tests that must take seconds
CHECKPOINT = Path("checkpoints/train_ddp.pt")  # the default --checkpoint
FORMAT = "t2t-vit-explained/train_ddp/1"  # what a checkpoint of this script says it is
# Settings a resumed run must share with the run it continues, or it would not continue it exactly.
SAME_ON_RESUME = ("model", "epochs", "batch_size", "lr", "weight_decay", "warmup_epochs", "seed", "tiny", "world_size")
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # --timeout: a week; more is a typo (and overflows timedelta far beyond)
MAX_THREADS = 1024
SAME_SETTINGS = "resume with the same settings and the same number of processes"


class UsageError(ValueError):
    """A bad flag, or a checkpoint that this run cannot continue: reported in one line, exit status 2."""


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
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help=f"where rank 0 saves the training state after every epoch (default: the --resume file, else {CHECKPOINT})",
    )
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument("--resume", type=Path, default=None, metavar="PATH", help="continue from this checkpoint")
    resume.add_argument(
        "--auto-resume",
        action="store_true",
        help="continue from --checkpoint if it exists, else start at epoch 1 (for torchrun --max-restarts)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh even if --checkpoint holds another run's checkpoint (with other settings) or another file",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a process waits for the others, at start-up and in every collective (default: %(default)s)",
    )
    parser.add_argument(
        "--crash-after-epoch",
        type=int,
        default=None,
        metavar="K",
        help="for testing restarts: the last rank exits with status 1 right after the checkpoint of epoch K, "
        "on the first attempt only ($TORCHELASTIC_RESTART_COUNT unset or 0)",
    )
    args = parser.parse_args(argv)
    try:  # argparse made the types; helpers.checks checks the values, before any work
        for name in ("epochs", "batch_size"):
            flag = "--" + name.replace("_", "-")
            checks.positive_int(flag, getattr(args, name), f"{flag} 1")
        checks.int_in_range("--threads", args.threads, 1, MAX_THREADS, "--threads 1")
        checks.non_negative_int("--warmup-epochs", args.warmup_epochs, "--warmup-epochs 1")
        checks.positive_float("--lr", args.lr, "--lr 2e-3")
        checks.real_number("--weight-decay", args.weight_decay, 0.0, include_low=True, example="--weight-decay 0.05")
        checks.random_seed("--seed", args.seed)
        checks.real_number("--timeout", args.timeout, 0.0, MAX_TIMEOUT_S, example="--timeout 60 (seconds)")
        if args.crash_after_epoch is not None:
            if args.epochs < 2:
                raise ValueError("--crash-after-epoch needs --epochs 2 or more: the run must go on after the crash")
            checks.int_in_range(
                "--crash-after-epoch", args.crash_after_epoch, 1, args.epochs - 1, "--crash-after-epoch 1"
            )
        if args.resume is not None:
            hint = "Give the path of a checkpoint this script saved"
            checks.existing_file("--resume", args.resume, "checkpoint for --resume", hint)
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    if args.checkpoint is None:
        args.checkpoint = args.resume or CHECKPOINT
    if args.warmup_epochs >= args.epochs:
        args.warmup_epochs = 0  # a one-epoch run has no room for a warmup
    return args


def _writable_folder(flag: str, folder: Path) -> None:
    """Refuse ``folder`` unless it is, or can be made as, a writable folder; creates nothing."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag}: cannot write to {str(folder)!r}: {str(existing)!r} is a file, not a folder")
    try:  # a probe that leaves nothing behind: a file in the folder, or a folder in its nearest existing parent
        with tempfile.TemporaryFile(dir=existing) if existing == folder else tempfile.TemporaryDirectory(dir=existing):
            pass
    except OSError as err:
        raise UsageError(
            f"{flag}: cannot write to {str(folder)!r}: {err.strerror or type(err).__name__} in {str(existing)!r}; "
            "pick a folder you can write to"
        ) from None


def check_paths(args: argparse.Namespace, config: dict[str, object]) -> None:
    """Check every path before any training: the checkpoint and --out can be written, and the
    checkpoint file is not another run's (unless --overwrite, or this run continues it)."""
    target = args.checkpoint
    if target.is_dir():
        raise UsageError(f"--checkpoint {target} is a folder; give a file path such as {target / 'train_ddp.pt'}")
    _writable_folder("--checkpoint", target.parent)
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"--checkpoint {target} exists and is not writable; pick another path")
    if args.out is not None:
        if args.out.exists() and not args.out.is_dir():
            raise UsageError(f"--out {args.out} is a file; give a folder for rank{{R}}.pt and rank{{R}}.json")
        _writable_folder("--out", args.out)
    continues = (args.resume is not None and target.exists() and args.resume.resolve() == target.resolve()) or (
        args.auto_resume and target.is_file()
    )
    if args.overwrite or continues or not target.exists():
        return
    try:
        load_checkpoint(target, config)
    except UsageError as err:
        what = str(err).removeprefix(f"cannot resume from {target}: ").removesuffix(f"; {SAME_SETTINGS}")
        raise UsageError(
            f"--checkpoint {target} already exists and this run would replace it: {what}. Pass "
            "--checkpoint NEW_PATH to keep it, --resume with that file to continue it, or --overwrite to replace it"
        ) from None


def settings(args: argparse.Namespace, world_size: int) -> dict[str, object]:
    """The run's settings as plain values, stored in every checkpoint."""
    return {**{name: getattr(args, name) for name in SAME_ON_RESUME if name != "world_size"}, "world_size": world_size}


def numpy_rng_state() -> dict[str, object]:
    """NumPy's global generator state as a tensor and plain numbers (loadable with weights_only=True)."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }


def set_numpy_rng_state(state: dict[str, object]) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state((state["name"], keys, state["pos"], state["has_gauss"], state["cached_gaussian"]))


def training_state(epoch, model, optimizer, scheduler, sampler, generator, config, history) -> dict[str, object]:
    """Everything needed to continue after ``epoch`` exactly as if the run had never stopped."""
    return {
        "format": FORMAT,
        "epoch": epoch,  # epochs completed
        "settings": config,
        "history": history,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "sampler": {"seed": sampler.seed, "epoch": sampler.epoch},
        "rng": {
            "torch": torch.get_rng_state(),
            "numpy": numpy_rng_state(),
            "python": random.getstate(),
            "loader": generator.get_state(),
        },
    }


def save_checkpoint(state: dict[str, object], path: Path) -> None:
    """Write ``state`` to a temporary file beside ``path``, then move it into place at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        torch.save(state, f)


def load_checkpoint(path: Path, config: dict[str, object]) -> dict[str, object]:
    """Read a checkpoint of this script (tensors and plain values only) and check it fits ``config``."""
    problem = sniff_file(path)
    if problem is not None:  # empty, HTML, truncated, compressed entries (a memory bomb), ...
        raise UsageError(f"cannot resume from {path}: it is not a checkpoint saved by this script ({problem})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, not a torch file, or holding objects weights_only refuses
        raise UsageError(
            f"cannot resume from {path}: it is not a checkpoint saved by this script ({type(err).__name__}); "
            "give the --checkpoint file of an earlier run"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT or not isinstance(state.get("settings"), dict):
        raise UsageError(f"cannot resume from {path}: it is not a checkpoint saved by this script")
    saved = state["settings"]
    differ = [
        f"{saved.get(name)} processes (this run: {config[name]})"
        if name == "world_size"
        else f"--{name.replace('_', '-')} {saved.get(name)!r} (this run: {config[name]!r})"
        for name in SAME_ON_RESUME
        if saved.get(name) != config[name]
    ]
    if differ:
        raise UsageError(f"cannot resume from {path}: it was saved by a run with {', '.join(differ)}; " + SAME_SETTINGS)
    return state


def restore(state, model, optimizer, scheduler, sampler, generator, path: Path | None = None) -> None:
    """Put every piece of ``state`` back, or raise :class:`UsageError` saying which piece does not fit."""
    try:
        weights = state["model"]
        bad = [name for name, value in weights.items() if value.is_floating_point() and not value.isfinite().all()]
        if bad:
            raise UsageError(
                f"cannot resume from {path}: its weights hold NaN or infinite values ({', '.join(bad[:3])}); "
                "the run that saved it had diverged. Resume from an earlier checkpoint, or start afresh with a "
                "smaller --lr"
            )
        _restore(state, model, optimizer, scheduler, sampler, generator)
    except UsageError:
        raise
    except (KeyError, AttributeError, TypeError, ValueError, RuntimeError, IndexError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(
            f"cannot resume from {path}: its weights or training state do not fit this run's "
            f"{model.__class__.__name__} ({type(err).__name__}: {first[:200]}); it was saved by another version of "
            "this script or changed since. Start afresh with --checkpoint NEW_PATH, or --overwrite"
        ) from None


def _restore(state, model, optimizer, scheduler, sampler, generator) -> None:
    """Put every piece of ``state`` back; the random generators last, after everything is built."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if state["sampler"]["seed"] != sampler.seed:
        raise UsageError(f"checkpoint sampler seed {state['sampler']['seed']} != --seed {sampler.seed}")
    sampler.set_epoch(state["sampler"]["epoch"])
    generator.set_state(state["rng"]["loader"])
    torch.set_rng_state(state["rng"]["torch"])
    set_numpy_rng_state(state["rng"]["numpy"])
    version, internal, gauss = state["rng"]["python"]
    random.setstate((version, tuple(internal), gauss))


def start_process_group(world_size: int, rank: int, timeout_s: float) -> None:
    """Join the other processes (``MASTER_ADDR``, ``MASTER_PORT``); fail after ``timeout_s`` if one never comes.

    torchrun keeps one key-value store for all attempts of a job, so the process group of a
    restarted attempt would find the addresses that the failed attempt's processes left there
    and try to connect to them. Each attempt therefore uses keys of its own
    (``$TORCHELASTIC_RESTART_COUNT``). Under torchrun its agent serves the store; in a manual
    launch rank 0 does.
    """
    if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
        raise UsageError(
            f"WORLD_SIZE={world_size} but MASTER_ADDR or MASTER_PORT is not set; start the processes with "
            "torchrun, or set MASTER_ADDR and MASTER_PORT (rank 0's address and a free port) for every process"
        )
    timeout = timedelta(seconds=timeout_s)
    agent_serves = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    try:
        store = dist.TCPStore(
            os.environ["MASTER_ADDR"],
            int(os.environ["MASTER_PORT"]),
            world_size,
            is_master=rank == 0 and not agent_serves,
            timeout=timeout,
        )
        store = dist.PrefixStore(f"train_ddp/attempt_{attempt}", store)
        dist.init_process_group(
            backend="gloo", store=store, rank=rank, world_size=world_size, timeout=timeout
        )  # CPU; "nccl" on GPUs
    except RuntimeError as err:  # DistStoreError, DistNetworkError, ...: all RuntimeErrors
        raise SystemExit(
            f"train_ddp.py: not all {world_size} processes joined within --timeout {timeout_s:g} s "
            f"({type(err).__name__}). Check that every process was started and can reach "
            f"MASTER_ADDR={os.environ['MASTER_ADDR']} MASTER_PORT={os.environ['MASTER_PORT']}, "
            "or raise --timeout if they start slowly."
        ) from None


def train(args: argparse.Namespace, world_size: int, rank: int) -> None:
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

    dataset = TensorDataset(train_images, train_labels)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)
    generator = torch.Generator().manual_seed(args.seed)  # the loader's own, saved with the checkpoint
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, num_workers=0, generator=generator)
    steps = len(loader)
    scheduler = training.warmup_cosine(optimizer, args.epochs * steps, args.warmup_epochs * steps)

    config = settings(args, world_size)
    resume = args.resume or (args.checkpoint if args.auto_resume and args.checkpoint.is_file() else None)
    history, done = [], 0
    if resume is not None:
        state = load_checkpoint(resume, config)
        restore(state, model, optimizer, scheduler, sampler, generator, resume)
        history, done = list(state["history"]), state["epoch"]
        if rank == 0:
            print(f"resumed from {resume} after epoch {done}/{args.epochs}", flush=True)
    net = DistributedDataParallel(model) if world_size > 1 else model  # after loading: all ranks agree

    width = len(str(args.epochs))
    for epoch in range(done + 1, args.epochs + 1):
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
        history.append({"epoch": epoch, "train_loss": round(loss.item(), 6), "test_acc": acc})
        if rank == 0:
            state = training_state(epoch, model, optimizer, scheduler, sampler, generator, config, history)
            save_checkpoint(state, args.checkpoint)
        if world_size > 1:
            dist.barrier()  # nobody starts the next epoch before this one's checkpoint is complete
        crash = args.crash_after_epoch == epoch and os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"
        if crash and rank == world_size - 1:
            print(f"rank {rank}: crashing after epoch {epoch}, as --crash-after-epoch asks", flush=True)
            os._exit(1)

    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        with atomic_write(args.out / f"rank{rank}.pt") as f:
            torch.save(model.state_dict(), f)
        summary = {
            "rank": rank,
            "world_size": world_size,
            "digest": training.state_digest(model),
            "train_loss": history[-1]["train_loss"],
            "test_acc": history[-1]["test_acc"],
            "resumed_after_epoch": done,
        }
        write_bytes_atomically(args.out / f"rank{rank}.json", json.dumps(summary, indent=1).encode())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    try:
        check_paths(args, settings(args, world_size))  # before any process group or training
        if rank == 0:
            for tmp in remove_stale_temporaries(args.checkpoint):
                print(f"removed {tmp}, left by a write that was killed", flush=True)
        if args.out is not None:
            for name in (f"rank{rank}.pt", f"rank{rank}.json"):
                remove_stale_temporaries(args.out / name)
        if world_size > 1:
            start_process_group(world_size, rank, args.timeout)
        train(args, world_size, rank)
    except UsageError as err:
        print(f"train_ddp.py: error: {err}", file=sys.stderr)
        return 2
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
