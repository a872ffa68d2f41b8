"""Where the shipped offline model files live, and the facts about them that code relies on.

The graphs are made by `python manage.py export_onnx` (torch, a development step) and the
classifier by `python manage.py train_type_classifier`; both write into `WEIGHTS_DIR`.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"

IMAGE_MODEL = "efficientnet-lite0"
IMAGE_GRAPH = "efficientnet_lite0.onnx"
IMAGE_INPUT = "pixels"
IMAGE_OUTPUT = "embedding"
IMAGE_POOLED_OUTPUT = "pooled"
IMAGE_POOLED_DIMENSIONS = 1280
# The embedding joins the head's global average pool (1280) with the average pools of four
# mid-level stages (40 + 80 + 112 + 192 channels): on the shared textures this lifted
# leave-group-out P@1 from 0.66 to 0.71 and mAP from 0.43 to 0.46 (see docs in LICENSES.md).
IMAGE_STAGE_BLOCKS = (4, 7, 10, 14)
IMAGE_DIMENSIONS = 1704

TEXT_MODEL = "all-minilm-l6-v2"
TEXT_GRAPH = "minilm_l6_v2.onnx"
TEXT_TOKENIZER = "tokenizer.json"
TEXT_CONFIG = "minilm_l6_v2.json"
TEXT_DIMENSIONS = 384

TYPE_CLASSIFIER = "type_classifier.npz"
TYPE_CLASSIFIER_CARD = "type_classifier.json"


def weights_dir() -> Path:
    """The configured weights directory (`SWATCH_OFFLINE_WEIGHTS_DIR`), else the shipped one."""
    configured = getattr(settings, "SWATCH_OFFLINE", {}).get("WEIGHTS_DIR")
    return Path(configured) if configured else WEIGHTS_DIR


def weights_path(name: str) -> Path:
    return weights_dir() / name


def offline_setting(key: str, default: int) -> int:
    return int(getattr(settings, "SWATCH_OFFLINE", {}).get(key, default))
