"""Building blocks of T2T-ViT, one small module each, for the notebook series."""

from . import zoo as zoo  # importing it registers the T2T-ViT variants with timm
from .attention import Attention
from .backbone import EncodingBlock, ViTBackbone, sinusoid_table
from .image import load_image, mountain_at_dusk
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
    "load_image",
    "mountain_at_dusk",
    "sinusoid_table",
    "soft_split_params",
]
