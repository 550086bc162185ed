"""Property-based tests for every public callable of the helpers around the model (issue 22).

``tests/test_fuzz.py`` covers the model; this file covers ``helpers.training``, ``helpers.figures``,
``helpers.exercises``, ``helpers.image``, ``helpers.atomic``, ``helpers.execute`` and the argument
parser of ``scripts/train_ddp.py``. Each callable is called with arguments drawn from values that
work, with none, one or two of them replaced by hostile values: wrong types, NaN, infinities,
huge integers, numpy integers, empty and mis-shaped arrays and tensors, folders and missing
files. The property: within :data:`SECONDS` and :data:`MEMORY_BYTES` more peak memory, either a
result or a ``ValueError``/``TypeError`` with a message, raised in the helpers' own code (not deep
inside torch, numpy, matplotlib or Pillow); never a hang, a memory bomb or another exception.

``test_every_public_callable_is_fuzzed`` fails when a public callable is added without a row in
:data:`CASES`. Examples are few and drawn deterministically, so a CI run is quick and the same
every time; every file a call writes goes to a temporary working folder.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import io
import os
import pkgutil
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

import helpers  # noqa: E402
import helpers.probe  # noqa: E402
from helpers import atomic, execute, image, training  # noqa: E402
from helpers.exercises import feedback  # noqa: E402
from helpers.figures import (  # noqa: E402
    accessible,
    alt_text,
    attention,
    coverage,
    diagrams,
    explorer,
    pipeline,
    plotting,
    reconstruction,
    softsplit,
)
from helpers.figures import training as figures_training  # noqa: E402
from helpers.training import data, seeds  # noqa: E402

torch.set_num_threads(1)

_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="t2t-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME.name)

ROOT = Path(__file__).resolve().parents[1]
HELPERS_DIR = os.path.dirname(os.path.abspath(helpers.__file__))
SECONDS = 20  # a call that takes longer counts as a hang
MEMORY_BYTES = 1 << 30  # a call whose peak memory rises by more counts as a memory bomb
FUZZ = settings(
    max_examples=12,
    deadline=None,  # the time limit below interrupts a hang; hypothesis' deadline would only report it
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


class HangError(Exception):
    """Raised by :func:`time_limit` when a call runs past its limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def interrupt(signum: int, frame: Any) -> None:
        raise HangError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(key + ":"))


@contextlib.contextmanager
def memory_limit(limit: int) -> Iterator[None]:
    """Fail if the process's peak resident memory rises more than ``limit`` bytes in the block (Linux)."""
    if not os.path.exists("/proc/self/clear_refs"):
        yield
        return
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the peak (VmHWM) starts again from the current resident size
    before = _status("VmRSS")
    yield
    grew = _status("VmHWM") - before
    assert grew < limit, f"peak memory rose by {grew / 2**20:.0f} MiB"


def outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    """``(True, result)`` or ``(False, error)`` for a clear ValueError/TypeError from the helpers."""
    try:
        with memory_limit(MEMORY_BYTES), time_limit(SECONDS), contextlib.redirect_stdout(io.StringIO()):
            return True, call()
    except (ValueError, TypeError) as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        frames = traceback.extract_tb(err.__traceback__)
        origin = frames[-1].filename
        assert os.path.abspath(origin).startswith(HELPERS_DIR) or origin.endswith("train_ddp.py"), (
            f"{type(err).__name__} raised outside the helpers, in {origin}: {err}"
        )
        assert "weights_only=False" not in str(err)
        return False, err
    finally:
        plt.close("all")


# ---- hostile values --------------------------------------------------------------------------------

