"""The offline analyser: an honest `MaterialDescription` without a vision-language model.

Colours, lightness, contrast, texture regularity/direction/scale come from pixel statistics
(`analysis.offline.pixels`). The material type is a guess of a small classifier on the image
embedding (`analysis.offline.classifier`, trained by `manage.py train_type_classifier`) with a
temperature-calibrated probability: that probability is the description's overall confidence,
so an unsure guess goes to curation. Finish and pattern are guessed conservatively, "unknown"
where pixels cannot tell, each with a low confidence of its own.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from analysis.description import (
    CATEGORY_OF_TYPE,
    MATERIAL_TYPES,
    DescriptionInvalid,
    MaterialDescription,
    description_parse,
)
from analysis.offline import weights as w
from analysis.offline.classifier import ClassifierError, TypeClassifier
from analysis.offline.pixels import PixelStats, pixel_stats
from analysis.providers.offline_depth import offline_at_depth, offline_prompt_version
from analysis.providers.protocols import (
    NO_HINTS,
    DescribeHints,
    DescriptionResult,
    ImageEmbedder,
    ProviderError,
)
from config.lazy import Lazy

ANALYSER_VERSION = "offline-1"


def _finish(stats: PixelStats) -> tuple[str, float]:
    # Gloss needs lighting geometry; only a strongly relieved surface shows in pixels alone.
    if stats.contrast >= 0.35 and stats.edge_density >= 0.25:
        return "textured", 0.3
    return "unknown", 0.1


def _pattern(stats: PixelStats) -> tuple[str, float]:
    if stats.contrast < 0.05:
        return "solid", 0.6
    if stats.coherence >= 0.45 and stats.regularity >= 0.5:
        return "striped", 0.35
    if stats.coherence >= 0.35:
        return "grain", 0.3
    if stats.regularity >= 0.55:
        return "geometric", 0.3
    if stats.contrast >= 0.3 and stats.scale == "fine":
        return "speckled", 0.25
    if stats.scale in {"medium", "coarse"} and stats.contrast < 0.3:
        return "mottled", 0.25
    return "irregular", 0.2


def _properties(stats: PixelStats) -> list[str]:
    properties = []
    if stats.lightness >= 70:
        properties.append("light-toned")
    elif stats.lightness <= 30:
        properties.append("dark-toned")
    if stats.contrast >= 0.5:
        properties.append("high contrast")
    elif stats.contrast < 0.1:
        properties.append("low contrast")
    if stats.direction != "none":
        properties.append(f"{stats.direction} direction")
    if stats.regularity >= 0.55:
        properties.append("repeating pattern")
    if sum(1 for c in stats.colors if c.share >= 0.1) >= 4:
        properties.append("multicoloured")
    return properties


class OfflineAnalyser:
    source = "offline"
    prompt_version = ANALYSER_VERSION

    def __init__(
        self,
        *,
        embedder: ImageEmbedder | None = None,
        classifier: TypeClassifier | None = None,
        classifier_path: Path | str | None = None,
    ) -> None:
        if embedder is None:
            from analysis.providers.offline_image import EfficientNetLite0Embedder

            embedder = EfficientNetLite0Embedder()
        self.embedder = embedder
        self.classifier_path = (
            Path(classifier_path) if classifier_path else w.weights_path(w.TYPE_CLASSIFIER)
        )
        self._classifier: Lazy[TypeClassifier] = Lazy(
            self._classifier_load if classifier is None else lambda: classifier
        )

    @property
    def classifier(self) -> TypeClassifier:
        return self._classifier.get()

    def _classifier_load(self) -> TypeClassifier:
        if not self.classifier_path.is_file():
            raise ProviderError(
                f"type classifier {self.classifier_path} is missing "
                "(run `manage.py train_type_classifier`)",
                retryable=False,
                code="model_missing",
            )
        try:
            classifier = TypeClassifier.load(self.classifier_path)
        except ClassifierError as exc:
            raise ProviderError(str(exc), retryable=False, code="model_invalid") from exc
        if classifier.embedder_model != self.embedder.model or (
            classifier.dimensions != self.embedder.dimensions
        ):
            raise ProviderError(
                f"type classifier was trained on {classifier.embedder_model} "
                f"({classifier.dimensions}-d), the embedder is {self.embedder.model} "
                f"({self.embedder.dimensions}-d): retrain it",
                retryable=False,
                code="model_invalid",
            )
        return classifier

    @property
    def model_id(self) -> str:
        """Names the analyser, the embedder and the exact classifier weights (retraining changes
        it, so cached analyses of the old classifier are not reused)."""
        classifier = self.classifier
        digest = hashlib.sha256()
        for array in (classifier.weights, classifier.bias, np.array([classifier.temperature])):
            digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        return f"{ANALYSER_VERSION}+{self.embedder.model}+types-{digest.hexdigest()[:10]}"

    @property
    def embedding_model(self) -> str:
        """The classifier reads this model's image embedding: handed one, it embeds nothing."""
        return self.embedder.model

    def describe(self, image: Image.Image, *, hints: DescribeHints = NO_HINTS) -> DescriptionResult:
        classifier = self.classifier
        try:
            stats = pixel_stats(image)
        except OSError as exc:
            raise ProviderError(
                f"cannot read image: {exc}", retryable=False, code="bad_image"
            ) from exc
        if hints.embedding is not None and hints.embedding_model == self.embedder.model:
            vector = hints.embedding
        else:
            vector = self.embedder.embed_images([image]).vectors[0]
        probabilities = classifier.predict_proba(np.asarray(vector)[None, :])[0]
        raw = self._description(stats, classifier.classes, probabilities)
        ranked = [
            (classifier.classes[i], float(probabilities[i])) for i in np.argsort(-probabilities)
        ]
        raw, note = offline_at_depth(raw, stats, ranked, hints.depth)
        return DescriptionResult(
            description=self._parsed(raw),
            source=self.source,
            model_id=self.model_id,
            prompt_version=self.prompt_version_for(hints.depth),
            depth=hints.depth,
            depth_note=note,
        )

    def prompt_version_for(self, depth: str) -> str:
        """Each depth its own version (so its own cache key): `analysis.providers.offline_depth`."""
        return offline_prompt_version(self.prompt_version, depth)

    def _description(
        self, stats: PixelStats, classes: tuple[str, ...], probabilities: np.ndarray
    ) -> dict[str, Any]:
        """The detailed description, as raw data (`offline_at_depth` shapes the others)."""
        order = np.argsort(-probabilities)
        best, runner_up = order[0], order[1] if len(order) > 1 else order[0]
        material_type = classes[best] if classes[best] in MATERIAL_TYPES else "other"
        type_confidence = float(probabilities[best])
        finish, finish_confidence = _finish(stats)
        pattern, pattern_confidence = _pattern(stats)
        colour_spread = float(np.mean([c.spread for c in stats.colors]))
        names = ", ".join(dict.fromkeys(c.name for c in stats.colors))
        texture_words = (
            f"{'regular' if stats.regularity >= 0.55 else 'irregular'}, {stats.scale} "
            f"(relative to the image), contrast {stats.contrast:.2f}"
        )
        summary = (
            f"Offline pixel analysis, no vision model. Material type guessed from the image "
            f"embedding: {material_type} ({type_confidence:.0%}; next {classes[runner_up]} "
            f"{probabilities[runner_up]:.0%}). Colours: {names}. {pattern.capitalize()} pattern, "
            f"{stats.direction} direction, {texture_words}."
        )
        if finish == "unknown":
            summary += " Finish cannot be judged from pixels."
        raw = {
            "material_type": material_type,
            "category": CATEGORY_OF_TYPE[material_type],
            "colors": [
                {"name": c.name, "hex": c.hex, "lab": list(c.lab), "share": c.share}
                for c in stats.colors
            ],
            "lightness": round(stats.lightness, 2),
            "texture": {
                "scale": stats.scale,
                "regularity": round(stats.regularity, 3),
                "direction": stats.direction,
                "contrast": round(stats.contrast, 3),
                "description": texture_words,
            },
            "finish": finish,
            "pattern": pattern,
            "properties": _properties(stats),
            "confidence": {
                "overall": round(type_confidence, 4),
                "material_type": round(type_confidence, 4),
                "colors": round(float(np.clip(0.9 - colour_spread / 100.0, 0.5, 0.9)), 3),
                "texture": 0.5,
                "finish": finish_confidence,
                "pattern": pattern_confidence,
            },
            "summary": summary[:600],
        }
        return raw

    @staticmethod
    def _parsed(raw: dict[str, Any]) -> MaterialDescription:
        try:
            return description_parse(raw)
        except DescriptionInvalid as exc:  # a bug here, never the image's fault: say so loudly
            raise ProviderError(
                f"offline analyser produced an invalid description: {exc}",
                retryable=False,
                code="invalid_output",
            ) from exc
