"""CLIP embeddings computed here, from a weights directory (transformers `CLIPModel`).

torch and transformers are imported on the first call only, so the rest of Swatch imports
and runs without them (`pip install -r requirements-ml.txt` adds them). The dimensions come
from the checkpoint's `config.json` (`projection_dim`, 512 for ViT-B/32) without loading it,
and the weights load offline only (`local_files_only`): no hub is ever asked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analysis.providers.protocols import EmbeddingBatch, ProviderError, embedding_batch
from config.lazy import Lazy

CLIP_MODEL = "clip-vit-b-32"


def clip_dimensions(weights_dir: Path) -> int:
    """`projection_dim` of the checkpoint in `weights_dir`, read from its config.json."""
    config_path = weights_dir / "config.json"
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise ProviderError(
            f"clip-local: no readable config.json in {weights_dir}",
            retryable=False,
            code="unavailable",
        ) from exc
    dims = config.get("projection_dim", 512)
    if not isinstance(dims, int) or dims <= 0:
        raise ProviderError(
            f"clip-local: bad projection_dim {dims!r} in {config_path}",
            retryable=False,
            code="unavailable",
        )
    return dims


class LocalClipEmbedder:
    """`ImageEmbedder` and `TextEmbedder` from a local CLIP checkpoint."""

    def __init__(
        self,
        weights_dir: str | Path,
        *,
        model: str = CLIP_MODEL,
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        self.weights_dir = Path(weights_dir)
        self.model = model
        self.dimensions = clip_dimensions(self.weights_dir)
        self.batch_size = max(batch_size, 1)
        self.threads = threads
        self._loaded: Lazy[tuple[Any, Any, Any, Any]] = Lazy(self._build)

    def _load(self) -> tuple[Any, Any, Any, Any]:
        return self._loaded.get()

    def _build(self) -> tuple[Any, Any, Any, Any]:
        try:
            import torch
            from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer
        except ImportError as exc:
            raise ProviderError(
                "clip-local needs torch and transformers (pip install -r requirements-ml.txt)",
                retryable=False,
                code="unavailable",
            ) from exc
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            net = CLIPModel.from_pretrained(self.weights_dir, local_files_only=True)
            processor = CLIPImageProcessor.from_pretrained(self.weights_dir, local_files_only=True)
            tokenizer = CLIPTokenizer.from_pretrained(self.weights_dir, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ProviderError(
                f"clip-local: cannot load CLIP from {self.weights_dir}: {exc}",
                retryable=False,
                code="unavailable",
            ) from exc
        net.eval()
        if net.config.projection_dim != self.dimensions:
            raise ProviderError(
                "clip-local: config.json and weights disagree on projection_dim",
                retryable=False,
                code="unavailable",
            )
        return torch, net, processor, tokenizer

    @staticmethod
    def _features(torch: Any, output: Any) -> np.ndarray:
        # transformers 4 returns the projected tensor, 5 a model output whose pooler_output
        # holds it.
        tensor = output if isinstance(output, torch.Tensor) else output.pooler_output
        tensor = torch.nn.functional.normalize(tensor.float(), dim=-1)
        return tensor.cpu().numpy().astype(np.float32)

    def _batch(self, chunks: list[np.ndarray]) -> EmbeddingBatch:
        vectors = np.concatenate(chunks) if chunks else []
        return embedding_batch(vectors, model=self.model, dimensions=self.dimensions)

    def embed_images(self, images: Sequence[Image.Image]) -> EmbeddingBatch:
        torch, net, processor, _ = self._load()
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = [image.convert("RGB") for image in images[start : start + self.batch_size]]
            pixels = processor(images=batch, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                chunks.append(self._features(torch, net.get_image_features(pixel_values=pixels)))
        return self._batch(chunks)

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        torch, net, _, tokenizer = self._load()
        limit = int(getattr(net.config.text_config, "max_position_embeddings", 77))
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            batch = [str(t) for t in texts[start : start + self.batch_size]]
            tokens = tokenizer(
                batch, padding=True, truncation=True, max_length=limit, return_tensors="pt"
            )
            with torch.inference_mode():
                chunks.append(
                    self._features(
                        torch,
                        net.get_text_features(
                            input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
                        ),
                    )
                )
        return self._batch(chunks)
