"""The paper's nine T2T-ViT variants as data: their arguments, sizes and official release files.

Plain tables with no imports from the rest of the package, so that :mod:`.zoo` (the timm
registry) and :mod:`.checkpoint` (loading) can both read them without importing each other.
"""

from __future__ import annotations

from typing import Any

# name -> the T2TViT arguments that differ between variants.
VARIANTS: dict[str, dict[str, Any]] = {
    "t2t_vit_7": dict(token_module="performer", token_len=256, depth=7, num_heads=4, encoding_hidden_chan_mul=2.0),
    "t2t_vit_10": dict(token_module="performer", token_len=256, depth=10, num_heads=4, encoding_hidden_chan_mul=2.0),
    "t2t_vit_12": dict(token_module="performer", token_len=256, depth=12, num_heads=4, encoding_hidden_chan_mul=2.0),
    "t2t_vit_14": dict(token_module="performer", token_len=384, depth=14, num_heads=6, encoding_hidden_chan_mul=3.0),
    "t2t_vit_19": dict(token_module="performer", token_len=448, depth=19, num_heads=7, encoding_hidden_chan_mul=3.0),
    "t2t_vit_24": dict(token_module="performer", token_len=512, depth=24, num_heads=8, encoding_hidden_chan_mul=3.0),
    "t2t_vit_t_14": dict(
        token_module="transformer", token_len=384, depth=14, num_heads=6, encoding_hidden_chan_mul=3.0
    ),
    "t2t_vit_t_19": dict(
        token_module="transformer", token_len=448, depth=19, num_heads=7, encoding_hidden_chan_mul=3.0
    ),
    "t2t_vit_t_24": dict(
        token_module="transformer", token_len=512, depth=24, num_heads=8, encoding_hidden_chan_mul=3.0
    ),
}

# name -> (parameters in millions, including the position embedding; GMACs at 224 x 224), from the paper.
PAPER_PARAMS: dict[str, tuple[float, float]] = {
    "t2t_vit_7": (4.3, 1.1),
    "t2t_vit_10": (5.9, 1.5),
    "t2t_vit_12": (6.9, 1.8),
    "t2t_vit_14": (21.5, 4.8),
    "t2t_vit_19": (39.2, 8.5),
    "t2t_vit_24": (64.1, 13.8),
    "t2t_vit_t_14": (21.5, 6.1),
    "t2t_vit_t_19": (39.2, 9.8),
    "t2t_vit_t_24": (64.1, 15.0),
}

# Settings shared by all nine variants (the official T2T module).
COMMON: dict[str, Any] = dict(
    softsplit_kernels=(7, 3, 3),
    softsplit_strides=(4, 2, 2),
    softsplit_paddings=(2, 1, 1),
    token_chan=64,
    t2t_num_heads=1,
    t2t_hidden_chan_mul=1.0,
    qkv_bias=False,
)

# Official dropout inside the Performer token module (on proj and after the MLP), in training only.
T2T_DROP = {"performer": 0.1, "transformer": 0.0}

# Top-1 accuracy of the official release at 224 x 224, as published with the weights.
OFFICIAL_TOP1 = {
    "t2t_vit_7": 71.7,
    "t2t_vit_10": 75.2,
    "t2t_vit_12": 76.5,
    "t2t_vit_14": 81.5,
    "t2t_vit_19": 81.9,
    "t2t_vit_24": 82.3,
    "t2t_vit_t_14": 81.7,
    "t2t_vit_t_19": 82.4,
    "t2t_vit_t_24": 82.6,
}

# The official release files (github.com/yitu-opensource/T2T-ViT/releases), one per variant.
OFFICIAL_FILES = {
    "t2t_vit_7": "71.7_T2T_ViT_7.pth.tar",
    "t2t_vit_10": "75.2_T2T_ViT_10.pth.tar",
    "t2t_vit_12": "76.5_T2T_ViT_12.pth.tar",
    "t2t_vit_14": "81.5_T2T_ViT_14.pth.tar",
    "t2t_vit_19": "81.9_T2T_ViT_19.pth.tar",
    "t2t_vit_24": "82.3_T2T_ViT_24.pth.tar",
    "t2t_vit_t_14": "81.7_T2T_ViTt_14.pth.tar",
    "t2t_vit_t_19": "82.4_T2T_ViTt_19.pth.tar",
    "t2t_vit_t_24": "82.6_T2T_ViTt_24.pth.tar",
}
