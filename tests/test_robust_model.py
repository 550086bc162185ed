"""Bad input to the model's other doors gets a clear ValueError or TypeError before any work (issue 22).

Each case is refused by ``helpers.checks`` or the checkpoint loader; the truth is the message and
that nothing large was allocated (the refusals come back in well under a second).
"""

from __future__ import annotations

import math
import time
import zipfile

import pytest
import timm
import torch

import helpers
from helpers.timm.checkpoint import checkpoint_filter_fn, load_checkpoint_file

torch.set_num_threads(1)


def small():
    torch.manual_seed(0)
    return timm.create_model("t2t_vit_7", img_size=32, depth=2, num_classes=3).eval()


def test_a_huge_token_chan_is_refused_before_any_allocation():
    start = time.process_time()
    with pytest.raises(ValueError, match="token_chan"):
        helpers.T2TViT(token_chan=2**16)
    assert time.process_time() - start < 5  # the old code spent 93 s and 17 GB before refusing


def test_proj_weight_of_attention_is_size_checked():
    with pytest.raises(ValueError, match="the proj weight"):
        helpers.Attention(dim=4, chan=2**15)


@pytest.mark.parametrize("bad, error, words", [(-1, ValueError, "num_classes"), (2.5, TypeError, "num_classes")])
def test_reset_classifier_checks_the_class_count(bad, error, words):
    with pytest.raises(error, match=words):
        small().reset_classifier(bad)


@pytest.mark.parametrize(
    "indices, error, words",
    [
        (100, ValueError, "last 100 blocks, but there are 2"),
        ([0, 7], ValueError, "from -2 to 1"),
        ("0", TypeError, "indices must be an int"),
    ],
)
def test_forward_intermediates_names_bad_indices(indices, error, words):
    with pytest.raises(error, match=words):
        small().forward_intermediates(torch.zeros(1, 3, 32, 32), indices=indices)


def test_sinusoid_table_needs_whole_numbers():
    with pytest.raises(TypeError, match="num_rows must be a whole number"):
        helpers.sinusoid_table(3.5, 4)
    table = helpers.sinusoid_table(3, 4, first_row=2)
    assert math.isclose(table[0, 0, 0].item(), math.sin(2), rel_tol=1e-6)  # row 0 is position 2


def test_a_meta_picture_for_a_real_model_and_a_non_tensor_for_attention():
    with pytest.raises(ValueError, match="meta device"):
        small()(torch.zeros(1, 3, 32, 32, device="meta"))
    with pytest.raises(TypeError, match="tokens given to Attention must be a tensor"):
        helpers.Attention(4, 8)([[0.0] * 4])


def save(path, state):
    torch.save(state, path)
    return path


def test_a_compressed_checkpoint_is_refused_before_it_is_unpacked(tmp_path):
    plain = save(tmp_path / "plain.pth", {"w": torch.zeros(1000)})
    packed = tmp_path / "packed.pth"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    assert load_checkpoint_file(plain)["w"].shape == (1000,)
    with pytest.raises(ValueError, match="compressed entries"):
        load_checkpoint_file(packed)


def test_a_bytes_path_loads_like_a_str_path(tmp_path):
    path = save(tmp_path / "w.pth", {"w": torch.ones(2)})
    assert torch.equal(load_checkpoint_file(str(path).encode())["w"], torch.ones(2))
    with pytest.raises(TypeError, match="path must be a file path"):
        load_checkpoint_file(3)


def test_a_checkpoint_full_of_nan_is_refused():
    model = small()
    state = {name: torch.full_like(value, float("nan")) for name, value in model.state_dict().items()}
    with pytest.raises(ValueError, match="NaN or infinite values"):
        checkpoint_filter_fn(state, model)
    checkpoint_filter_fn(model.state_dict(), model)  # the model's own finite weights pass


def test_remote_weights_are_refused_with_what_to_do_instead():
    with pytest.raises(ValueError, match="download the file yourself.*file="):
        timm.create_model("t2t_vit_7", pretrained=True, pretrained_cfg_overlay=dict(url="https://example.org/w.pth"))