small_ints = st.integers(-3, 40)
huge_ints = st.integers(2**40, 2**80) | st.integers(max_value=-(2**40)) | st.just(10**400)
numpy_ints = small_ints.map(np.int64) | small_ints.map(np.int32)
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 0.5, -1.0, 2.0, 1e300])
junk = st.one_of(st.booleans(), st.none(), st.text(max_size=3), st.just(object()), st.just(1 + 2j), st.just(b"\0"))
containers = st.sampled_from(
    [
        (),
        [],
        {},
        [1, 2, 3],
        (2**70, 1),
        ("a", "b"),
        [[1, 2], [3]],
        {"a": 1},
        {1, 2},
        range(10**12),
        np.zeros(0),
        np.zeros((2, 3, 4, 5)),
        np.full((3, 3), np.nan),
        np.full((4, 4), np.inf),
        np.array(["a", "b"]),
        np.zeros((3, 3), dtype=complex),
        torch.zeros(0),
        torch.zeros(2, 3),
        torch.full((2, 1, 8, 8), float("nan")),
        torch.zeros(1, 1, 7, 9, dtype=torch.int64),
        torch.zeros(3, dtype=torch.bool),
    ]
)
places = st.sampled_from(["no/such/folder/x.png", ".", "", b"bytes.png", Path("a_folder")])
callables = st.sampled_from([lambda: None, print, int, torch.nn.Linear(2, 2), plt.figure])
hostile = st.one_of(small_ints, huge_ints, numpy_ints, floats, junk, containers, places, callables)


def draw_args(data: st.DataObject, valid: dict[str, st.SearchStrategy]) -> tuple[dict[str, Any], list[str]]:
    """Each argument drawn from its ``valid`` strategy, then none, one or two replaced by a hostile value.

    Returns the arguments and the names of those replaced.
    """
    args = {name: data.draw(strategy, label=name) for name, strategy in valid.items()}
    replaced = []
    if valid:
        replaced = data.draw(st.lists(st.sampled_from(list(valid)), max_size=2, unique=True), label="replaced")
        for name in replaced:
            args[name] = data.draw(hostile, label=f"{name} (replaced)")
    return args, replaced


def one(*values: Any) -> st.SearchStrategy:
    return st.sampled_from(values)


# ---- valid values, made once ---------------------------------------------------------------------------

torch.manual_seed(0)
T2T = training.tiny_t2t_vit()
PATCH = training.tiny_patch_vit()
IMAGES = torch.randn(6, 1, 32, 32)
LABELS = torch.tensor([0, 1, 2, 3, 1, 0])
LOADER = DataLoader(TensorDataset(IMAGES, LABELS), batch_size=3)
SPLIT = data.DigitSplit(IMAGES[:4], LABELS[:4], IMAGES[4:], LABELS[4:], 0.1, 0.3)
OPTIMIZER = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
MOUNTAIN = helpers.mountain_at_dusk()
SMALL_PICTURE = MOUNTAIN[:20, :24]
GRID = (3, 4)
TOKENS = np.random.default_rng(0).random((12, 2 * 9))  # 12 tokens of 2 channels x 3 x 3
FRAME = np.zeros((20, 30, 3), np.uint8)
HISTORY = {"train_loss": [2.0, 1.5], "test_acc": [0.3, 0.5]}
RUNS = seeds.SeedRuns("t2t", [0], [HISTORY], [PATCH], [1.0])
STEPS = helpers.probe.t2t_steps(T2T.tokens2token, IMAGES[:1])
Q, K = torch.randn(1, 12, 8), torch.randn(1, 12, 8)
GRIDS = [torch.rand(4, 4), torch.rand(4, 4)]
FIG_PNG = accessible.figure_png(plt.figure(figsize=(1, 1)))
plt.close("all")


def figure() -> plt.Figure:
    return plt.figure(figsize=(2, 2))


def axes() -> plt.Axes:
    return plt.figure(figsize=(2, 2)).add_subplot()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Iterator[Path]:
    """Every relative path a call writes lands in a temporary folder; figures too (T2T_FIGURES)."""
    folder = tmp_path_factory.mktemp("fuzz_helpers")
    (folder / "a_folder").mkdir()
    plotting.save_gif([FRAME, FRAME + 1], folder / "anim.gif")
    Image = __import__("PIL.Image", fromlist=["Image"])
    Image.fromarray((MOUNTAIN * 255).astype(np.uint8)).save(folder / "picture.png")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), folder / "tiny.ipynb")
    old, env = os.getcwd(), os.environ.get("T2T_FIGURES")
    os.chdir(folder)
    os.environ["T2T_FIGURES"] = str(folder / "figures")
    try:
        yield folder
    finally:
        os.chdir(old)
        if env is None:
            os.environ.pop("T2T_FIGURES", None)
        else:
            os.environ["T2T_FIGURES"] = env


