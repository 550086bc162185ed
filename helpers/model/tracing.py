"""Is the model being exported? The eager-only conveniences (input checks, fast paths) ask here."""

import torch
from torch.fx._symbolic_trace import is_fx_symbolic_tracing


@torch.jit.unused
def is_tracing() -> bool:
    """True under ``torch.jit.trace`` or ``torch.fx`` symbolic tracing.

    Callers test ``torch.jit.is_scripting()`` first, so TorchScript never runs this function:
    ``if not torch.jit.is_scripting() and not is_tracing(): ...``. Under these exporters the
    input is a tracer's stand-in, not a real tensor, so shape checks with Python ``if``
    statements and data-dependent fast paths are skipped; the exported graph is the plain math.
    """
    return torch.jit.is_tracing() or is_fx_symbolic_tracing()
