"""scripts/train_ddp.py under torchrun: 2 CPU processes (gloo) stay in sync, match 1 process,
save a checkpoint every epoch, and a run that crashed and resumed ends with the very same weights.

Every run writes only below ``tmp_path`` (its outputs, its checkpoint, and torchrun's own
temporary files, through ``TMPDIR``).
"""

from __future__ import annotations

import importlib.util
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
TIMEOUT_S = 300  # a guard against a hang, far above what a run takes
EPOCHS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(nproc: int = 2, max_restarts: int = 0) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={nproc}",
        f"--max-restarts={max_restarts}",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{free_port()}",
    ]


def run(launcher: list[str], folder: Path, *flags: str, ok: bool = True, env: dict | None = None):
    """Run the script on the tiny data with its checkpoint in ``folder``; check its exit status."""
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(folder / "tmp"), **(env or {})}
    cmd = [*launcher, str(SCRIPT), "--tiny", "--epochs", str(EPOCHS), "--checkpoint", str(folder / "ckpt.pt"), *flags]
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    output = f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (done.returncode == 0) == ok, output
    return done


def summary(out: Path, rank: int = 0) -> dict:
    return json.loads((out / f"rank{rank}.json").read_text())


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """2 processes x 16 images per step, EPOCHS epochs without a break."""
    folder = tmp_path_factory.mktemp("straight")
    run(torchrun(), folder, "--batch-size", "16", "--out", str(folder / "out"))
    return folder


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    """1 process x 32 images per step, no torchrun."""
    folder = tmp_path_factory.mktemp("single")
    run([sys.executable], folder, "--batch-size", "32", "--out", str(folder / "out"))
    return folder


def load_weights(out: Path, rank: int = 0) -> dict[str, torch.Tensor]:
    return torch.load(out / f"rank{rank}.pt", weights_only=True)


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_both_ranks_end_with_identical_weights(straight):
    out = straight / "out"
    summaries = [summary(out, r) for r in (0, 1)]
    assert [s["world_size"] for s in summaries] == [2, 2]
    assert summaries[0]["digest"] == summaries[1]["digest"]
    assert_same_weights(load_weights(out, 0), load_weights(out, 1))


def test_two_ranks_match_one_process_with_twice_the_batch(straight, single):
    """DDP averages gradients, so 2 x 16 images per step equals 1 x 32 (up to float rounding)."""
    assert summary(single / "out")["world_size"] == 1
    two, one = load_weights(straight / "out"), load_weights(single / "out")
    training.seed_everything(0)
    start = training.tiny_t2t_vit().state_dict()
    moved = max((one[k] - start[k]).abs().max().item() for k in one)
    assert moved > 1e-3  # training really changed the weights, so the comparison means something
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=0, atol=1e-5, msg=key)


def test_checkpoint_holds_the_whole_training_state(straight):
    state = torch.load(straight / "ckpt.pt", weights_only=True)  # tensors and plain values only
    assert state["epoch"] == EPOCHS
    assert state["settings"]["world_size"] == 2 and state["settings"]["epochs"] == EPOCHS
    assert [h["epoch"] for h in state["history"]] == list(range(1, EPOCHS + 1))
    assert_same_weights(state["model"], load_weights(straight / "out"))
    assert state["optimizer"]["state"], "AdamW's moments are saved"
    steps = 128 // (2 * 16)  # --tiny: 128 images, 2 processes x 16 per step
    assert state["scheduler"]["last_epoch"] == EPOCHS * steps
    assert state["sampler"] == {"seed": 0, "epoch": EPOCHS}
    assert set(state["rng"]) == {"torch", "numpy", "python", "loader"}
    assert state["rng"]["torch"].dtype == torch.uint8 and state["rng"]["loader"].dtype == torch.uint8
    # Rank 0 wrote it atomically: no temporary file is left beside it.
    assert sorted(p.name for p in straight.iterdir()) == ["ckpt.pt", "out", "tmp"]


