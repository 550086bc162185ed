"""The Tokens-to-Token module: soft split, token transformer, reconstruct, repeated."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .fast_linear import FastLinear
from .performer import TokenPerformer
from .token_transformer import TokenTransformer
from .tokens import count_tokens, soft_split_params
from .tracing import is_tracing
from ..checks import (
    boolean,
    choice,
    image_size,
    int_sequence,
    layer_class,
    optional_positive_float,
    positive_float,
    positive_int,
    probability,
    tensor_size,
)


def as_image_size(img_size: Sequence[int]) -> tuple[int, int, int]:
    """Validate ``img_size = (channels, height, width)`` and return it as a tuple of ints."""
    return image_size(img_size)


def stage_grids(
    height: int, width: int, kernels: Sequence[int], strides: Sequence[int], paddings: Sequence[int]
) -> list[tuple[int, int]]:
    """The ``(new_h, new_w)`` token grid after each soft split, via :func:`count_tokens`."""
    grids = []
    for k, s, p in zip(kernels, strides, paddings):
        width, height, _ = count_tokens(width, height, k, s, p)
        grids.append((height, width))
    return grids


def smallest_side(kernels: Sequence[int], strides: Sequence[int], paddings: Sequence[int]) -> int:
    """The smallest image side that still leaves one token after every soft split.

    A soft split turns a side ``n`` into ``floor((n + 2p - k) / s) + 1`` tokens, so it leaves at
    least ``m`` tokens exactly when ``n >= (m - 1) * s + k - 2p`` (and ``n >= 1``). Going backwards
    from ``m = 1`` token after the last split, each split in turn gives the side it needs.
    """
    try:
        splits = len(kernels)  # any number of splits; int_sequence checks the types
    except TypeError:
        splits = 3
    kernels = int_sequence("kernels", kernels, splits, 1)
    strides = int_sequence("strides", strides, splits, 1)
    paddings = int_sequence("paddings", paddings, splits, 0)
    side = 1
    for k, s, p in reversed(list(zip(kernels, strides, paddings))):
        side = max(1, (side - 1) * s + k - 2 * p)
    return side


@torch.jit.unused
def check_image(
    x: torch.Tensor, img_size: tuple[int, int, int], who: str, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """Check that ``x`` is a batch of pictures of shape ``img_size``; return it in ``dtype``.

    A tensor of any real dtype is accepted and cast to ``dtype`` (the model's), values unchanged:
    ``uint8`` 0..255 stays 0..255, ``bool`` becomes 0 and 1. Not a tensor, or a complex tensor:
    ``TypeError``. Wrong shape: ``ValueError`` saying how to fix it. Eager mode only; scripted,
    traced and fx-traced models skip it and expect the model's dtype.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{who} expects a picture tensor of shape (batch, {img_size[0]}, {img_size[1]}, {img_size[2]}), "
            f"got {type(x).__name__}; convert it with torch.as_tensor(x) (numpy: torch.from_numpy(x))."
        )
    if x.is_complex():
        raise TypeError(f"{who} expects a real-valued picture tensor, got dtype {x.dtype}; pass x.real or x.abs().")
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(img_size):
        chans, height, width = img_size
        raise ValueError(
            f"{who} was built for images of shape (batch, {chans}, {height}, {width}) but got {tuple(x.shape)}. "
            f"Resize the image to {height} x {width} with {chans} channel(s), add a batch axis with "
            f"x[None] if it is missing, or build the model with img_size=(C, H, W) of your image."
        )
    return x if dtype is None or x.dtype == dtype else x.to(dtype)


