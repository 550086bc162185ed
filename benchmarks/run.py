"""Benchmarks of issue 6: ``python -m benchmarks.run [--tiny] [--compile] [--output PATH]``.

Every figure is a ratio against its baseline, both measured in this one run:

- forward speed of T2T-ViT_t-14 (batch 8, 224 x 224, 2 threads, eval, no_grad) against the
  naive official-style forward of ``benchmarks/reference.py`` on the same weights and input;
  rounds interleave baseline and candidate, and the figure is the median of per-round ratios;
- the optimised forward's throughput (its FLOPs, counted on the reference's plain matrix
  products, per second) as a fraction of this machine's float32 matrix-multiply peak (the
  faster of MKL's ``torch.mm`` and oneDNN's linear on square matrices), the product timed in
  the same interleaved rounds as the forward and the figure the median of per-round ratios;
- with ``--compile``: whether ``torch.compile`` is faster than eager, and its graph breaks;
- extra peak RSS of one forward at batch 16, each side in its own subprocess;
- fidelity: largest logit difference to the reference;
- the 60-frame soft-split GIF: the article's way (a new figure per frame, PNG to disk, read
  back, GIF) against ``helpers.figures.softsplit.render_softsplit_gif``;
- the whole notebook series executed in a temporary copy (full run only), against 60 s.

The table is printed and written to ``benchmarks/RESULTS.md`` (or ``--output``).
``--tiny`` uses tiny sizes so that the tests can run the script in seconds.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from helpers.fast import make_fast, make_plain

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
THREADS = 2


# ---------------------------------------------------------------- models and variants
def build_model(tiny: bool, token_module: str = "transformer") -> torch.nn.Module:
    """T2T-ViT_t-14 from the model zoo (official configuration, made fast), or a tiny T2T-ViT made fast."""
    import helpers

    torch.manual_seed(0)
    if tiny:
        model = helpers.T2TViT(
            img_size=(3, 32, 32),
            softsplit_kernels=(7, 3, 3),
            preds=10,
            token_len=64,
            token_chan=16,
            num_heads=2,
            t2t_num_heads=1,
            encoding_hidden_chan_mul=2.0,
            depth=2,
            token_module=token_module,
        )
        helpers.make_fast(model)
    else:
        import timm

        name = "t2t_vit_t_14" if token_module == "transformer" else "t2t_vit_14"
        model = timm.create_model(name)
    return model.eval()


def input_batch(model: torch.nn.Module, batch: int) -> torch.Tensor:
    return torch.randn(batch, *model.img_size, generator=torch.Generator().manual_seed(1))


def reference_fn(model: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    from benchmarks.reference import config_of, reference_forward

    state, cfg = model.state_dict(), config_of(model)
    return lambda x: reference_forward(x, state, cfg)


# ---------------------------------------------------------------- measurements
def interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict[str, float]]:
    """Time each function once per round, in turn; median time and median per-round speed-up."""
    for fn in fns.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    base = next(iter(fns))
    return {
        name: {
            "median_s": statistics.median(t),
            "speedup": statistics.median(b / c for b, c in zip(times[base], t)),
            "times": t,
        }
        for name, t in times.items()
    }


def forward_speed(tiny: bool, with_compile: bool) -> tuple[dict, float, dict]:
    torch.set_num_threads(THREADS)
    batch, rounds = (2, 3) if tiny else (8, 9)
    model = build_model(tiny)
    x = input_batch(model, batch)
    ref = reference_fn(model)
    sdpa_only = make_plain(copy.deepcopy(model))
    fused_split = make_fast(make_plain(copy.deepcopy(model)), linear=False)
    fns = {
        "reference (naive softmax(QK^T)V, official transposes)": lambda: ref(x),
        "SDPA attention only (nn.Unfold + transposes, MKL Linear)": lambda: sdpa_only(x),
        "+ fused soft split (one copy per split)": lambda: fused_split(x),
        "+ oneDNN Linear = the project's default eager model": lambda: model(x),
    }
    extra: dict = {}
    if with_compile:
        compiled = torch.compile(copy.deepcopy(model))
        start = time.perf_counter()
        with torch.no_grad():
            compiled(x)
        print(f"torch.compile warm-up: {time.perf_counter() - start:.1f} s", flush=True)
        fns["torch.compile(default model) (not the default)"] = lambda: compiled(x)
        extra["compile"] = graph_breaks(copy.deepcopy(model), x)
        with torch.no_grad():
            extra["compile"]["max_diff"] = (compiled(x) - model(x)).abs().max().item()
    peak_fn, peak_flops = matmul_peak_kernel(tiny)
    fns[PEAK] = peak_fn
    with torch.no_grad():
        result = interleaved(fns, rounds)
        extra["flops"] = forward_flops(ref, x)
        fidelity = (model(x) - ref(x)).abs().max().item()
    # Throughput of the default model over the matmul peak, per round (both timed in that round).
    default = result[list(fns)[3]]["times"]
    peak = result.pop(PEAK)
    extra["peak_gflops"] = peak_flops / peak["median_s"] / 1e9
    extra["peak_fraction"] = statistics.median(
        (extra["flops"] / t) / (peak_flops / p) for t, p in zip(default, peak["times"])
    )
    return result, fidelity, extra


PEAK = "float32 matmul peak"


def matmul_peak_kernel(tiny: bool) -> tuple[Callable[[], object], int]:
    """The machine's fastest float32 matrix product: MKL's ``torch.mm`` or oneDNN's linear.

    Returns a call of about the model forward's duration (a few square products) and its FLOPs.
    The faster library and size are picked by a quick trial; the rounds then time that call.
    """
    torch.set_num_threads(THREADS)
    onednn = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    best = (0.0, None, 0)
    for n in (256,) if tiny else (1024, 2048):
        gen = torch.Generator().manual_seed(n)
        a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
        kernels = [partial(torch.mm, a, b)]
        if onednn:
            kernels.append(partial(torch.ops.mkldnn._linear_pointwise, a, b, None, "none", [], ""))
        for kernel in kernels:
            kernel()  # warm-up
            rate = 2 * n**3 / min(_seconds(kernel) for _ in range(3))
            if rate > best[0]:
                best = (rate, kernel, 2 * n**3)
    _, kernel, flops = best
    repeats = 1 if tiny else 8

    def product() -> None:
        for _ in range(repeats):
            kernel()

    return product, flops * repeats


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def forward_flops(reference: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> int:
    """Floating-point operations of one forward (2 per multiply-add), counted on the reference.

    The reference does the same arithmetic with plain ``matmul`` / ``linear`` calls, which
    torch's ``FlopCounterMode`` counts (it has no formula for the CPU flash-attention kernel).
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        reference(x)
    return counter.get_total_flops()


