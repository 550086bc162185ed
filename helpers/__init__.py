"""Building blocks of T2T-ViT for the notebook series, in three parts.

- :mod:`helpers.model`: the T2T-ViT itself, one small module per idea, holding only the model;
  around it :mod:`helpers.checks` (every argument check), :mod:`helpers.fast` (``make_fast``) and
  :mod:`helpers.timm` (timm's model contract, the model zoo and the official checkpoints);
- :mod:`helpers.figures`: every drawing and animation in the notebooks;
- :mod:`helpers.training`: the digits data, the training loop and the patch-ViT baseline.

The names a notebook uses most are importable from ``helpers`` directly. Importing ``helpers``
registers the nine T2T-ViT variants with timm (``timm.create_model("t2t_vit_t_14")``).
"""

from .fast import make_fast, make_plain
from .image import load_image, mountain_at_dusk
from .model import (
    Attention,
    EncodingBlock,
    NeuralNet,
    PerformerAttention,
    T2TViT,
    TokenPerformer,
    Tokens2Token,
    TokenTransformer,
    ViTBackbone,
    count_tokens,
    sinusoid_table,
    soft_split_params,
)
from .probe import attention_weights, t2t_steps
from .timm import zoo

__all__ = [
    "Attention",
    "EncodingBlock",
    "NeuralNet",
    "PerformerAttention",
    "T2TViT",
    "TokenPerformer",
    "TokenTransformer",
    "Tokens2Token",
    "ViTBackbone",
    "attention_weights",
    "count_tokens",
    "load_image",
    "make_fast",
    "make_plain",
    "mountain_at_dusk",
    "sinusoid_table",
    "soft_split_params",
    "t2t_steps",
    "zoo",
]
