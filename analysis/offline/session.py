"""A lazily built, thread-safe ONNX Runtime session.

Loading a graph costs a fraction of a second and tens of MB, so it happens on the first call, once
per process, under a lock; `InferenceSession.run` itself is safe to call from many threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from analysis.providers.protocols import ProviderError
from config.lazy import Lazy


class LazySession:
    def __init__(self, path: Path, *, intra_op_threads: int) -> None:
        self.path = Path(path)
        self.intra_op_threads = intra_op_threads
        self._session: Lazy[Any] = Lazy(self._build)

    def get(self) -> Any:
        return self._session.get()

    def _build(self) -> Any:
        import onnxruntime as ort  # deferred: ~0.3 s to import, and only the offline models need it

        if not self.path.is_file():
            raise ProviderError(
                f"offline model file {self.path} is missing (run `manage.py export_onnx`)",
                retryable=False,
                code="model_missing",
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(0, self.intra_op_threads)  # 0: one per core
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            return ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad graphs
            raise ProviderError(
                f"cannot load {self.path.name}: {exc}", retryable=False, code="model_invalid"
            ) from exc

    def run(self, output: str, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self.get().run([output], feeds)[0]