class Tokens2Token(nn.Module):
    """Turn an image into tokens with three soft splits and two token transformers.

    Shapes: ``(batch, C, H, W) -> (batch, num_tokens, token_len)``.

    Soft split ``i`` is ``nn.Unfold(k_i, s_i, p_i)``; strides and paddings default to T2T's
    ``s = ceil(k / 2)``, ``p = ceil(k / 4)``. Transformers 1 and 2 map each token to
    ``token_chan`` values, which are reshaped back into a ``token_chan``-channel image for the
    next split. The last split is projected linearly to ``token_len``.

    ``token_module`` picks ``"transformer"`` (:class:`TokenTransformer`) or ``"performer"``
    (:class:`TokenPerformer`, which ignores ``num_heads``, ``qkv_bias`` and ``qk_scale``).

    Input: a tensor of any real dtype (float64, uint8, bool, ...) is cast to the model's dtype
    and used as given, with no rescaling (uint8 pixels stay 0..255: divide by 255 yourself if
    the model expects [0, 1]). Any batch size works, 0 included; the input need not be
    contiguous (channels-last is fine).
    """

    def __init__(
        self,
        img_size: Sequence[int] = (1, 1700, 500),
        softsplit_kernels: Sequence[int] = (7, 3, 3),
        num_heads: int = 1,
        token_chan: int = 64,
        token_len: int = 768,
        hidden_chan_mul: float = 1.0,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: type[nn.Module] = nn.LayerNorm,
        token_module: str = "transformer",
        softsplit_strides: Sequence[int] | None = None,
        softsplit_paddings: Sequence[int] | None = None,
        kernel_ratio: float = 0.5,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        self.img_size = as_image_size(img_size)
        chans, height, width = self.img_size
        softsplit_kernels = int_sequence("softsplit_kernels", softsplit_kernels, 3, 1, "softsplit_kernels=(7, 3, 3)")
        if softsplit_strides is not None:
            softsplit_strides = int_sequence(
                "softsplit_strides", softsplit_strides, 3, 1, "softsplit_strides=(4, 2, 2)"
            )
        if softsplit_paddings is not None:
            softsplit_paddings = int_sequence(
                "softsplit_paddings", softsplit_paddings, 3, 0, "softsplit_paddings=(2, 1, 1)"
            )
        token_chan, token_len = positive_int("token_chan", token_chan), positive_int("token_len", token_len)
        positive_int("num_heads", num_heads, "num_heads=1")
        positive_float("hidden_chan_mul", hidden_chan_mul, "hidden_chan_mul=1.0")
        positive_float("kernel_ratio", kernel_ratio, "kernel_ratio=0.5")
        boolean("qkv_bias", qkv_bias)
        optional_positive_float("qk_scale", qk_scale)
        layer_class("act_layer", act_layer, "act_layer=nn.GELU")
        layer_class("norm_layer", norm_layer, "norm_layer=nn.LayerNorm")
        choice("token_module", token_module, ("transformer", "performer"))
        probability("drop", drop)
        tensor_size(
            "the projection weight (token_len x token_chan * k * k)",
            (token_len, token_chan * softsplit_kernels[2] ** 2),
            "use a shorter token_len or a smaller last kernel",
        )
        params = [soft_split_params(k) for k in softsplit_kernels]
        self.kernels = tuple(k for k, _, _ in params)
        self.strides = tuple(softsplit_strides or (s for _, s, _ in params))
        self.paddings = tuple(softsplit_paddings if softsplit_paddings is not None else (p for _, _, p in params))
        try:
            self.grids = stage_grids(height, width, self.kernels, self.strides, self.paddings)
        except ValueError as err:
            side = smallest_side(self.kernels, self.strides, self.paddings)
            raise ValueError(
                f"image {height} x {width} is too small for soft splits with kernels {self.kernels}, "
                f"strides {self.strides} and paddings {self.paddings} ({err}). The smallest size that "
                f"works is {side} x {side}: use an image at least that large or smaller kernels."
            ) from None
        self.num_tokens = self.grids[-1][0] * self.grids[-1][1]
        self.token_chan = token_chan
        self.token_len = token_len
        self.token_module = token_module

        self.soft_split0 = nn.Unfold(self.kernels[0], stride=self.strides[0], padding=self.paddings[0])
        self.soft_split1 = nn.Unfold(self.kernels[1], stride=self.strides[1], padding=self.paddings[1])
        self.soft_split2 = nn.Unfold(self.kernels[2], stride=self.strides[2], padding=self.paddings[2])
        dims = (chans * self.kernels[0] ** 2, token_chan * self.kernels[1] ** 2)
        if token_module == "transformer":
            self.transformer1, self.transformer2 = (
                TokenTransformer(
                    dim, token_chan, num_heads, hidden_chan_mul, qkv_bias, qk_scale, act_layer, norm_layer, drop
                )
                for dim in dims
            )
        elif token_module == "performer":
            self.transformer1, self.transformer2 = (
                TokenPerformer(
                    dim,
                    token_chan,
                    kernel_ratio,
                    hidden_chan_mul,
                    act_layer=act_layer,
                    norm_layer=norm_layer,
                    drop=drop,
                )
                for dim in dims
            )
        else:
            raise ValueError(f"token_module must be 'transformer' or 'performer', got {token_module!r}.")
        self.project = FastLinear(token_chan * self.kernels[2] ** 2, token_len)  # an nn.Linear

    @staticmethod
    def reconstruct(tokens: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Tokens ``(B, h * w, chan)`` -> image ``(B, chan, h, w)``: a pixel per token, a channel per value."""
        batch, _, chan = tokens.shape
        return tokens.transpose(1, 2).reshape(batch, chan, *grid)

    def forward_steps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every intermediate tensor, in order, keyed by the step that made it."""
        x = check_image(x, self.img_size, "Tokens2Token", self.project.weight.dtype)
        steps = {"image": x}
        steps["soft_split0"] = x = self.soft_split0(x).transpose(1, 2)
        steps["transformer1"] = x = self.transformer1(x)
        steps["reconstruct1"] = x = self.reconstruct(x, self.grids[0])
        steps["soft_split1"] = x = self.soft_split1(x).transpose(1, 2)
        steps["transformer2"] = x = self.transformer2(x)
        steps["reconstruct2"] = x = self.reconstruct(x, self.grids[1])
        steps["soft_split2"] = x = self.soft_split2(x).transpose(1, 2)
        steps["project"] = self.project(x)
        return steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The steps of :meth:`forward_steps`; ``_soft_split`` = reconstruct + soft split + transpose."""
        if not torch.jit.is_scripting() and not is_tracing():
            x = check_image(x, self.img_size, "Tokens2Token", self.project.weight.dtype)
        x = self.transformer1(self._soft_split(x, self.kernels[0], self.strides[0], self.paddings[0]))
        x = self.transformer2(self._soft_split(x, self.kernels[1], self.strides[1], self.paddings[1], self.grids[0]))
        return self.project(self._soft_split(x, self.kernels[2], self.strides[2], self.paddings[2], self.grids[1]))

    @staticmethod
    def _soft_split(x: torch.Tensor, k: int, s: int, p: int, grid: tuple[int, int] | None = None) -> torch.Tensor:
        """``nn.Unfold(k, stride=s, padding=p)(x).transpose(1, 2)`` as one contiguous copy.

        ``x`` is an image ``(B, C, H, W)`` (``grid=None``) or tokens ``(B, h * w, C)`` on a
        ``grid = (h, w)``, which are reconstructed first. Returns ``(B, num_patches, C * k * k)``,
        equal to ``unfold(image).transpose(1, 2)`` where ``image`` is ``x`` or ``reconstruct(x, grid)``.

        Speed (see benchmarks/): ``nn.Unfold`` writes ``(B, C*k*k, L)``, the transpose to
        token-major order then costs a second full copy (LayerNorm and Linear need it contiguous),
        and reconstructing tokens into an image costs a third. Here the patches are a strided
        *view* (``Tensor.unfold`` on both spatial axes) of the zero-padded input, tokens are
        read in place as a channels-last image ``(B, h, w, C)``, and one ``reshape`` copies
        the patches straight into token order.
        """
        if grid is None:  # image (B, C, H, W): spatial axes 2 and 3
            chans = x.shape[1]
            patches = F.pad(x, (p, p, p, p)).unfold(2, k, s).unfold(3, k, s)  # (B, C, h, w, k, k)
            patches = patches.permute(0, 2, 3, 1, 4, 5)  # (B, h, w, C, k, k): nn.Unfold's (C, k, k) order
        else:  # tokens (B, h * w, C) are a channels-last image (B, h, w, C): spatial axes 1 and 2
            chans = x.shape[2]
            image = x.reshape(x.shape[0], grid[0], grid[1], chans)
            patches = F.pad(image, (0, 0, p, p, p, p)).unfold(1, k, s).unfold(2, k, s)  # (B, h, w, C, k, k)
        return patches.reshape(patches.shape[0], patches.shape[1] * patches.shape[2], chans * k * k)
