"""How the model is made fast: the fused soft split and the oneDNN linear, applied by one call.

``make_fast(model)`` swaps, module by module, every ``nn.Unfold`` for a :class:`FusedUnfold` and
every ``nn.Linear`` for a :class:`FastLinear`. Each new module shares the old one's parameters and
computes the same function, so the state dict, the gradients and the results stay the same (the
soft split bit for bit, the linear layers to float rounding). ``make_plain(model)`` undoes it. The
model zoo applies ``make_fast``; the classes of :mod:`helpers.model` hold only the plain layers.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.fx._symbolic_trace import is_fx_symbolic_tracing

from . import checks


def _onednn_linear_available() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


# Smallest product (rows x in_features x out_features) worth oneDNN's fixed cost per call,
# measured on the benchmark machine (AMD EPYC, 1 and 2 threads).
MIN_ONEDNN_MACS = 2**24


class FastLinear(nn.Linear):
    """An ``nn.Linear`` that, for inference on CPU, multiplies with oneDNN instead of MKL.

    Shapes: ``(..., in_features) -> (..., out_features)``, exactly like ``nn.Linear``: the same
    constructor, parameters (``weight``, ``bias``), state-dict keys and initialisation.

    Why: PyTorch sends ``nn.Linear`` on CPU to MKL. On the benchmark machine (AMD EPYC)
    oneDNN's kernel (``torch.ops.mkldnn._linear_pointwise``, the one ``torch.compile`` uses on
    CPU) computes the same ``x @ weight.T + bias`` 10-25% faster for T2T-ViT's layers when the
    machine is idle, 1.5-2x when other processes compete for it. Other CPUs were not measured.
    See ``benchmarks/RESULTS.md``.

    When: only in :meth:`_can_use_onednn`'s case - a float32 CPU input, nothing that needs a
    gradient, not under ``torch.compile`` or CPU autocast, and a product of at least ``2 ** 24``
    multiply-adds (below that oneDNN's fixed cost per call makes it slower). Everything else
    (training, GPU, float64, small layers) is plain ``nn.Linear``. Results agree with
    ``nn.Linear`` to float rounding (about 1e-6). TorchScript, ``torch.jit.trace`` and
    ``torch.fx`` always see the plain ``F.linear``, so exported graphs hold no oneDNN call.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting() and not _tracing() and self._can_use_onednn(x):
            return self._fast_forward(x)
        return F.linear(x, self.weight, self.bias)

    @torch.jit.unused
    def _can_use_onednn(self, x: torch.Tensor) -> bool:
        if type(x) is not torch.Tensor:  # fake or other tensor subclasses: plain path
            return False
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad)
        return (
            not needs_grad
            and not torch.is_autocast_enabled("cpu")
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and self.weight.dtype == torch.float32
            and x.numel() * self.out_features >= MIN_ONEDNN_MACS
            and not torch.compiler.is_compiling()
            and _ONEDNN
        )

    @torch.jit.unused
    def _fast_forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias`` by oneDNN (inference only: this kernel has no backward).

        The weight is passed as it is, not cached in oneDNN's blocked layout: a cache would be
        about 10% faster but goes stale, silently, when code edits ``weight.data`` in place.
        """
        return torch.ops.mkldnn._linear_pointwise(x, self.weight, self.bias, "none", [], "")


_ONEDNN = _onednn_linear_available()


@torch.jit.unused
def _tracing() -> bool:
    """True under ``torch.jit.trace`` or ``torch.fx``: exported graphs get the plain ``F.linear``."""
    return torch.jit.is_tracing() or is_fx_symbolic_tracing()


class FusedUnfold(nn.Unfold):
    """``nn.Unfold`` whose output is a transposed view of token-major patches, copied once.

    ``nn.Unfold`` writes ``(B, C*k*k, L)``; the soft split then transposes it to ``(B, L, C*k*k)``,
    which LayerNorm and Linear need contiguous: a second full copy. Reconstructing tokens into an
    image (a transposed view) made ``nn.Unfold`` copy it a third time. Here the patches are a strided
    view of the zero-padded input (``Tensor.unfold`` on both spatial axes, any memory layout), one
    ``flatten`` copies them in token order, and the result is returned transposed, so that the
    soft split's ``.transpose(1, 2)`` gives back that contiguous tensor. Same values as ``nn.Unfold``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s, p = self.kernel_size, self.stride, self.padding
        patches = F.pad(x, [p, p, p, p]).unfold(2, k, s).unfold(3, k, s)  # (B, C, h, w, k, k), a view
        patches = patches.permute(0, 2, 3, 1, 4, 5)  # (B, h, w, C, k, k): nn.Unfold's (C, k, k) order
        return patches.flatten(3).flatten(1, 2).transpose(1, 2)  # (B, C*k*k, h*w)


def _swap(model: nn.Module, make: dict) -> nn.Module:
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if type(child) in make:
                setattr(parent, name, make[type(child)](child))
    return model


def _linear(layer: nn.Linear, cls: type[nn.Linear]) -> nn.Linear:
    """A ``cls`` layer holding ``layer``'s own parameters (nothing is copied or allocated)."""
    new = cls(layer.in_features, layer.out_features, bias=layer.bias is not None, device="meta")
    new.weight, new.bias = layer.weight, layer.bias
    return new.train(layer.training)


def _fused_unfold(layer: nn.Unfold) -> nn.Unfold:
    """A :class:`FusedUnfold` for ``layer`` where it applies (int sizes, no dilation), else ``layer``."""
    if all(isinstance(n, int) for n in (layer.kernel_size, layer.stride, layer.padding)) and layer.dilation == 1:
        return _unfold(layer, FusedUnfold)
    return layer


def _unfold(layer: nn.Unfold, cls: type[nn.Unfold]) -> nn.Unfold:
    return cls(layer.kernel_size, dilation=layer.dilation, padding=layer.padding, stride=layer.stride)


@checks.checked(checks.make_fast_args)
def make_fast(model: nn.Module, *, soft_split: bool = True, linear: bool = True) -> nn.Module:
    """Give ``model`` the fused soft split and the oneDNN linear (in place); returns ``model``.

    ``soft_split=False`` or ``linear=False`` leaves that part plain (the benchmarks measure each).
    """
    make = {}
    if linear:
        make[nn.Linear] = lambda m: _linear(m, FastLinear)
    if soft_split:
        make[nn.Unfold] = _fused_unfold
    return _swap(model, make)


@checks.checked(checks.make_fast_args)
def make_plain(model: nn.Module) -> nn.Module:
    """Undo :func:`make_fast`: plain ``nn.Linear`` and ``nn.Unfold`` again (in place); returns ``model``."""
    return _swap(model, {FastLinear: lambda m: _linear(m, nn.Linear), FusedUnfold: lambda m: _unfold(m, nn.Unfold)})