def graph_breaks(model: torch.nn.Module, x: torch.Tensor) -> dict:
    """``torch._dynamo.explain``: how many graphs ``torch.compile`` makes of one forward, and why."""
    torch._dynamo.reset()
    with torch.no_grad():
        explained = torch._dynamo.explain(model)(x)
    reasons = sorted({str(getattr(r, "reason", r)).splitlines()[0] for r in explained.break_reasons})
    return {"graphs": explained.graph_count, "breaks": explained.graph_break_count, "reasons": reasons}


def fidelity_performer(tiny: bool) -> float:
    model = build_model(tiny, token_module="performer")
    x = input_batch(model, 2)
    with torch.no_grad():
        return (model(x) - reference_fn(model)(x)).abs().max().item()


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ``clear_refs``); False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes(reset: bool) -> int:
    if reset:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def memory_child(which: str, tiny: bool, batch: int) -> None:
    """Run in a subprocess: print the extra peak RSS (bytes) of one forward as JSON."""
    import psutil

    torch.set_num_threads(THREADS)
    model = build_model(tiny)
    x = input_batch(model, batch)
    forward = reference_fn(model) if which == "reference" else model
    proc = psutil.Process()
    reset = _reset_peak_rss()
    before = proc.memory_info().rss
    with torch.no_grad():
        forward(x)
    print(json.dumps({"extra_bytes": _peak_rss_bytes(reset) - before, "hwm_reset": reset}))


def extra_peak_memory(tiny: bool) -> dict[str, int]:
    batch = 4 if tiny else 16
    out = {}
    for which in ("reference", "model"):
        cmd = [sys.executable, "-m", "benchmarks.run", "--memory-child", which, "--batch", str(batch)]
        cmd += ["--tiny"] if tiny else []
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        out[which] = json.loads(done.stdout.strip().splitlines()[-1])["extra_bytes"]
    return out


