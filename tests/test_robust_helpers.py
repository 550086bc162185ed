"""Issue 22 beyond the model's front door: hub look-ups, loading paths, the position table, training checks.

The property-based side is in tests/test_fuzz_helpers.py; these are the named cases of the issue.
"""

from __future__ import annotations

import importlib.util
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from timm.models import PretrainedCfg

import helpers
from helpers import training
from helpers.figures import coverage, pipeline, plotting, reconstruction
from helpers.timm import hub
from helpers.timm.checkpoint import load_checkpoint_file

ROOT = Path(__file__).resolve().parents[1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: connections are refused


# ---- a timm hub id without a network fails fast, naming HF_HUB_OFFLINE -------------------------------


@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """A hub that refuses connections (a closed port on this machine) and an empty Hugging Face cache."""
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


def test_a_hub_id_that_cannot_be_reached_fails_at_once_naming_hf_hub_offline(no_hub):
    start = time.monotonic()
    with pytest.raises(hub.HubUnreachableError, match=r"cannot reach .* Set HF_HUB_OFFLINE=1"):
        timm.create_model("hf-hub:someone/some_model", pretrained=True)
    assert time.monotonic() - start < hub.PROBE_S + 2  # timm alone retried for 26-48 s


def test_a_hub_id_in_offline_mode_fails_at_once_with_what_to_do(no_hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.HubUnreachableError, match=r"HF_HUB_OFFLINE is set .* not in the local Hugging Face cache"):
        timm.create_model("hf-hub:someone/some_model")


def test_a_cached_hub_id_goes_on_to_timm(no_hub, monkeypatch):
    monkeypatch.setattr(hub, "_cached", lambda model_id: True)
    monkeypatch.setattr(hub, "_reachable", lambda url, timeout=0: pytest.fail("no probe for a cached id"))
    hub.check_hub("someone/some_model")  # no error: timm's own look-up follows


# ---- no loading path passes on torch's advice to use weights_only=False ----------------------------------


class NotAllowed:
    """A class that weights_only=True refuses to unpickle (as it would refuse code)."""


@pytest.fixture
def refused_file(tmp_path) -> Path:
    path = tmp_path / "81.7_T2T_ViTt_14.pth.tar"
    torch.save({"state_dict_ema": {"w": torch.zeros(1)}, "extra": NotAllowed()}, path)
    return path


def loading_paths(file: Path):
    """Every documented way of loading weights, each as a call that must fail with a ValueError of ours."""
    create = lambda **kwargs: timm.create_model("t2t_vit_t_14", pretrained=True, **kwargs)  # noqa: E731
    yield "file=", lambda: create(pretrained_cfg_overlay=dict(file=str(file)))
    yield "url=", lambda: create(pretrained_cfg_overlay=dict(url=file.as_uri()))
    yield "url= https", lambda: create(pretrained_cfg_overlay=dict(url="https://example.org/w.pth"))
    yield "hf_hub_id=", lambda: create(pretrained_cfg_overlay=dict(hf_hub_id="someone/t2t"))
    yield "pretrained_cfg url", lambda: create(pretrained_cfg=dict(url=file.as_uri()))
    yield "pretrained_cfg hf_hub_id", lambda: create(pretrained_cfg=PretrainedCfg(hf_hub_id="someone/t2t"))
    yield "load_checkpoint_file", lambda: load_checkpoint_file(file)


@pytest.mark.parametrize("which", [name for name, _ in loading_paths(Path("x"))])
def test_no_loading_path_advises_weights_only_false(refused_file, which, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # where timm would copy a url's file
    call = dict(loading_paths(refused_file))[which]
    with pytest.raises(ValueError) as info:
        call()
    assert "weights_only=False" not in str(info.value) and "likely succeed" not in str(info.value)
    assert not (tmp_path / "torch_home").exists(), "the file was copied into the hub cache before the refusal"


def test_a_hub_id_for_the_t2t_vit_never_reaches_torch_load(no_hub):
    with pytest.raises(hub.HubUnreachableError):
        timm.create_model("hf-hub:someone/t2t_vit_t_14", pretrained=True)


def test_resume_refuses_the_file_without_torchs_advice(refused_file):
    spec = importlib.util.spec_from_file_location("train_ddp", ROOT / "scripts" / "train_ddp.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    config = script.settings(script.parse_args(["--tiny"]), world_size=1)
    with pytest.raises(script.UsageError) as info:
        script.load_checkpoint(refused_file, config)
    assert "weights_only=False" not in str(info.value)


# ---- the position table: one float64 buffer in place; nothing computed on the meta device -----------


def test_the_position_table_is_made_on_the_meta_device_without_computing():
    start = time.process_time()
    with torch.device("meta"):
        table = helpers.sinusoid_table(2**14, 2**14)  # 1 GiB of float32 on a real device
    assert table.device.type == "meta" and table.shape == (1, 2**14, 2**14) and table.dtype == torch.float32
    assert time.process_time() - start < 1


def test_the_position_table_is_computed_in_one_buffer(monkeypatch):
    """At most one float64 array of the table's size is alive at once (the old code held about four)."""
    sizes = []
    real_arange = torch.arange

    def arange(*args, **kwargs):
        out = real_arange(*args, **kwargs)
        sizes.append(out.numel())
        return out

    monkeypatch.setattr(torch, "arange", arange)
    table = helpers.sinusoid_table(300, 64)
    assert max(sizes) == 300 and table.dtype == torch.float32  # only the row and column indices are made apart
    np.testing.assert_allclose(table[0, 7, 0::2].numpy(), np.sin(7 / 10000 ** (np.arange(0, 64, 2) / 64)), atol=1e-7)


# ---- training: the named cases of the issue ---------------------------------------------------------------


def test_an_empty_loader_is_a_named_value_error_not_a_zero_division():
    model = training.tiny_patch_vit()
    optimizer = training.make_optimizer(model)
    with pytest.raises(ValueError, match="loader gives no batches"):
        training.train_one_epoch(model, [], optimizer)
    with pytest.raises(ValueError, match="train_loader gives no batches"):
        training.fit(model, [], torch.zeros(2, 1, 32, 32), torch.zeros(2, dtype=torch.int64), epochs=2)


def test_an_iterable_loader_that_gives_nothing_is_caught_after_the_loop():
    model = training.tiny_patch_vit()
    with pytest.raises(ValueError, match="loader gave no images"):
        training.train_one_epoch(model, iter([]), training.make_optimizer(model))


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -1.0, 10**400])
def test_a_bad_learning_rate_is_refused(lr):
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        training.make_optimizer(training.tiny_patch_vit(), lr=lr)


def test_a_negative_warmup_is_refused():
    optimizer = training.make_optimizer(training.tiny_patch_vit())
    with pytest.raises(ValueError, match="warmup_steps must be a whole number >= 0"):
        training.warmup_cosine(optimizer, 10, -1)
    with pytest.raises(ValueError, match="warmup_epochs must be a whole number from 0 to 2"):
        training.fit(training.tiny_patch_vit(), [], torch.zeros(1), torch.zeros(1), epochs=3, warmup_epochs=-1)


def test_numpy_integers_are_accepted_like_ints():
    training.seed_everything(np.int64(3))
    model = training.tiny_patch_vit(img_size=np.array([1, 32, 32]), patch_size=np.int32(8))
    assert training.predict(model, torch.zeros(3, 1, 32, 32), batch_size=np.int64(2)).shape == (3,)
    counts = training.confusion_matrix(torch.tensor([0, 1]), torch.tensor([1, 1]), num_classes=np.int64(2))
    assert counts.tolist() == [[0, 1], [0, 1]]


def test_confusion_matrix_refuses_predictions_outside_the_classes():
    with pytest.raises(ValueError, match=r"preds must hold class numbers from 0 to 9, got values from 0 to 12"):
        training.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 12]), num_classes=10)
    with pytest.raises(ValueError, match="labels must hold class numbers"):
        training.confusion_matrix(torch.tensor([-1, 1]), torch.tensor([0, 1]), num_classes=10)
    with pytest.raises(ValueError, match="preds holds 1 labels but there are 2"):
        training.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0]), num_classes=10)