kernels = one(1, 3, 7, 20)
sizes = st.integers(1, 60)
answers = st.one_of(st.integers(0, 5000), st.floats(0, 100), one(0.5, 3.0, 96.0, 384.0))
pairs = st.tuples(st.integers(0, 50), st.integers(0, 50))
fresh = st.builds  # a new object per example, where a call may change its argument

# ---- one row per public callable: the valid values of its arguments -----------------------------------------

CASES: dict[Callable, dict[str, st.SearchStrategy]] = {
    # helpers.training.data
    data.DigitSplit: dict(
        train_images=one(IMAGES[:4]),
        train_labels=one(LABELS[:4]),
        test_images=one(IMAGES[4:]),
        test_labels=one(LABELS[4:]),
        mean=one(0.1),
        std=one(0.3),
    ),  # fmt: skip
    data.upsample: dict(images=one(IMAGES[:2, :, :8, :8]), size=st.integers(1, 40)),
    data.load_digit_split: dict(size=one(8, 16), test_fraction=one(0.25, 0.5), seed=st.integers(0, 3)),
    data.make_loaders: dict(split=one(SPLIT), batch_size=st.integers(1, 8), seed=st.integers(0, 5)),
    # helpers.training.loop
    training.seed_everything: dict(seed=st.integers(0, 2**32 - 1)),
    training.make_deterministic: dict(threads=one(1)),
    training.tiny_t2t_vit: dict(img_size=one((1, 32, 32), (3, 32, 48))),
    training.tiny_patch_vit: dict(img_size=one((1, 32, 32), (1, 16, 24))),
    training.count_parameters: dict(model=one(T2T, PATCH)),
    training.make_optimizer: dict(model=one(PATCH), lr=one(1e-3, 0.1), weight_decay=one(0.0, 0.05)),
    training.warmup_cosine: dict(optimizer=one(OPTIMIZER), total_steps=st.integers(2, 100), warmup_steps=one(0, 1)),
    training.progress: dict(total=st.integers(0, 10), desc=one("epoch 1"), disable=one(True)),
    training.train_one_epoch: dict(
        model=fresh(training.tiny_patch_vit), loader=one(LOADER), optimizer=one(OPTIMIZER), scheduler=one(None)
    ),
    training.predict: dict(model=one(PATCH, T2T), images=one(IMAGES, IMAGES[:0]), batch_size=st.integers(1, 8)),
    training.accuracy: dict(model=one(PATCH), images=one(IMAGES), labels=one(LABELS)),
    training.fit: dict(
        model=fresh(training.tiny_patch_vit),
        train_loader=one(LOADER),
        test_images=one(IMAGES[:2]),
        test_labels=one(LABELS[:2]),
        epochs=one(1, 2),
        warmup_epochs=one(0),
        show_progress=one(False),
    ),  # fmt: skip
    training.majority_baseline: dict(train_labels=one(LABELS), test_labels=one(LABELS[:3])),
    training.confusion_matrix: dict(labels=one(LABELS), preds=one(LABELS.flip(0)), num_classes=one(4, 10)),
    training.state_digest: dict(model=one(PATCH)),
    training.tokens_of: dict(model=one(T2T, PATCH), images=one(IMAGES[:2])),
    training.backbone_attention: dict(model=one(T2T, PATCH), images=one(IMAGES[:2])),
    # helpers.training.patch_vit
    training.PatchEmbed: dict(img_size=one((1, 32, 32), (2, 16, 8)), patch_size=one(4, 8), token_len=one(8, 16)),
    training.PatchViT: dict(
        img_size=one((1, 16, 16)),
        patch_size=one(4, 8),
        preds=one(0, 3),
        token_len=one(8),
        num_heads=one(1, 2),
        hidden_chan_mul=one(1.0, 2.0),
        depth=one(0, 1),
        drop_rate=one(0.0, 0.1),
    ),  # fmt: skip
    # helpers.training.seeds
    seeds.SeedRuns: dict(name=one("t2t"), seeds=one([0]), histories=one([HISTORY]), models=one([PATCH])),
    RUNS.final: dict(key=one("test_acc", "train_loss")),
    RUNS.at_epoch: dict(epoch=one(1, 2), key=one("test_acc")),
    seeds.train_over_seeds: dict(
        name=one("patch"),
        build=one(training.tiny_patch_vit),
        split=one(SPLIT),
        seeds=one((0,), [1]),
        epochs=one(1),
        warmup_epochs=one(0),
        batch_size=one(2, 4),
    ),  # fmt: skip
    seeds.mean_std: dict(values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5)),
    seeds.describe: dict(values=st.lists(st.floats(0, 1), min_size=1, max_size=5), scale=one(100.0, 1), unit=one("%")),
    # helpers.image
    image.mountain_at_dusk: {},
    image.load_image: dict(path=one("picture.png"), size=one(None, (6, 10), [60, 100])),
    # helpers.atomic
    atomic.write_bytes_atomically: dict(path=one("written.bin", Path("written2.bin")), data=one(b"", b"abc")),
    atomic.stale_temporaries: dict(path=one("written.bin", "x/y.pt")),
    atomic.remove_stale_temporaries: dict(path=one("written.bin")),
    # helpers.execute
    execute.coalesce_streams: dict(notebook=fresh(nbformat.v4.new_notebook)),
    execute.drop_widget_views: dict(notebook=fresh(nbformat.v4.new_notebook)),
    # helpers.figures.accessible
    accessible.figure_png: dict(fig=fresh(figure), dpi=one(50, 100)),
    accessible.img_tag: dict(data=one(FIG_PNG), mime=one("image/png"), alt=one("a picture"), css_class=one("", "x")),
    accessible.Figure: dict(png=one(FIG_PNG), alt=one("a picture")),
    accessible.show_figure: dict(fig=fresh(figure), alt=one("a picture")),
    accessible.gif_timing: dict(data=st.just(b"")),  # replaced by the GIF's bytes in the test
    accessible.first_frame_png: dict(data=st.just(b"")),
    accessible.Animation: dict(gif=st.just(b""), alt=one("an animation")),
    accessible.animation: dict(path=one("anim.gif"), alt=one("an animation")),
    # helpers.figures.alt_text
    alt_text.alt_text: dict(name=st.sampled_from(sorted(alt_text.ALT)) if hasattr(alt_text, "ALT") else one("x")),
    # helpers.figures.attention
    attention.check_grid_weights: dict(weights=one(np.ones(12) / 12), grid=one(GRID), who=one("exact")),
    attention.patch_box: dict(index=st.integers(0, 11), grid=one(GRID), k=one(3, 7), s=one(1, 4), p=one(0, 1)),
    attention.attention_map_figure: dict(
        image=one(SMALL_PICTURE),
        weights=one(np.ones(30) / 30),
        query=st.integers(0, 29),
        grid=one((5, 6)),
        k=one(7),
        s=one(4),
        p=one(2),
    ),  # fmt: skip
    attention.exp_kernel_weights: dict(q=one(Q), k=one(K)),
    attention.check_queries_keys: dict(q=one(Q), k=one(K)),
    attention.random_feature_weights: dict(q=one(Q), k=one(K), num_features=one(1, 16), seed=st.integers(0, 9)),
    attention.total_variation: dict(a=one(torch.ones(3, 12) / 12), b=one(torch.eye(12)[:3])),
    attention.performer_vs_softmax_figure: dict(
        exact_row=one(np.ones(12) / 12),
        approx_row=one(np.ones(12) / 12),
        grid=one(GRID),
        exact_all=one(np.ones((12, 12)) / 12),
        approx_all=one(np.ones((12, 12)) / 12),
        feature_counts=one((4, 8)),
        errors=one({"exp kernel": np.array([0.3, 0.2])}),
        num_features=one(8),
        query=st.integers(0, 11),
        chan=one(8),
    ),  # fmt: skip
    attention.approximation_errors: dict(q=one(Q), k=one(K), feature_counts=one((1, 4), [8]), seeds=one((0,), [0, 1])),
    # helpers.figures.coverage
    coverage.coverage_map: dict(height=sizes, width=sizes, k=one(1, 3, 7), s=one(1, 2, 4), p=one(0, 1, 2)),
    coverage.discrete_colours: dict(values=one(np.array([[0, 1], [2, 2]]), np.ones((3, 3), int))),
    coverage.draw_coverage: dict(ax=fresh(axes), counts=one(np.array([[0, 1], [2, 2]])), title=one(None, "t")),
    coverage.coverage_figure: dict(counts=one(np.array([[1, 2], [2, 1]])), title=one("coverage")),
    # helpers.figures.diagrams
    diagrams.tint: dict(colour=one("#336699", "red"), amount=one(0.0, 0.5, 1.0)),
    diagrams.shape_text: dict(shape=one((1, 2, 3), torch.Size([4, 5]))),
    diagrams.token_module: dict(t2t=one(T2T.tokens2token)),
    diagrams.t2t_shapes: dict(t2t=one(T2T.tokens2token), x=one(IMAGES[:1])),
    diagrams.t2t_vit_shapes: dict(model=one(T2T), x=one(IMAGES[:1])),
    diagrams.t2t_module_diagram: dict(t2t=one(T2T.tokens2token), x=one(IMAGES[:1])),
    diagrams.t2t_vit_diagram: dict(model=one(T2T), x=one(IMAGES[:1])),
    diagrams.sinusoid_figure: dict(num_rows=one(5, 17), width=one(8, 64)),
    # helpers.figures.explorer
    explorer.coverage_summary: dict(counts=one(np.array([[0, 1], [2, 2]])), sep=one(" | ", ", ")),
    explorer.explorer_caption: dict(height=one(60), width=one(100), k=one(7, 20), s=one(4, 10), p=one(2, 5)),
    explorer.explorer_figure: dict(image=one(SMALL_PICTURE, MOUNTAIN), k=one(3, 7), s=one(2, 4), p=one(0, 2)),
    explorer.explorer_alt: dict(image=one(SMALL_PICTURE), k=one(3, 7), s=one(2, 4), p=one(0, 2)),
    explorer.figure_png: dict(fig=fresh(figure), dpi=one(50, 100)),
    explorer.picture_html: dict(png=one(FIG_PNG), alt=one("a picture")),
    explorer.soft_split_explorer: dict(image=one(SMALL_PICTURE), k=one(3, 7), s=one(2, 4), p=one(0, 2)),
    explorer.show_explorer: dict(image=one(SMALL_PICTURE), k=one(3, 7), s=one(2, 4), p=one(0, 2)),
    # helpers.figures.pipeline
    pipeline.describe: dict(t2t=one(T2T.tokens2token), key=st.sampled_from(sorted(STEPS)), shape=one((1, 2, 3))),
    pipeline.stage_figure: dict(
        t2t=one(T2T.tokens2token), steps=one(STEPS), index=st.integers(0, len(STEPS) - 1), channels=one(2, 8)
    ),
    pipeline.pipeline_frames: dict(t2t=one(T2T.tokens2token), x=one(IMAGES[:1]), channels=one(2)),
    pipeline.contact_sheet: dict(frames=one([FRAME, FRAME]), cols=one(1, 3)),
    # helpers.figures.plotting
    plotting.figures_dir: dict(default=one("figs", Path("figs2"))),
    plotting.save_figure: dict(fig=fresh(figure), path=one("f.png", Path("f2.png"))),
    plotting.save_array: dict(array=one(np.zeros(3), [1, 2]), path=one("a.npy")),
    plotting.canvas_frame: dict(fig=fresh(figure)),
    plotting.save_gif: dict(frames=one([FRAME], [FRAME / 255.0, FRAME + 3]), path=one("g.gif"), duration_ms=one(100)),
    plotting.show_image: dict(ax=fresh(axes), image=one(SMALL_PICTURE), title=one(None, "t"), tick_step=one(1, 10)),
    plotting.count_noun: dict(n=st.integers(0, 5), noun=one("head", "token")),
    plotting.show_gif: dict(path=one("anim.gif"), alt=one(None, "an animation")),
    plotting.show_source: dict(obj=one(helpers.sinusoid_table, helpers.T2TViT)),
    # helpers.figures.reconstruction
    reconstruction.check_tokens: dict(tokens=one(TOKENS), grid=one(GRID)),
    reconstruction.check_channels: dict(channels=one((0, 1), [1]), chan=one(2, 4), limit=one(2, 6)),
    reconstruction.check_token: dict(token=st.integers(0, 11), num_tokens=one(12)),
    reconstruction.tokens_to_image: dict(tokens=one(TOKENS), grid=one(GRID)),
    reconstruction.channel_grid_figure: dict(image=one(np.random.rand(3, 6, 5)), channels=one((0, 2)), ncols=one(1, 4)),
    reconstruction.token_matrix_figure: dict(tokens=one(TOKENS), grid=one(GRID), token=one(0, 5), channels=one((0, 1))),
    reconstruction.channel_stack_figure: dict(
        image=one(np.random.rand(2, 6, 5)), token=one(0, 3), channels=one((0, 1)), vmin=one(0.0), vmax=one(1.0)
    ),
    reconstruction.reconstruction_frames: dict(
        tokens=one(TOKENS), grid=one(GRID), channels=one((0, 1)), first_single=one(1, 3)
    ),
    # helpers.figures.softsplit
    softsplit.grey_image: dict(image=one(MOUNTAIN, [[0.0, 1.0]])),
    softsplit.patch_corners: dict(height=sizes, width=sizes, kernel=kernels),
    softsplit.hand_tokens: dict(image=one(SMALL_PICTURE), kernel=kernels),
    softsplit.render_softsplit_gif: dict(image=one(SMALL_PICTURE[:4, :5]), kernel=one(3, 7), path=one("s.gif")),
    softsplit.plot_token01: dict(image=one(SMALL_PICTURE), kernel=one(3, 7)),
    softsplit.plot_tokens_matrix: dict(image=one(SMALL_PICTURE[:8, :10]), kernel=one(7), annotate=one(True, False)),
    softsplit.plot_token_matrix_diagram: dict(image=one(MOUNTAIN), kernel=one(7), picks=one((1, 2, 25, 60), (1,))),
    # helpers.figures.training
    figures_training.model_colour: dict(name=one("t2t", "patch", "T2T-ViT")),
    figures_training.digits_figure: dict(raw=one(np.random.rand(4, 8, 8)), upsample=one(data.upsample), size=one(16)),
    figures_training.curves_figure: dict(runs=one([RUNS]), baseline=one(0.1)),
    figures_training.confusion_figure: dict(counts=one([torch.eye(3, dtype=torch.int64)]), titles=one(["t2t"])),
    figures_training.attention_figure: dict(pixels=one(IMAGES[0, 0]), maps=one({"t2t": GRIDS}), label=one(3)),
    # helpers.exercises.feedback
    feedback.Feedback: dict(correct=one(True, False), message=one("well done.")),
    feedback.right: dict(message=one("well done.")),
    feedback.wrong: dict(message=one("try again.")),
}