# ---------------------------------------------------------------- soft-split GIF
def article_style_gif(image, kernel: int, path: Path) -> Path:
    """The article's approach: a new figure per frame, saved as PNG, read back, then the GIF."""
    import imageio.v2 as imageio
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    from helpers.model.tokens import count_tokens, soft_split_params

    k, s, p = soft_split_params(kernel)
    padded = np.pad(image, p)
    new_w, new_h, _ = count_tokens(image.shape[1], image.shape[0], k, s, p)
    corners = [(i * s, j * s) for i in range(new_h) for j in range(new_w)]
    names = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (row, col) in enumerate(corners):
            fig, ax = plt.subplots(figsize=(7.2, 4.6))
            im = ax.imshow(padded, cmap="Purples_r", vmin=0, vmax=1)
            fig.colorbar(im, ax=ax)
            for r0, c0 in corners[:n]:
                ax.add_patch(Rectangle((c0, r0), k, k, fill=False, ec="white", ls=":", alpha=0.55))
            ax.add_patch(Rectangle((col, row), k, k, fill=False, ec="white", lw=2.5))
            ax.set_title(f"patch {n + 1} of {len(corners)}")
            name = Path(tmp) / f"frame_{n:03d}.png"
            fig.savefig(name, dpi=100)
            plt.close(fig)
            names.append(name)
        imageio.mimsave(path, [imageio.imread(name) for name in names], duration=500, loop=0)
    return path


def gif_speed(tiny: bool) -> dict | None:
    try:
        from helpers.figures.softsplit import render_softsplit_gif
    except ImportError:
        return None
    import numpy as np

    from helpers.image import mountain_at_dusk

    image = mountain_at_dusk()  # 60 x 100: kernel 20 gives the series' 60 patches
    kernel = 20
    if tiny:
        image, kernel = image[:10, :10], 10  # 4 frames
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fns = {
            "article": lambda: article_style_gif(np.asarray(image), kernel, tmp / "article.gif"),
            "project": lambda: render_softsplit_gif(image, kernel, tmp / "project.gif"),
        }
        return interleaved(fns, rounds=1 if tiny else 2)


# ---------------------------------------------------------------- notebooks
def notebooks_in_repo() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def notebook_series_seconds() -> dict[str, float]:
    """Wall time of what `make figures` runs, ``python -m helpers.execute notebooks/*.ipynb``,
    on a temporary copy of the notebooks with figures going to a temporary folder."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        copy_dir = Path(tmp) / "notebooks"
        copy_dir.mkdir()
        copies = [str(shutil.copy(nb, copy_dir / nb.name)) for nb in notebooks]
        env = dict(os.environ, T2T_FIGURES=str(Path(tmp) / "figures"), PYTHONPATH=str(ROOT))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "helpers.execute", *copies], env=env, check=True, capture_output=True)
        return {"all notebooks (make figures)": time.perf_counter() - start}


# ---------------------------------------------------------------- report
NOTES = """
## What helped, what did not

- **Load matters**: on 2026-11-26 at load average ~1 the forward-speed ratio was 1.42x
  (reference 0.82 s, default model 0.58 s; SDPA + fused split alone 1.36x). The runs for
  issue 12 gave 2.0-2.1x, both at load ~6 (every time several times the idle one) and at
  load ~1.6 (the table above); the oneDNN step is what differs most between runs. Under load
  the reference's two 630 MiB attention matrices suffer most from the competition for memory
  bandwidth. Read the ratio as at least 1.4x.
