"""all-MiniLM-L6-v2 text embeddings with `tokenizers` + onnxruntime (no torch, no hub).

The graph (`analysis/weights/minilm_l6_v2.onnx`, int8 per-channel, made by `manage.py
export_onnx`) does the mean pooling over the attention mask and the L2 normalisation itself.
Serves description↔description and text-query↔description similarity, not text↔image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.offline import weights as w
from analysis.offline.session import LazySession
from analysis.providers.protocols import EmbeddingBatch, ProviderError, embedding_batch
from analysis.vectors import l2_normalise
from config.lazy import Lazy

MAX_TOKENS = 256  # the model's max_seq_length; longer texts are truncated


class MiniLMTextEmbedder:
    model = w.TEXT_MODEL
    dimensions = w.TEXT_DIMENSIONS

    def __init__(
        self,
        graph_path: Path | str | None = None,
        tokenizer_path: Path | str | None = None,
        *,
        intra_op_threads: int | None = None,
    ) -> None:
        self.graph_path = Path(graph_path) if graph_path else w.weights_path(w.TEXT_GRAPH)
        self.tokenizer_path = (
            Path(tokenizer_path) if tokenizer_path else w.weights_path(w.TEXT_TOKENIZER)
        )
        threads = (
            intra_op_threads if intra_op_threads is not None else w.offline_setting("THREADS", 2)
        )
        self._session = LazySession(self.graph_path, intra_op_threads=threads)
        self._tokenizer: Lazy[Any] = Lazy(self._tokenizer_load)

    def _tokenizer_get(self) -> Any:
        return self._tokenizer.get()

    def _tokenizer_load(self) -> Any:
        from tokenizers import Tokenizer

        if not self.tokenizer_path.is_file():
            raise ProviderError(
                f"tokenizer file {self.tokenizer_path} is missing (run `manage.py export_onnx`)",
                retryable=False,
                code="model_missing",
            )
        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        return tokenizer

    def embed_texts(self, texts: Sequence[str]) -> EmbeddingBatch:
        if not texts:
            return embedding_batch([], model=self.model, dimensions=self.dimensions)
        if any(not isinstance(text, str) for text in texts):
            raise ProviderError("texts must be strings", retryable=False, code="bad_text")
        tokenizer = self._tokenizer_get()
        rows = []
        for encoding in tokenizer.encode_batch(list(texts)):
            # One text per run, unpadded: int8 dynamic quantisation scales activations over the
            # whole input tensor, so a batch (and its padding) would change each text's vector.
            feeds = {
                "input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
                "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
            }
            rows.append(self._session.run("embedding", feeds)[0])
        vectors = l2_normalise(np.stack(rows))
        return embedding_batch(vectors, model=self.model, dimensions=self.dimensions)