# Checkers whose answers are shapes, grids or lists of numbers rather than one number.
SHAPED_ANSWERS = (
    "check_reconstructed_shape",
    "check_token_counts",
    "check_token_lengths",
    "check_valid_heads",
    "check_fold_inverse",
    "check_first_kernel",
)


def _checker_rows() -> None:
    """Every ``check_*`` of the exercises: each argument is an answer, any number (or a few shapes)."""
    import helpers.exercises as exercises

    for info in pkgutil.iter_modules(exercises.__path__):
        module = importlib.import_module(f"helpers.exercises.{info.name}")
        for name in getattr(module, "__all__", []):
            check = getattr(module, name)
            params = inspect.signature(check).parameters
            valid = {}
            for param in params:
                if param in ("k", "num_heads"):
                    valid[param] = one(params[param].default)
                elif param in ("shape", "grid", "answer") and name in SHAPED_ANSWERS:
                    valid[param] = st.one_of(answers, st.lists(st.integers(0, 500), max_size=4).map(tuple), pairs)
                elif param == "inverse":
                    valid[param] = one(lambda t: t, torch.nn.Fold(10, 3))
                else:
                    valid[param] = answers
            CASES[check] = valid


_checker_rows()
# The checkers' valid answers are any numbers or shapes, so a drawn "valid" answer may itself be wrong.
ANSWER_CHECKERS = {func for func in CASES if func.__name__.startswith("check_") and "exercises" in func.__module__}


