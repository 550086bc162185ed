"""Files that are not checkpoints, and checkpoints that claim too much, get a plain ValueError.

Every file is made here in ``tmp_path``: an HTML page, an empty file, a truncated archive, random
bytes, pickles of a list or a tensor, and tiny files whose tensors *claim* huge shapes (an
expanded view saves only its small storage). Both loading paths are tried: the helpers'
``load_checkpoint_file`` and timm's ``create_model(..., pretrained=True)``.
"""

from __future__ import annotations

import io
import random
import warnings

import pytest
import timm
import torch

import helpers  # noqa: F401  (registers the variants)
from helpers.model.backbone import sinusoid_table
from helpers.timm import checkpoint as ckpt
from helpers.timm.checkpoint import checkpoint_filter_fn, load_checkpoint_file

torch.set_num_threads(1)

# torch's refusal text advises re-running with weights_only=False; it must never reach the user.
ADVICE = ("weights_only=False", "`weights_only` set to `False`", "weights_only` argument")


def both_paths(path) -> list[str]:
    """The ValueError messages of the helpers' loader and of timm's pretrained path for ``path``."""
    messages = []
    with pytest.raises(ValueError) as info:
        load_checkpoint_file(path)
    messages.append(str(info.value))
    with pytest.raises(ValueError) as info:
        timm.create_model("t2t_vit_7", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    messages.append(str(info.value))
    for message in messages:
        assert not any(advice in message for advice in ADVICE), message
    return messages


def saved_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_html_page_saved_as_a_checkpoint(tmp_path):
    path = tmp_path / "81.7_T2T_ViTt_14.pth.tar"
    path.write_text("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please log in</body></html>\n")
    for message in both_paths(path):
        assert "is an HTML page" in message and "download probably failed" in message
        assert "could run code" not in message


def test_html_page_with_leading_whitespace_and_bom(tmp_path):
    path = tmp_path / "page.pth"
    path.write_bytes(b"\xef\xbb\xbf  \n<html><body>404</body></html>")
    assert all("HTML page" in m for m in both_paths(path))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pth.tar"
    path.write_bytes(b"")
    assert all("is empty (0 bytes)" in m for m in both_paths(path))


def test_truncated_zip_archive(tmp_path):
    data = saved_bytes({"state_dict": {"cls_token": torch.zeros(1, 1, 256)}})
    assert data.startswith(b"PK\x03\x04")  # torch.save writes a zip archive
    path = tmp_path / "cut.pth.tar"
    path.write_bytes(data[: len(data) // 2])
    assert all("damaged or truncated zip archive" in m for m in both_paths(path))


def test_zip_archive_that_is_not_a_checkpoint(tmp_path):
    import zipfile

    path = tmp_path / "notes.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert all("holds no data.pkl" in m for m in both_paths(path))


def test_random_bytes(tmp_path):
    rng = random.Random(0)
    path = tmp_path / "noise.pth"
    path.write_bytes(bytes([0x01, 0x9F]) + bytes(rng.randrange(256) for _ in range(2000)))
    assert all("is not a PyTorch checkpoint" in m and "01 9f" in m for m in both_paths(path))


def test_damaged_pickle_in_the_legacy_format(tmp_path):
    """Starts like a pickle (0x80), then garbage: torch's 'invalid load key' without its advice."""
    path = tmp_path / "legacy.pth"
    path.write_bytes(b"\x80\x02" + b"<html>" * 20)
    assert all("damaged or not a PyTorch checkpoint" in m for m in both_paths(path))


def test_git_lfs_pointer_and_other_text(tmp_path):
    lfs = tmp_path / "lfs.pth"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 87000000\n")
    assert all("Git LFS pointer" in m and "git lfs pull" in m for m in both_paths(lfs))
    text = tmp_path / "readme.pth"
    text.write_text("These are the T2T-ViT weights.\n")
    assert all("is a text file" in m for m in both_paths(text))


@pytest.mark.parametrize(
    "payload, words",
    [
        ([torch.zeros(3), torch.ones(2)], "holds a list, not a checkpoint"),
        (torch.zeros(4), "holds a Tensor, not a checkpoint"),
        ({1: torch.zeros(2)}, "keys must be parameter names"),
        ({"state_dict": {0: torch.zeros(1)}}, "'state_dict' entry of"),
        ({"state_dict_ema": [torch.zeros(1)], "epoch": 3}, "the 'state_dict_ema' entry of"),
    ],
)
def test_pickles_that_are_not_checkpoint_dicts(tmp_path, payload, words):
    path = tmp_path / "odd.pth.tar"
    torch.save(payload, path)
    assert all(words in m for m in both_paths(path))
    with pytest.raises(ValueError, match="not a checkpoint"):
        checkpoint_filter_fn(payload, timm.create_model("t2t_vit_7"))


def test_a_state_dict_overlay_that_is_not_a_dict():
    with pytest.raises(ValueError, match="holds a list"):
        timm.create_model("t2t_vit_7", pretrained=True, pretrained_cfg_overlay=dict(state_dict=[1, 2]))


@pytest.mark.parametrize("rows", [300_000, 4_000_000])
def test_huge_pos_embed_is_refused_before_any_table_is_built(tmp_path, monkeypatch, rows):
    """A few-KB file whose pos_embed claims ``rows`` rows: refused before the sinusoid is computed."""
    claimed = torch.zeros(1, 1, 256).expand(1, rows, 256)  # an expanded view: one row of storage
    path = tmp_path / "claims.pth.tar"
    torch.save({"state_dict": {"pos_embed": claimed, "cls_token": torch.zeros(1, 1, 256)}}, path)
    assert path.stat().st_size < 8 * 1024

    def no_table(*args, **kwargs):
        raise AssertionError("a sinusoid table was built for the claimed rows")

    monkeypatch.setattr(ckpt, "_is_sinusoid", no_table)
    model = timm.create_model("t2t_vit_7")
    limit = 1 + (4096 // 16) ** 2  # the official splits shrink each side 16-fold (4 x 2 x 2)
    assert ckpt.max_pos_rows(model) == limit
    for call in (
        lambda: checkpoint_filter_fn(load_checkpoint_file(path), model),
        lambda: timm.create_model("t2t_vit_7", pretrained=True, pretrained_cfg_overlay=dict(file=str(path))),
    ):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert f"pos_embed has {rows} rows" in message and f"at most {limit - 1} tokens" in message


def test_pos_embed_limit_is_at_least_the_models_own_table():
    from types import SimpleNamespace

    t2t = SimpleNamespace(kernels=(7, 3, 3), strides=(4, 2, 2), paddings=(2, 1, 1))
    huge = SimpleNamespace(tokens2token=t2t, num_tokens=10**6)  # a model bigger than 4096 x 4096
    assert ckpt.max_pos_rows(huge) == 10**6 + 1
    wide = SimpleNamespace(tokens2token=SimpleNamespace(kernels=(5000, 3, 3), strides=(1, 1, 1), paddings=(0, 0, 0)))
    wide.num_tokens = 7  # kernels too large for a 4096 image: only the model's own table counts
    assert ckpt.max_pos_rows(wide) == 8


def test_sinusoid_check_across_blocks():
    """The block-wise comparison agrees with sinusoid_table across a block boundary."""
    rows = ckpt._BLOCK + 900
    table = sinusoid_table(rows, 64)
    assert ckpt._is_sinusoid(table)
    changed = table.clone()
    changed[0, ckpt._BLOCK + 500, 7] += 1e-3
    assert not ckpt._is_sinusoid(changed)
    assert not ckpt._is_sinusoid(table.double() * float("nan"))
    assert not ckpt._is_sinusoid(table.to(torch.int64))


def test_large_genuine_table_loads_silently_and_changed_one_warns():
    sd = {"pos_embed": sinusoid_table(5000, 256)}
    model = timm.create_model("t2t_vit_7")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="missing from the checkpoint"):  # only the table is there
            checkpoint_filter_fn(sd, model)
    sd["pos_embed"] = sd["pos_embed"].clone()
    sd["pos_embed"][0, 4500] += 0.5
    with pytest.warns(UserWarning, match=r"sinusoid_table\(5000, 256\)"):
        with pytest.raises(ValueError, match="missing from the checkpoint"):
            checkpoint_filter_fn(sd, model)


def test_huge_claimed_weight_is_a_shape_mismatch_not_a_copy():
    """An official kqv weight claiming 3e10 values is reported, not reordered (which would copy it)."""
    sd = {"tokens_to_token.attention1.kqv.weight": torch.zeros(1, 1).expand(300_000, 100_000)}
    with pytest.raises(ValueError, match=r"attn.qkv.weight: checkpoint \(300000, 100000\)"):
        checkpoint_filter_fn(sd, timm.create_model("t2t_vit_7"))


def test_non_tensor_pos_embed_is_named():
    with pytest.raises(ValueError, match="pos_embed: not a tensor but list"):
        checkpoint_filter_fn({"pos_embed": [1, 2]}, timm.create_model("t2t_vit_7"))


def test_code_running_pickle_names_the_import_without_torchs_advice(tmp_path):
    import os

    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())  # harmless, and refused anyway

    path = tmp_path / "evil.pth.tar"
    torch.save({"state_dict": {}, "args": Payload()}, path)
    for message in both_paths(path):
        assert "refused to load" in message and f"it would import {os.getcwd.__module__}.getcwd" in message
        assert "could run code" in message