def test_resume_after_a_crash_gives_the_same_final_weights(straight, tmp_path):
    """Epoch 1, crash, then --resume to the end: the weights equal the run that never stopped."""
    crashed = run(torchrun(), tmp_path, "--batch-size", "16", "--crash-after-epoch", "1", ok=False)
    assert "crashing after epoch 1" in crashed.stdout + crashed.stderr
    assert torch.load(tmp_path / "ckpt.pt", weights_only=True)["epoch"] == 1
    out = tmp_path / "out"
    resumed = run(torchrun(), tmp_path, "--batch-size", "16", "--resume", str(tmp_path / "ckpt.pt"), "--out", str(out))
    assert f"resumed from {tmp_path / 'ckpt.pt'} after epoch 1/{EPOCHS}" in resumed.stdout
    assert summary(out)["resumed_after_epoch"] == 1
    assert summary(out)["digest"] == summary(out, 1)["digest"] == summary(straight / "out")["digest"]
    assert_same_weights(load_weights(out), load_weights(straight / "out"))
    assert summary(out)["train_loss"] == summary(straight / "out")["train_loss"]


def test_torchrun_restart_resumes_by_itself(straight, tmp_path):
    """Under torchrun --max-restarts=1, a worker that dies is restarted and --auto-resume continues."""
    out = tmp_path / "out"
    flags = ("--batch-size", "16", "--auto-resume", "--crash-after-epoch", "1", "--out", str(out))
    done = run(torchrun(max_restarts=1), tmp_path, *flags)
    assert "crashing after epoch 1" in done.stdout + done.stderr
    assert summary(out)["resumed_after_epoch"] == 1
    assert summary(out)["digest"] == summary(straight / "out")["digest"]


def test_dead_peer_at_start_up_fails_within_the_timeout(tmp_path):
    """A manual env:// launch whose second process never starts stops after --timeout seconds."""
    env = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1"}
    env["MASTER_PORT"] = str(free_port())
    done = run([sys.executable], tmp_path, "--timeout", "2", ok=False, env=env)
    assert "not all 2 processes joined within --timeout 2 s" in done.stderr
    assert not (tmp_path / "ckpt.pt").exists()