def test_the_checker_names_hidden_chan_mul_not_only_depth():
    from helpers.exercises.training import check_equal_parameters

    with pytest.raises(ValueError, match="hidden_chan_mul"):
        check_equal_parameters(1e6)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400, -(10**400)])
def test_checkers_refuse_nan_inf_and_huge_integers_with_value_error(value):
    from helpers.exercises import soft_split, t2t_vit, token_transformer
    from helpers.exercises import training as ex

    for check in (ex.check_warmup_factor, ex.check_equal_parameters, t2t_vit.check_t2t_gmacs,
                  t2t_vit.check_truncation_factor, token_transformer.check_parameter_count,
                  soft_split.check_overlap, ex.check_default_stride_tokens):  # fmt: skip
        try:
            feedback = check(value)
        except (ValueError, TypeError) as err:
            assert not isinstance(err, OverflowError) and str(err), check.__name__
        else:  # a whole number, however large, is an answer: a wrong one
            assert feedback.correct is False and isinstance(value, int), check.__name__


# ---- figures: runaway frame counts, black GIFs, zero steps, folders as paths ------------------------------


def test_a_soft_split_gif_with_kernel_1_is_refused_before_drawing(tmp_path):
    from helpers.figures.softsplit import render_softsplit_gif

    start = time.process_time()
    with pytest.raises(ValueError, match=r"kernel=1 .* 6,324 patches.*more than the 500 frames.*larger kernel"):
        render_softsplit_gif(helpers.mountain_at_dusk(), 1, tmp_path / "k1.gif")
    assert time.process_time() - start < 1 and not (tmp_path / "k1.gif").exists()


