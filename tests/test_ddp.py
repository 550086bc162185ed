"""scripts/train_ddp.py under torchrun: 2 CPU processes (gloo) stay in sync and match 1 process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import training

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_ddp.py"
TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(launcher: list[str], batch_size: int, out: Path) -> None:
    """Run the script under ``launcher`` for one epoch on the tiny data; fail with its output."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [*launcher, str(SCRIPT), "--epochs", "1", "--tiny", "--batch-size", str(batch_size), "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """The same tiny run twice: 2 processes x 16 images per step, and 1 process x 32 images."""
    ddp, single = tmp_path_factory.mktemp("ddp"), tmp_path_factory.mktemp("single")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}"]
    run(torchrun, 16, ddp)
    run([sys.executable], 32, single)  # no torchrun: one process
    return ddp, single


def test_both_ranks_end_with_identical_weights(runs):
    ddp, _ = runs
    summaries = [json.loads((ddp / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [s["world_size"] for s in summaries] == [2, 2]
    assert summaries[0]["digest"] == summaries[1]["digest"]
    rank0, rank1 = (torch.load(ddp / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key


def test_two_ranks_match_one_process_with_twice_the_batch(runs):
    """DDP averages gradients, so 2 x 16 images per step equals 1 x 32 (up to float rounding)."""
    ddp, single = runs
    assert json.loads((single / "rank0.json").read_text())["world_size"] == 1
    two, one = (torch.load(path / "rank0.pt", weights_only=True) for path in (ddp, single))
    training.seed_everything(0)
    start = training.tiny_t2t_vit().state_dict()
    moved = max((one[k] - start[k]).abs().max().item() for k in one)
    assert moved > 1e-3  # training really changed the weights, so the comparison means something
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=0, atol=1e-5, msg=key)
