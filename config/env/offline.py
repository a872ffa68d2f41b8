"""The offline models."""

from __future__ import annotations

from config.env.registry import declare

OFFLINE_THREADS = declare(
    "SWATCH_OFFLINE_THREADS",
    "2",
    "onnxruntime intra-op threads per offline model session (EfficientNet-Lite0, MiniLM); "
    "0 = one per core.",
)
OFFLINE_BATCH = declare(
    "SWATCH_OFFLINE_BATCH",
    "8",
    "Images per onnxruntime call of the offline image embedder (bench/bench_embedders.py "
    "measures batch 1/8/32 on this machine; larger batches lost on 2 busy cores).",
)
OFFLINE_WEIGHTS_DIR = declare(
    "SWATCH_OFFLINE_WEIGHTS_DIR",
    None,
    "Folder with the offline model files (ONNX graphs, tokenizer, type classifier). "
    "Default: the ones shipped in `analysis/weights/`.",
)