# --- checkpoint checks, in this process ------------------------------------------------------


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("train_ddp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resume_refuses_a_run_with_other_settings(script, straight):
    args = script.parse_args(["--tiny", "--epochs", str(EPOCHS), "--batch-size", "16", "--lr", "0.001"])
    with pytest.raises(script.UsageError, match=r"--lr 0\.002 \(this run: 0\.001\).*2 processes \(this run: 1\)"):
        script.load_checkpoint(straight / "ckpt.pt", script.settings(args, world_size=1))


@pytest.mark.parametrize(
    "content",
    [b"", b"<!DOCTYPE html><html>404</html>", b"PK\x03\x04 truncated zip"],
    ids=["empty", "html", "truncated"],
)
def test_resume_refuses_files_that_are_not_checkpoints(script, tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    config = script.settings(script.parse_args(["--tiny"]), world_size=1)
    with pytest.raises(script.UsageError, match="not a checkpoint saved by this script"):
        script.load_checkpoint(path, config)


def test_resume_refuses_another_torch_file(script, tmp_path):
    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    config = script.settings(script.parse_args(["--tiny"]), world_size=1)
    with pytest.raises(script.UsageError, match="not a checkpoint saved by this script"):
        script.load_checkpoint(tmp_path / "other.pt", config)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--timeout", "0"], "--timeout must be a finite number > 0"),
        (["--epochs", "3", "--crash-after-epoch", "3"], "--crash-after-epoch must be a whole number from 1 to 2"),
        (["--epochs", "1", "--crash-after-epoch", "1"], "--crash-after-epoch needs --epochs 2 or more"),
        (["--resume", "no/such/ckpt.pt"], "no checkpoint for --resume at 'no/such/ckpt.pt'"),
        (["--epochs", "0"], "--epochs must be a positive integer"),
        (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295"),
        (["--lr", "-0.1"], "--lr must be a finite number > 0"),
    ],
)
def test_bad_flags_are_refused(script, capsys, flags, message):
    with pytest.raises(SystemExit):
        script.parse_args(flags)
    assert message in capsys.readouterr().err


def test_a_manual_launch_without_master_addr_says_what_to_set(script, monkeypatch):
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(script.UsageError, match="MASTER_ADDR or MASTER_PORT is not set.*torchrun"):
        script.start_process_group(world_size=2, rank=0, timeout_s=1)


def test_checkpoint_path_defaults_to_the_resumed_file(script, tmp_path):
    (tmp_path / "old.pt").write_bytes(b"")
    assert script.parse_args([]).checkpoint == Path("checkpoints/train_ddp.pt")
    assert script.parse_args(["--resume", str(tmp_path / "old.pt")]).checkpoint == tmp_path / "old.pt"
    flags = ["--resume", str(tmp_path / "old.pt"), "--checkpoint", str(tmp_path / "new.pt")]
    assert script.parse_args(flags).checkpoint == tmp_path / "new.pt"


# --- runs never destroy each other; paths are checked at start-up (issue 22) ---------------------


def refused(script, capsys, monkeypatch, *flags: str) -> str:
    """Run ``main`` in this process; it must stop with status 2 before any training. Returns its stderr."""

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the refusal")

    monkeypatch.setattr(script, "train", no_training)
    assert script.main(["--tiny", "--epochs", str(EPOCHS), *flags]) == 2
    return capsys.readouterr().err


def test_a_new_run_refuses_to_replace_a_checkpoint_saved_with_other_settings(script, straight, capsys, monkeypatch):
    before = (straight / "ckpt.pt").read_bytes()
    err = refused(script, capsys, monkeypatch, "--checkpoint", str(straight / "ckpt.pt"), "--lr", "0.001")
    assert "already exists and this run would replace it" in err
    assert "--lr 0.002 (this run: 0.001)" in err and "--overwrite" in err
    assert (straight / "ckpt.pt").read_bytes() == before


@pytest.mark.parametrize("content", [b"my own notes", b""], ids=["text", "empty"])
def test_a_new_run_refuses_to_replace_a_file_that_is_not_a_checkpoint(script, tmp_path, capsys, monkeypatch, content):
    (tmp_path / "ckpt.pt").write_bytes(content)
    err = refused(script, capsys, monkeypatch, "--checkpoint", str(tmp_path / "ckpt.pt"))
    assert "not a checkpoint saved by this script" in err and "--overwrite" in err
    assert (tmp_path / "ckpt.pt").read_bytes() == content


def test_overwrite_replaces_another_runs_checkpoint(tmp_path):
    (tmp_path / "ckpt.pt").write_bytes(b"my own notes")
    run([sys.executable], tmp_path, "--batch-size", "64", "--overwrite")
    assert torch.load(tmp_path / "ckpt.pt", weights_only=True)["epoch"] == EPOCHS


@pytest.mark.parametrize(
    "where, words",
    [
        ("a_file/ckpt.pt", "is a file, not a folder"),
        ("folder", "is a folder; give a file path"),
        ("/proc/t2t-vit-explained/ckpt.pt", "cannot write to '/proc/t2t-vit-explained'"),
    ],
)
def test_an_unwritable_checkpoint_is_refused_at_start_up(script, tmp_path, capsys, monkeypatch, where, words):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    assert words in refused(script, capsys, monkeypatch, "--checkpoint", where)


def test_an_out_path_that_is_a_file_is_refused_at_start_up(script, tmp_path, capsys, monkeypatch):
    (tmp_path / "out").write_text("x")
    flags = ("--checkpoint", str(tmp_path / "ckpt.pt"), "--out", str(tmp_path / "out"))
    assert "--out" in refused(script, capsys, monkeypatch, *flags)


def test_temporary_files_of_a_killed_write_are_removed_at_the_next_start(tmp_path):
    stale = tmp_path / ".ckpt.pt.k1ll3d00.tmp"
    stale.write_bytes(b"\0" * 1000)  # what a SIGKILL mid-write leaves behind
    other = tmp_path / ".ckpt.pt.notmine.tmp"  # not the pattern of atomic_write: kept
    other.write_bytes(b"")
    done = run([sys.executable], tmp_path, "--batch-size", "64")
    assert f"removed {stale}" in done.stdout
    assert not stale.exists() and other.exists()


def test_a_write_killed_with_sigkill_leaves_a_temporary_file_that_the_next_start_removes(tmp_path):
    """A real SIGKILL in the middle of atomic_write: the old file is intact, the temporary file is found."""
    from helpers.atomic import atomic_write, stale_temporaries

    target = tmp_path / "ckpt.pt"
    target.write_bytes(b"old")
    code = (
        "import os, signal, sys; sys.path.insert(0, sys.argv[2]); from helpers.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n"
        "    f.write(b'new' * 1000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(target), str(ROOT)], capture_output=True)
    assert done.returncode == -9
    assert target.read_bytes() == b"old"
    (tmp,) = stale_temporaries(target)
    assert tmp.stat().st_size == 3000
    with atomic_write(target) as f:  # a write in progress is not stale to itself: only its leftovers are
        assert stale_temporaries(target) == sorted([tmp, Path(f.name)])
        f.write(b"x")


def altered_checkpoint(straight: Path, tmp_path: Path, change) -> Path:
    """The straight run's checkpoint, made loadable by one process (world_size 1), then ``change(state)``."""
    state = torch.load(straight / "ckpt.pt", weights_only=True)
    state["settings"]["world_size"] = 1
    change(state)
    torch.save(state, tmp_path / "ckpt.pt")
    return tmp_path / "ckpt.pt"


def test_a_resume_file_with_the_right_settings_but_other_shapes_is_refused_in_one_line(straight, tmp_path):
    def widen(state):
        state["model"]["backbone.head.weight"] = torch.zeros(11, 64)

    path = altered_checkpoint(straight, tmp_path, widen)
    done = run([sys.executable], tmp_path, "--batch-size", "16", "--resume", str(path), ok=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot resume from {path}: its weights or training state do not fit" in done.stderr


def test_a_resume_file_with_nan_weights_is_refused(straight, tmp_path):
    def spoil(state):
        state["model"]["backbone.head.weight"][0, 0] = float("nan")

    path = altered_checkpoint(straight, tmp_path, spoil)
    done = run([sys.executable], tmp_path, "--batch-size", "16", "--resume", str(path), ok=False)
    assert "NaN or infinite values (backbone.head.weight)" in done.stderr and "Traceback" not in done.stderr


def test_a_resume_file_with_compressed_entries_is_refused_before_reading_them(script, straight, tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(straight / "ckpt.pt") as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    config = script.settings(script.parse_args(["--tiny", "--epochs", str(EPOCHS), "--batch-size", "16"]), 2)
    with pytest.raises(script.UsageError, match="not a checkpoint saved by this script"):
        script.load_checkpoint(bomb, config)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--lr", "-1"], "--lr must be a finite number > 0"),
        (["--lr", "nan"], "--lr must be a finite number > 0"),
        (["--seed", "-1"], "--seed must be a whole number from 0"),
        (["--timeout", "1e300"], "--timeout must be a finite number > 0 and < 604800"),
        (["--threads", "100000000000"], "--threads must be a whole number from 1 to 1024"),
        (["--weight-decay", "inf"], "--weight-decay must be a finite number"),
    ],
)
def test_bad_numbers_end_in_one_line_not_a_traceback(flags, message, tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), *flags], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
