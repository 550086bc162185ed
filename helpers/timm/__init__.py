"""timm's side of the T2T-ViT: the model class with timm's methods, the registry of the nine variants,
their table, and the loader for the official checkpoints. Importing it registers the variants, and
makes timm's hub look-ups fail fast without a network (:mod:`.hub`)."""

from . import hub as hub  # timm.create_model("hf-hub:...") stops at once offline, naming HF_HUB_OFFLINE
from . import zoo as zoo  # registers the variants with timm
from .checkpoint import checkpoint_filter_fn, load_checkpoint_file, sniff_file
from .model import TimmT2TViT
from .variants import COMMON, OFFICIAL_FILES, PAPER_PARAMS, VARIANTS

__all__ = [
    "COMMON",
    "OFFICIAL_FILES",
    "PAPER_PARAMS",
    "VARIANTS",
    "TimmT2TViT",
    "checkpoint_filter_fn",
    "hub",
    "load_checkpoint_file",
    "sniff_file",
    "zoo",
]