- **Fraction of the matmul peak**: the forward of T2T-ViT_t-14 at batch 8 is 97.4 GFLOP
  (2 per multiply-add: the paper's 6.1 GMACs per image). The matmul peak is the faster of
  MKL's `torch.mm` and oneDNN's linear on 1024 / 2048 square matrices, timed in the same
  interleaved rounds as the forward, so both see the same load; the figure is the median of the
  per-round ratios. The last bullet below says where the rest of the time goes.
- **The teaching layer (issue 18)**: the model's classes hold only the plain layers; the zoo
  applies `helpers.make_fast`, which swaps in the two fast layers below module by module (same
  parameters), and the ablation rows above undo them with `make_plain` / `make_fast(...,
  linear=False)`, with no class swapping. The input checks run once per call, at the
  outermost module (`helpers/checks.py`), and are skipped under TorchScript, `torch.jit.trace`,
  fx and `torch.compile`. The fidelity figures are unchanged.
- **SDPA** (`Attention(fused=True)`, the default, in `helpers/model/attention.py`; `fused=False`
  runs the formula step by step, for teaching): the profiler shows
  `aten::_scaled_dot_product_flash_attention_for_cpu` for every attention (checked by
  `tests/test_benchmarks.py`), so no `N x N` matrix is ever stored. That alone is most of the
  speed-up over the reference and almost all of the memory saving: the reference's batch-16
  forward holds two `16 x 3136 x 3136` float matrices (scores and softmax, 630 MiB each).
- **Fused soft split** (`FusedUnfold` in `helpers/fast.py`): `nn.Unfold` writes `(B, C*k*k, L)`,
  LayerNorm then needs a contiguous copy of its transpose, and a reconstructed image (a
  transposed view of the tokens) is copied again. Padding and taking the patches as a strided
  view of the input in any memory layout leaves one copy per split (2x faster on the 224 x 224
  image split; about equal on the small later splits). Bit-identical to `nn.Unfold`.
- **oneDNN Linear** (`FastLinear` in `helpers/fast.py`): on this AMD EPYC, oneDNN's kernel is 10-25%
  faster than MKL's `sgemm` (behind `nn.Linear`) on every large layer of the model, and 1.5-2x
  faster under heavy load from other processes; below 2**24 multiply-adds per call it is
  slower, so small layers stay on MKL. Same weights, `isinstance(m, nn.Linear)`, same state
  dict; used only for float32 CPU inference without autograd.
- **Tried, not kept**: caching the weights in oneDNN's blocked layout (another ~10% on the
  matrix products) goes stale when code edits `weight.data` in place, so it is not done;
  `torch.compile` (inductor) takes 15-65 s to warm up (cold cache) and was not faster than eager here (see
  the `--compile` row and the line under the breakdown when present: one graph, no graph
  breaks, logits within ~1e-6 of eager; the eager model's oneDNN products already use the
  kernel inductor picks on CPU); the math path (`bmm` + softmax) is slower than the flash
  kernel even at the backbone's 197 tokens. Fusing GELU or the residual adds into the matrix
  products (oneDNN post-ops) would save ~3% more, but needs changes to `NeuralNet` and
  `EncodingBlock`, whose source the notebooks display, so it was left out.
- **Soft-split GIF**: the article's way draws a new figure per frame, saves a PNG and reads it
  back. `render_softsplit_gif` draws the image, axes and colour bar once, copies that
  background (`copy_from_bbox`), and per frame restores it and draws only the boxes and the
  title (`draw_artist`), grabbing the pixels from the canvas. `save_gif` fits one palette
  to a sample of about eight frames instead of all 60 (the palette fit was ~15% of the time).
- **Notebooks**: each notebook pays ~3 s of kernel start and ~3.5 s in its setup cell
  (`import helpers` imports timm, which imports torchvision: ~3 s). Every notebook sets one
  torch thread, so `make figures` (`python -m helpers.execute`) runs two notebooks at a time
  on the two cores, the longest (05 and 04) first. The biggest single items are notebook 05's
  six training runs (three seeds x two models, ~21 s of CPU), notebook 04's parameter table (~4 s) and the GIFs.
- **What is left**: the matrix products run at ~200 GFLOP/s on the 2 threads and the flash
  kernel at ~160 GFLOP/s; together they are ~90% of the optimised forward, so eager PyTorch
  has little left to win without changing the arithmetic.