def test_float_frames_make_the_same_gif_as_their_uint8_pixels(tmp_path):
    from PIL import Image

    from helpers.figures.plotting import save_gif

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (12, 16, 3)).astype(np.uint8) for _ in range(3)]
    save_gif(frames, tmp_path / "uint8.gif")
    save_gif([f / 255.0 for f in frames], tmp_path / "float.gif")
    assert (tmp_path / "float.gif").read_bytes() == (tmp_path / "uint8.gif").read_bytes()
    with Image.open(tmp_path / "float.gif") as gif:
        assert np.asarray(gif.convert("RGB")).max() > 0  # not black
    with pytest.raises(ValueError, match=r"frames\[0\] holds floats outside \[0, 1\]"):
        save_gif([frames[0] * 1.0], tmp_path / "bad.gif")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda ax: plotting.show_image(ax, np.zeros((4, 4)), tick_step=0), "tick_step"),
        (lambda ax: coverage.draw_coverage(ax, np.ones((4, 4), int), tick_step=0), "tick_step"),
        (lambda ax: pipeline.contact_sheet([np.zeros((4, 4, 3), np.uint8)], cols=0), "cols"),
        (lambda ax: reconstruction.channel_grid_figure(np.zeros((2, 4, 4)), (0,), ncols=0), "ncols"),
    ],
)
def test_zero_columns_or_ticks_are_value_errors_not_zero_divisions(call, words):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match=words):
            call(ax)
    finally:
        plt.close("all")


def test_saving_onto_a_folder_names_the_folder_not_its_parent(tmp_path):
    import matplotlib.pyplot as plt

    from helpers.figures.plotting import save_array, save_figure

    (tmp_path / "plots").mkdir()
    fig = plt.figure()
    try:
        with pytest.raises(ValueError, match=r"plots' is a folder; give a file name inside it"):
            save_figure(fig, tmp_path / "plots")
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="is a folder"):
        save_array(np.zeros(2), tmp_path / "plots")


def test_patch_vit_on_a_huge_image_is_refused_at_once():
    start = time.process_time()
    with pytest.raises(ValueError, match="patch_size=7 does not tile"):
        training.PatchViT(img_size=(1, 9_999_999_967, 9_999_999_967), patch_size=7)  # a prime side: no divisors
    with pytest.raises(ValueError, match="position table"):
        training.PatchViT(img_size=(1, 2**40, 2**40), patch_size=8)
    assert time.process_time() - start < 2  # listing divisors in a loop took about 100 s


@pytest.mark.parametrize("dtype", [torch.float64, torch.uint8, torch.bool])
def test_the_baseline_patch_vit_takes_the_pictures_the_t2t_vit_takes(dtype):
    model = training.tiny_patch_vit().eval()
    x = (torch.rand(2, 1, 32, 32) > 0.5).to(dtype)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x.to(torch.float32)))
