"""Data, models and training loop of notebook 05, checked against independent computations."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from helpers import training
from helpers.training import data
from helpers.training.patch_vit import PatchViT

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def split() -> data.DigitSplit:
    return data.load_digit_split(size=32, test_fraction=0.25, seed=0)


def hand_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize with half-pixel centres, written out with numpy: ``(N, h, w) -> (N, size, size)``."""
    n_in = images.shape[-1]
    centres = (np.arange(size) + 0.5) * n_in / size - 0.5
    centres = np.clip(centres, 0, None)
    lo = np.floor(centres).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = centres - lo
    rows = images[:, lo, :] * (1 - frac)[None, :, None] + images[:, hi, :] * frac[None, :, None]
    return rows[:, :, lo] * (1 - frac)[None, None, :] + rows[:, :, hi] * frac[None, None, :]


@pytest.fixture(scope="module")
def hand_images() -> np.ndarray:
    """All 1,797 digits scaled to [0, 1] and upsampled by hand to 32 x 32, flattened."""
    raw = load_digits().images / 16.0
    return hand_bilinear(raw, 32).reshape(len(raw), -1)


def match_rows(images: torch.Tensor, reference: np.ndarray) -> np.ndarray:
    """Index of the reference row equal to each image (max abs difference below 1e-5)."""
    flat = images.reshape(len(images), -1).double().numpy()
    dist = (flat**2).sum(1)[:, None] - 2 * flat @ reference.T + (reference**2).sum(1)[None, :]
    idx = dist.argmin(axis=1)
    assert np.abs(flat - reference[idx]).max() < 1e-5
    return idx


def test_upsample_matches_hand_bilinear():
    raw = load_digits().images[:5] / 16.0
    ours = data.upsample(torch.tensor(raw, dtype=torch.float32)[:, None], 32)[:, 0].numpy()
    np.testing.assert_allclose(ours, hand_bilinear(raw, 32), atol=1e-6)


def test_split_sizes_and_classes(split):
    labels = load_digits().target
    assert len(labels) == 1797
    assert len(split.test_labels) == 450  # ceil(0.25 * 1797)
    assert len(split.train_labels) == 1797 - 450
    assert split.train_images.shape == (1347, 1, 32, 32)
    assert split.test_images.shape == (450, 1, 32, 32)
    assert split.image_size == (1, 32, 32)
    full = collections.Counter(labels.tolist())
    test = collections.Counter(split.test_labels.tolist())
    train = collections.Counter(split.train_labels.tolist())
    assert train + test == full
    for digit, count in full.items():  # stratified: each class keeps its share in the test set
        assert abs(test[digit] - count * 0.25) <= 1


def test_normalisation_uses_train_statistics(split, hand_images):
    train_mean, train_std = split.train_images.mean().item(), split.train_images.std(correction=0).item()
    assert abs(train_mean) < 1e-5 and abs(train_std - 1) < 1e-5
    # Undo the normalisation and find every image among the hand-made ones: the stored mean and
    # std must be those of the train images alone, and the test images must use the same ones.
    train_idx = match_rows(split.train_images * split.std + split.mean, hand_images)
    test_idx = match_rows(split.test_images * split.std + split.mean, hand_images)
    assert split.mean == pytest.approx(hand_images[train_idx].mean(), abs=1e-6)
    assert split.std == pytest.approx(hand_images[train_idx].std(), abs=1e-6)
    np.testing.assert_array_equal(load_digits().target[train_idx], split.train_labels.numpy())
    np.testing.assert_array_equal(load_digits().target[test_idx], split.test_labels.numpy())


def test_split_is_fixed(split):
    again = data.load_digit_split(seed=0)
    assert torch.equal(again.train_images, split.train_images)
    assert torch.equal(again.test_labels, split.test_labels)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda split: data.load_digit_split(size=4), ValueError, r"size must be an integer >= 8.*8 x 8"),
        (lambda split: data.load_digit_split(size=32.0), TypeError, "size must be a whole number"),
        (lambda split: data.load_digit_split(test_fraction=1.5), ValueError, "test_fraction must be a finite number"),
        (lambda split: data.load_digit_split(test_fraction="0.2"), TypeError, "test_fraction must be a real number"),
        (lambda split: data.load_digit_split(seed=-1), ValueError, "seed must be a whole number from 0 to"),
        (lambda split: data.make_loaders(split, batch_size=0), ValueError, "batch_size must be a positive integer"),
        (lambda split: data.make_loaders(split, batch_size="64"), TypeError, "batch_size must be a whole number"),
        (lambda split: data.make_loaders(split.train_images), TypeError, "split must be a DigitSplit"),
    ],
)
def test_bad_data_arguments(split, call, error, words):
    with pytest.raises(error, match=words):
        call(split)