def name_of(func: Callable) -> str:
    owner = getattr(func, "__self__", None)
    prefix = f"{type(owner).__name__}." if owner is not None else ""
    return f"{getattr(func, '__module__', '?').removeprefix('helpers.')}.{prefix}{func.__name__}"


# Arguments whose messages name them by what they hold (a picture's side, a frame, a setting).
NAMED_AS = {
    "img_size": ("img_size", "image", "picture", "patch_size"),
    "q": ("q ", "q and k"),
    "k": ("k ", "k=", "kernel", "q and k"),
    "s": ("s=", "stride"),
    "p": ("p=", "padding", "kernel"),
    "height": ("height", "kernel", "picture", "image"),
    "width": ("width", "kernel", "picture", "image"),
    "kernel": ("kernel", "k="),
    "image": ("image", "picture", "kernel"),
    "grid": ("grid", "token", "weights"),
    "tokens": ("tokens", "grid"),
    "frames": ("frames", "frame"),
    "data": ("data", "GIF"),
    "gif": ("gif", "GIF"),
    "steps": ("steps",),
    "images": ("images", "picture"),
}


GIF_TAKERS = {accessible.gif_timing, accessible.first_frame_png, accessible.Animation}


@pytest.mark.parametrize("func", list(CASES), ids=name_of)
def test_public_callable_with_hostile_arguments(func, workdir):
    @FUZZ
    @given(data=st.data())
    def run(data):
        args, replaced = draw_args(data, CASES[func])
        for key in ("data", "gif"):
            if func in GIF_TAKERS and isinstance(args.get(key), bytes) and args[key] == b"":
                args[key] = (workdir / "anim.gif").read_bytes()
        ok, result = outcome(lambda: func(**args))
        if ok:
            check_result(func, args, result)
        elif len(replaced) == 1 and func not in ANSWER_CHECKERS:  # the others work: the message names this one
            named = NAMED_AS.get(replaced[0], (replaced[0],))
            assert any(word in str(result) for word in named), f"{replaced[0]} not named in: {result}"

    run()


