"""``nn.Linear`` with a faster CPU inference path: same layer, same weights, same results."""

import torch
import torch.nn.functional as F
from torch import nn

from .tracing import is_tracing


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
        if not torch.jit.is_scripting() and not is_tracing() and self._can_use_onednn(x):
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