def backbone_params(width: int, depth: int, mlp: int, classes: int) -> int:
    """Backbone parameters by hand: prediction token, blocks, final norm, head (no qkv bias)."""
    block = 2 * 2 * width + width * 3 * width + (width * width + width)
    block += (width * mlp * width + mlp * width) + (mlp * width * width + width)
    return width + depth * block + 2 * width + (width * classes + classes)


def token_transformer_params(dim: int, chan: int) -> int:
    """norm1(dim) + qkv (no bias) + proj + norm2(chan) + NeuralNet with hidden = chan."""
    return 2 * dim + dim * 3 * chan + (chan * chan + chan) + 2 * chan + 2 * (chan * chan + chan)


def test_parameter_counts_by_hand():
    backbone = backbone_params(width=64, depth=4, mlp=2, classes=10)
    patch = backbone + (8 * 8 * 64 + 64)
    t2t = backbone + token_transformer_params(7 * 7, 16) + token_transformer_params(16 * 3 * 3, 16)
    t2t += 16 * 3 * 3 * 64 + 64
    t2t_model, patch_model = training.tiny_t2t_vit(), training.tiny_patch_vit()
    assert training.count_parameters(patch_model) == patch
    assert training.count_parameters(t2t_model) == t2t
    # The stated tolerance: the T2T module adds at most 15% over the plain patch embedding.
    assert 1.0 < t2t / patch < 1.15
    assert t2t_model.num_tokens == patch_model.num_tokens == 16


def test_patch_embed_is_unfold_then_linear():
    torch.manual_seed(0)
    model = training.tiny_patch_vit()
    x = torch.randn(2, 1, 32, 32)
    # Cut the 8 x 8 tiles by hand, row by row, and project them.
    tiles = x.reshape(2, 1, 4, 8, 4, 8).permute(0, 2, 4, 1, 3, 5).reshape(2, 16, 64)
    expected = tiles @ model.patch_embed.project.weight.T + model.patch_embed.project.bias
    torch.testing.assert_close(model.patch_embed(x), expected)
    torch.testing.assert_close(training.tokens_of(model, x), expected)


def test_bad_model_inputs():
    with pytest.raises(ValueError, match=r"does not tile.*pick one of \[1, 2, 4, 8, 16, 32\]"):
        PatchViT(img_size=(1, 32, 32), patch_size=5)
    with pytest.raises(TypeError, match="patch_size must be a whole number"):
        PatchViT(patch_size=8.0)
    with pytest.raises(ValueError, match="num_heads=3 does not divide token_len=64"):
        PatchViT(num_heads=3)
    with pytest.raises(ValueError, match="built for images"):
        training.tiny_patch_vit()(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="built for images"):
        training.tiny_t2t_vit()(torch.zeros(1, 32, 32))
    with pytest.raises(TypeError, match="model must be a T2TViT or PatchViT"):
        training.tokens_of(torch.nn.Linear(2, 2), torch.zeros(1, 2))
    with pytest.raises(TypeError, match="model must be a T2TViT or PatchViT"):
        training.backbone_attention(torch.nn.Linear(2, 2), torch.zeros(1, 2))


def test_one_step_reduces_loss_on_fixed_batch(split):
    training.seed_everything(0)
    model = training.tiny_t2t_vit()
    images, labels = split.train_images[:32], split.train_labels[:32]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    after = F.cross_entropy(model(images), labels)
    assert after.item() < before.item() - 1e-3


def short_run(split: data.DigitSplit, seed: int) -> tuple[torch.nn.Module, dict]:
    training.seed_everything(seed)
    model = training.tiny_t2t_vit()
    small = data.DigitSplit(
        split.train_images[:128], split.train_labels[:128], split.test_images, split.test_labels, split.mean, split.std
    )
    loader, _ = data.make_loaders(small, batch_size=32, seed=seed)
    history = training.fit(model, loader, split.test_images[:64], split.test_labels[:64], epochs=2, show_progress=False)
    return model, history


def test_seeded_runs_are_identical(split):
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        first, history1 = short_run(split, seed=0)
        second, history2 = short_run(split, seed=0)
        other, _ = short_run(split, seed=1)
    finally:
        torch.use_deterministic_algorithms(previous)
    assert training.state_digest(first) == training.state_digest(second)
    assert history1 == history2
    assert training.state_digest(first) != training.state_digest(other)


def test_save_and_load_round_trip(split, tmp_path):
    training.seed_everything(0)
    model = training.tiny_t2t_vit()
    path = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), path)
    training.seed_everything(1)
    fresh = training.tiny_t2t_vit()
    images = split.test_images[:16]
    assert not torch.equal(fresh.eval()(images), model.eval()(images))
    fresh.load_state_dict(torch.load(path, weights_only=True))
    torch.testing.assert_close(fresh.eval()(images), model.eval()(images), rtol=0, atol=0)