def check_result(func: Callable, args: dict[str, Any], result: Any) -> None:
    """Where the right answer is easy to know independently, a result must be it."""
    if func is training.confusion_matrix:
        assert int(result.sum()) == len(args["labels"])
    elif func is seeds.mean_std:
        values = args["values"]
        assert abs(result[0] - sum(values) / len(values)) <= 1e-6 * max(1.0, max(abs(v) for v in values))
    elif func is coverage.coverage_map:
        assert result.shape == (args["height"], args["width"]) and result.min() >= 0
    elif func is softsplit.patch_corners:
        assert all(r >= 0 and c >= 0 for r, c in result)
    elif func is plotting.save_gif:
        assert Path(result).read_bytes().startswith(b"GIF8")
    elif func is image.load_image:
        assert result.dtype == np.float32 and 0 <= result.min() <= result.max() <= 1
    elif isinstance(result, feedback.Feedback):
        assert isinstance(result.correct, bool) and isinstance(result.message, str) and result.message


# ---- coverage: every public callable has a row ------------------------------------------------------


FUZZED_MODULES = ("helpers.training", "helpers.figures", "helpers.exercises")
SINGLE_MODULES = ("helpers.image", "helpers.atomic", "helpers.execute")
# Public callables fuzzed elsewhere or by a dedicated test below, with the reason.
ELSEWHERE = {
    "helpers.atomic.atomic_write": "a context manager: test_atomic_write_with_hostile_paths",
    "helpers.execute.execute_notebook": "starts a kernel: test_execute_with_hostile_paths",
    "helpers.execute.main": "starts a kernel: test_execute_with_hostile_paths",
}


