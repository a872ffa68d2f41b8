"""The model side of ingestion: describe ∥ embed, quality check, text embedding.

Nothing here writes to the database or runs inside a transaction: model calls are slow I/O.
Results are cached (see `analysis.caching`), so the same bytes are not sent to a model twice
within the cache's lifetime.

Describing and embedding run in two threads (`run`). When the describer can use the
pipeline's own image embedding (its `embedding_model` is the image embedder's: the offline
analyser classifies the embedding), the image is embedded once: the embedder works through
sub-batches (`embed`) while the describer describes the ones already embedded (`describe`),
so the two still overlap.
"""

from analysis.compute.run import pipeline_run

__all__ = ["pipeline_run"]