def test_majority_baseline_and_beating_it(split):
    counts = collections.Counter(split.train_labels.tolist())
    majority = max(sorted(counts), key=counts.get)
    expected = sum(int(label == majority) for label in split.test_labels.tolist()) / len(split.test_labels)
    assert training.majority_baseline(split.train_labels, split.test_labels) == pytest.approx(expected)
    # Three epochs of the real recipe must already leave that baseline far behind.
    training.seed_everything(0)
    model = training.tiny_t2t_vit()
    loader, _ = data.make_loaders(split, batch_size=64, seed=0)
    history = training.fit(model, loader, split.test_images, split.test_labels, epochs=3, show_progress=False)
    assert history["test_acc"][-1] > expected + 0.35


def test_optimizer_skips_decay_for_biases_norms_and_cls_token():
    model = training.tiny_t2t_vit()
    decay, no_decay = training.make_optimizer(model, lr=1e-3, weight_decay=0.05).param_groups
    names = {id(p): n for n, p in model.named_parameters()}
    skipped = {names[id(p)] for p in no_decay["params"]}
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert "backbone.cls_token" in skipped and "backbone.norm.weight" in skipped
    assert "backbone.head.bias" in skipped and "backbone.head.weight" not in skipped
    assert len(decay["params"]) + len(no_decay["params"]) == len(names)


def test_confusion_matrix_matches_sklearn():
    gen = torch.Generator().manual_seed(0)
    labels, preds = torch.randint(0, 10, (200,), generator=gen), torch.randint(0, 10, (200,), generator=gen)
    ours = training.confusion_matrix(labels, preds, 10).numpy()
    np.testing.assert_array_equal(ours, sk_confusion_matrix(labels.numpy(), preds.numpy(), labels=range(10)))


def test_backbone_attention_first_block_by_hand():
    training.seed_everything(0)
    model = training.tiny_patch_vit()
    x = torch.randn(3, 1, 32, 32)
    weights = training.backbone_attention(model, x)
    assert len(weights) == 4 and weights[0].shape == (3, 4, 17, 17)
    torch.testing.assert_close(weights[-1].sum(-1), torch.ones(3, 4, 17))
    # Block 0 by hand: prepend the prediction token, add positions, norm, q k^T / sqrt(16), softmax.
    with torch.no_grad():
        bb = model.backbone
        tokens = torch.cat([bb.cls_token.expand(3, -1, -1), model.patch_embed(x)], 1) + bb.pos_embed
        h = F.layer_norm(tokens, (64,), bb.blocks[0].norm1.weight, bb.blocks[0].norm1.bias)
        q, k, _ = (h @ bb.blocks[0].attn.qkv.weight.T).split(64, dim=-1)
        q, k = (t.reshape(3, 17, 4, 16).transpose(1, 2) for t in (q, k))
        expected = torch.softmax(q @ k.transpose(-1, -2) / 4.0, dim=-1)
    torch.testing.assert_close(weights[0], expected)


def test_backbone_attention_follows_the_models_own_embedding(monkeypatch):
    """A backbone whose embed puts two tokens in front: the helper must see both (a copy of embed would not)."""
    training.seed_everything(0)
    model = training.tiny_t2t_vit()
    bb = model.backbone
    extra = torch.randn(1, 1, 64)

    def embed_two_in_front(x):
        x = torch.cat((bb.cls_token.expand(x.shape[0], -1, -1), extra.expand(x.shape[0], -1, -1), x), dim=1)
        return x + torch.cat((bb.pos_embed[:, :1], bb.pos_embed), dim=1)

    monkeypatch.setattr(bb, "embed", embed_two_in_front)
    weights = training.backbone_attention(model, torch.randn(2, 1, 32, 32))
    assert [w.shape for w in weights] == [(2, 4, 18, 18)] * 4


def test_warmup_cosine_schedule():
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = training.warmup_cosine(optimizer, total_steps=10, warmup_steps=2)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [0.5, 1.0] + [0.5 * (1 + np.cos(np.pi * i / 8)) for i in range(8)]
    np.testing.assert_allclose(rates, expected, atol=1e-9)
    with pytest.raises(ValueError, match="warmup_steps"):
        training.warmup_cosine(optimizer, total_steps=3, warmup_steps=3)
    with pytest.raises(TypeError, match="total_steps must be a whole number"):
        training.warmup_cosine(optimizer, total_steps=3.0)
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        training.warmup_cosine(torch.nn.Linear(1, 1), total_steps=3)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        training.fit(training.tiny_patch_vit(), [], torch.zeros(1), torch.zeros(1), epochs=0)
    with pytest.raises(TypeError, match="epochs must be a whole number"):
        training.fit(training.tiny_patch_vit(), [], torch.zeros(1), torch.zeros(1), epochs=2.0)
    with pytest.raises(ValueError, match="warmup_epochs must be a whole number from 0 to 1"):
        training.fit(training.tiny_patch_vit(), [], torch.zeros(1), torch.zeros(1), epochs=2, warmup_epochs=2)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        training.fit(training.tiny_patch_vit(), [], torch.zeros(1), torch.zeros(1), lr=0.0)


