"""The T2T-ViT: soft split, token transformer, reconstruction, backbone, and the timm model zoo."""

from . import zoo as zoo  # importing it registers the T2T-ViT variants with timm
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
    "zoo",
]