def public_callables() -> dict[str, Callable]:
    found = {}
    names = list(SINGLE_MODULES)
    for package in FUZZED_MODULES:
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(importlib.import_module(package).__path__)]
    for modname in names:
        module = importlib.import_module(modname)
        exported = getattr(module, "__all__", None)
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != modname:
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException):
                continue
            if exported is not None and name not in exported:
                continue
            found[f"{modname}.{name}"] = obj
            if isinstance(obj, type) and obj is seeds.SeedRuns:
                for method in ("final", "at_epoch"):
                    found[f"{modname}.{name}.{method}"] = getattr(RUNS, method)
    return found


def test_every_public_callable_is_fuzzed():
    fuzzed = {id(func) for func in CASES} | {id(getattr(func, "__func__", func)) for func in CASES}
    missing = [
        name
        for name, obj in public_callables().items()
        if name not in ELSEWHERE and id(obj) not in fuzzed and id(getattr(obj, "__func__", obj)) not in fuzzed
        and not any(getattr(f, "__func__", None) is getattr(obj, "__func__", object()) for f in CASES)
    ]  # fmt: skip
    assert not missing, f"public callables without a row in CASES: {missing}"


@FUZZ
@given(path=st.one_of(places, junk, huge_ints))
def test_atomic_write_with_hostile_paths(path, workdir):
    def write():
        with atomic.atomic_write(path) as f:
            f.write(b"x")

    outcome(write)