# ---- runs over several seeds (notebook 05) --------------------------------------------------------


def small_split(split: data.DigitSplit, n_train: int = 128, n_test: int = 64) -> data.DigitSplit:
    return data.DigitSplit(
        train_images=split.train_images[:n_train],
        train_labels=split.train_labels[:n_train],
        test_images=split.test_images[:n_test],
        test_labels=split.test_labels[:n_test],
        mean=split.mean,
        std=split.std,
    )


def test_train_over_seeds_equals_runs_made_by_hand(split):
    small = small_split(split)
    runs = training.train_over_seeds("ViT", training.tiny_patch_vit, small, seeds=(0, 3), epochs=2, batch_size=32)
    assert runs.seeds == [0, 3] and len(runs.models) == len(runs.histories) == len(runs.seconds) == 2
    assert all(s > 0 for s in runs.seconds)
    for seed, model, history in zip(runs.seeds, runs.models, runs.histories):
        training.seed_everything(seed)
        by_hand = training.tiny_patch_vit()
        loader, _ = data.make_loaders(small, batch_size=32, seed=seed)
        expected = training.fit(by_hand, loader, small.test_images, small.test_labels, epochs=2, show_progress=False)
        assert training.state_digest(model) == training.state_digest(by_hand)
        assert history == expected
    assert runs.final() == [h["test_acc"][-1] for h in runs.histories]
    assert runs.at_epoch(1, "train_loss") == [h["train_loss"][0] for h in runs.histories]
    assert training.state_digest(runs.models[0]) != training.state_digest(runs.models[1])


def test_mean_std_and_describe_match_the_statistics_module():
    import statistics

    values = [0.907, 0.811, 0.876]
    mean, std = training.mean_std(values)
    assert mean == pytest.approx(statistics.mean(values)) and std == pytest.approx(statistics.stdev(values))
    assert training.mean_std([0.5]) == (0.5, 0.0)
    text = training.seeds.describe(values)
    assert text == (f"{statistics.mean(values) * 100:.1f}% ± {statistics.stdev(values) * 100:.1f} (min 81.1, max 90.7)")


@pytest.mark.parametrize(
    "seeds, error, words",
    [
        ((), ValueError, "at least one seed"),
        (("0",), TypeError, r"seeds\[0\] must be a whole number"),
        ((0, -1), ValueError, r"seeds\[1\] must be a whole number from 0 to 4294967295"),
        (0, TypeError, "seeds must be a tuple or list of seeds"),
    ],
)
def test_bad_seeds_raise_before_any_training(split, seeds, error, words, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("fit ran before the seeds were checked")

    monkeypatch.setattr(training.seeds, "fit", no_training)
    with pytest.raises(error, match=words):
        training.train_over_seeds("ViT", training.tiny_patch_vit, small_split(split), seeds=seeds, epochs=1)
    with pytest.raises(ValueError, match="at least one value"):
        training.mean_std([])
    with pytest.raises(TypeError, match=r"values\[1\] must be a real number"):
        training.mean_std([0.5, "0.7"])


def test_notebook_05_reports_mean_and_spread_over_at_least_three_seeds():
    import re
    import statistics
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "05_training.ipynb", as_version=4)
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"
    )
    rows = re.findall(
        r"^\s*(T2T-ViT|ViT)((?:\s+\d+\.\d%)+)\s+(\d+\.\d)% ± (\d+\.\d) \(min (\d+\.\d), max (\d+\.\d)\)$", text, re.M
    )
    assert {r[0] for r in rows} == {"T2T-ViT", "ViT"}
    for _, values, mean, std, lo, hi in rows:
        accs = [float(v) for v in values.replace("%", " ").split()]
        assert len(accs) >= 3
        # the printed accuracies are rounded to 0.1 points, so the summary may differ by rounding
        assert abs(statistics.mean(accs) - float(mean)) <= 0.1
        assert abs(statistics.stdev(accs) - float(std)) <= 0.15
        assert (min(accs), max(accs)) == (float(lo), float(hi))
    # wall time changes from run to run, so a committed notebook must not print it
    assert "wall time" not in text