"""


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
        f"{THREADS} threads (torch.set_num_threads), oneDNN available: {torch.backends.mkldnn.is_available()}"
    )


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def load_average() -> str:
    try:
        return "/".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def report(args: argparse.Namespace) -> str:
    load_before = load_average()
    rows = []
    speed, fid, extra = forward_speed(args.tiny, args.compile)
    names = list(speed)
    base = speed[names[0]]["median_s"]
    default = names[3]
    size = "tiny T2T-ViT, batch 2, 32 x 32" if args.tiny else "T2T-ViT_t-14, batch 8, 224 x 224"
    rows.append(
        (
            "Forward speed (" + size + ")",
            f"{base:.3f} s",
            f"{speed[default]['median_s']:.3f} s",
            f"{speed[default]['speedup']:.2f}x faster",
            ">= 1.4x (goal 1.5x)",
            speed[default]["speedup"] >= 1.4,
        )
    )
    achieved = extra["flops"] / speed[default]["median_s"] / 1e9
    rows.append(
        (
            f"Optimised forward throughput ({extra['flops'] / 1e9:.3g} GFLOP) vs float32 matmul peak",
            f"{extra['peak_gflops']:.0f} GFLOP/s peak",
            f"{achieved:.0f} GFLOP/s",
            f"{extra['peak_fraction']:.2f} of peak",
            "report only",
            None,
        )
    )
    mem = extra_peak_memory(args.tiny)
    mem_ratio = mem["model"] / max(mem["reference"], 1)
    rows.append(
        (
            f"Extra peak memory, one forward, batch {4 if args.tiny else 16}",
            mib(mem["reference"]),
            mib(mem["model"]),
            f"{mem_ratio:.3f}x",
            "<= 0.25x",
            mem_ratio <= 0.25,
        )
    )
    fid_perf = fidelity_performer(args.tiny)
    worst = max(fid, fid_perf)
    rows.append(
        (
            "Fidelity: max abs logit difference (transformer / performer T2T)",
            "reference logits",
            f"{fid:.1e} / {fid_perf:.1e}",
            "-",
            "<= 1e-4",
            worst <= 1e-4,
        )
    )
    gif = gif_speed(args.tiny)
    series: dict[str, float] = {}
    if gif is None:
        rows.append(("Soft-split GIF", "article style", "render_softsplit_gif missing", "-", ">= 4x", False))
    else:
        frames = "tiny image" if args.tiny else "60 frames"
        rows.append(
            (
                f"Soft-split GIF ({frames})",
                f"{gif['article']['median_s']:.2f} s",
                f"{gif['project']['median_s']:.2f} s",
                f"{gif['project']['speedup']:.1f}x faster",
                ">= 4x",
                gif["project"]["speedup"] >= 4,
            )
        )
    if not args.tiny and not args.skip_notebooks:
        series = notebook_series_seconds()
        if series:
            total = sum(series.values())
            rows.append(
                (
                    f"Whole series: execute all {len(notebooks_in_repo())} notebooks (make figures)",
                    "budget 60 s",
                    f"{total:.1f} s",
                    f"{total / 60:.2f}x of budget",
                    "<= 60 s",
                    total <= 60,
                )
            )

    lines = ["| Figure | Baseline | Project | Ratio | Target | Met |", "|---|---|---|---|---|---|"]
    met = {True: "yes", False: "NO", None: "-"}
    lines += [f"| {a} | {b} | {c} | {d} | {e} | {met[ok]} |" for a, b, c, d, e, ok in rows]
    lines += [
        "",
        "Forward-speed breakdown (median of per-round ratios, rounds interleaved):",
        "",
        "| Variant | Median time | Speed-up vs reference |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {v['median_s']:.3f} s | {v['speedup']:.2f}x |" for n, v in speed.items()]
    if "compile" in extra:
        info = extra["compile"]
        compiled = speed["torch.compile(default model) (not the default)"]["median_s"]
        verdict = "faster" if compiled < speed[default]["median_s"] else "not faster"
        lines += [
            "",
            f"torch.compile (inductor) is {verdict} than the default eager model here "
            f"({compiled:.3f} s vs {speed[default]['median_s']:.3f} s); its logits differ from eager by at "
            f"most {info['max_diff']:.1e}. `torch._dynamo.explain`: "
            f"{info['graphs']} graph(s), {info['breaks']} graph break(s)"
            + (": " + "; ".join(info["reasons"]) if info["reasons"] else "")
            + ".",
        ]
    if series:
        lines += [
            "",
            "Notebook series (fresh kernel per notebook, two at a time as `make figures` runs them, temporary copy):",
            "",
            "| Notebook | Seconds |",
            "|---|---|",
        ]
        lines += [f"| {name} | {sec:.1f} |" for name, sec in series.items()]
    header = [
        "# Benchmark results (issue 6)",
        "",
        f"Machine: {machine()}.",
        f"Command: `python -m benchmarks.run{' --tiny' if args.tiny else ''}"
        f"{' --compile' if args.compile else ''}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "The machine is shared with other developers' processes: absolute times are noisy, so each",
        "figure is a ratio of baseline and candidate measured side by side in this one run.",
        f"Load average (1/5/15 min) at the start: {load_before}, at the end: {load_average()}.",
        "",
    ]
    return "\n".join(header + lines) + "\n" + NOTES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (seconds), for the tests")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to warm up)")
    parser.add_argument("--skip-notebooks", action="store_true", help="do not time the notebook series")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the table")
    parser.add_argument("--memory-child", choices=("reference", "model"), help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.tiny, args.batch)
        return 0
    text = report(args)
    print(text)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