@settings(FUZZ, max_examples=4)
@given(path=st.one_of(places, junk, one("tiny.ipynb")))
def test_execute_with_hostile_paths(path, workdir):
    ok, _ = outcome(lambda: execute.execute_notebook(path, workdir / "out.ipynb"))
    assert ok == (path == "tiny.ipynb")
    outcome(lambda: execute.main([path] if isinstance(path, str) else path))


# ---- train_ddp.py's argument parser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("train_ddp", ROOT / "scripts" / "train_ddp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FLAGS = {
    "--model": one("t2t", "patch"),
    "--epochs": one("1", "12"),
    "--batch-size": one("16", "64"),
    "--lr": one("2e-3", "0.1"),
    "--weight-decay": one("0", "0.05"),
    "--warmup-epochs": one("0", "1"),
    "--seed": one("0", "4294967295"),
    "--threads": one("1", "2"),
    "--timeout": one("60", "0.5"),
    "--crash-after-epoch": one("1"),
    "--checkpoint": one("ckpt.pt"),
    "--out": one("out"),
}
hostile_text = st.one_of(
    st.text(max_size=6),
    one("-1", "0", "nan", "inf", "-inf", "1e400", "10" * 30, "0x10", "1_000", " 3 ", "", "2.5", "--tiny", "1e-320"),
)


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_train_ddp_flags(script, data, capsys):
    """Any flags: parsed values that pass the checks, or exit status 2 with one line of usage error."""
    flags = data.draw(st.lists(st.sampled_from(list(FLAGS)), max_size=4, unique=True), label="flags")
    argv = []
    for flag in flags:
        value = data.draw(st.one_of(FLAGS[flag], hostile_text), label=flag)
        argv += [flag, value] if not value.startswith("-") else [f"{flag}={value}"]
    argv += data.draw(
        st.lists(one("--tiny", "--auto-resume", "--overwrite"), max_size=2, unique=True), label="switches"
    )
    try:
        with time_limit(SECONDS):
            args = script.parse_args(argv)
    except SystemExit as err:
        assert err.code == 2
        message = capsys.readouterr().err
        assert "error:" in message and "Traceback" not in message
        return
    assert args.epochs >= 1 and args.batch_size >= 1 and 0 <= args.seed < 2**32 and 1 <= args.threads <= 1024
    assert 0 < args.lr < float("inf") and 0 <= args.weight_decay < float("inf") and 0 < args.timeout <= 7 * 24 * 3600
    assert 0 <= args.warmup_epochs < args.epochs
