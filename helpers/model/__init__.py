"""The T2T-ViT as the paper describes it: soft split, token transformer, reconstruction, backbone.

These classes hold only the model. Around them: :mod:`helpers.checks` (argument and input checks),
:mod:`helpers.fast` (the fused soft split and the oneDNN linear) and :mod:`helpers.timm` (timm's
model contract, the model zoo and the official checkpoints).
"""

from .attention import Attention
from .backbone import EncodingBlock, ViTBackbone, sinusoid_table
from .neuralnet import NeuralNet
from .performer import PerformerAttention, TokenPerformer
from .t2t_vit import T2TViT
from .token_transformer import TokenTransformer
from .tokens import count_tokens, soft_split_params
from .tokens2token import Tokens2Token

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
    "count_tokens",
    "sinusoid_table",
    "soft_split_params",
]
