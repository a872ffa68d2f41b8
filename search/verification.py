"""Spatial verification: is the query a photo of this very sample?

The image embedding says what a material looks like; it cannot tell two variants of one
texture apart once a photo crops, tilts, rescales and relights the sample. Local features can:
SIFT keypoints of the query are matched to each top candidate's stored image and a
similarity transform is fitted with RANSAC; the inliers count how much of the query lies,
rigidly, on the candidate. Classic instance retrieval re-ranks its shortlist this way.

The count becomes a bonus on the fused score, `weight · ln(1 + inliers)`, for the few
candidates checked. Repetitive textures also find some inliers on a neighbour, so the
bonus is soft (logarithmic) rather than a verdict. Only image queries are verified, in the
request while the pixels are in memory (query images are never stored); the counts travel
in the query state so a refined answer keeps them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image

from materials.selectors import material_primary_image_files
from search.fusion import Fused

logger = logging.getLogger("swatch.search")

# Features are found with the long side at 256 px (small images scaled up). At 512 px a
# 128 px swatch is scaled up 4×: its interpolation and JPEG-block edges become keypoints that
# match unrelated images by chance (measured on shared/data phone photos: 20–150 inliers on
# other materials), while a photo's own sample found fewer; at 256 px the features are the
# texture's own (instance recall@1 0.72 → 0.79, evaluate_search).
WORKING_SIDE = 256
MIN_SHORT_SIDE = 128
MAX_FEATURES = 1000
# A low contrast threshold and local contrast equalisation (CLAHE) find keypoints on faint
# texture; measured on shared/data: 2 of 156 photos had none on their own sample, 35 before.
CONTRAST_THRESHOLD = 0.02
RATIO = 0.8  # Lowe's ratio test
RANSAC_PIXELS = 6.4
# "Same sample" is said of the candidate with the most inliers when it has at least this
# many and at least twice the next one's: repetitive textures match a neighbour a little.
SAME_SAMPLE_INLIERS = 12
SAME_SAMPLE_MARGIN = 2.0
# Keypoints are found in grey levels, so colourways of one design, or one photograph filed
# twice, are geometric twins: candidates within this share of the best count are all
# "the winner" to geometry, the margin is taken over the next one that is not, and the image
# embedding (which sees colour) picks among the twins.
SAME_SAMPLE_TWINS = 0.7
# The same pixels give the same vector (catalog and queries share one normalisation): an image
# cosine this close to 1 is the catalog's own image again, whatever bytes carried it, even on
# a texture too smooth for keypoints.
SAME_PIXELS_COSINE = 0.995


@dataclass(frozen=True)
class Features:
    points: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray | None  # (n, 128) float32


def _cv2():
    import cv2  # imported on first use: only image queries need it

    return cv2


def image_features(image: Image.Image) -> Features:
    cv2 = _cv2()
    gray = np.asarray(image.convert("L"))
    # A wide crop (a boxed floor) keeps at least MIN_SHORT_SIDE px across instead of a thin
    # strip; photos and swatches up to 2:1 are found at the long side's working size.
    scale = max(WORKING_SIDE / max(gray.shape), MIN_SHORT_SIDE / min(gray.shape))
    size = (max(1, int(gray.shape[1] * scale)), max(1, int(gray.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    gray = cv2.resize(gray, size, interpolation=interpolation)
    gray = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(gray)
    sift = cv2.SIFT_create(nfeatures=MAX_FEATURES, contrastThreshold=CONTRAST_THRESHOLD)
    keypoints, descriptors = sift.detectAndCompute(gray, None)
    points = np.float32([k.pt for k in keypoints]).reshape(-1, 2)
    return Features(points=points, descriptors=descriptors)


def inlier_count(query: Features, candidate: Features) -> int:
    """Matches between the two that one similarity transform explains."""
    if query.descriptors is None or candidate.descriptors is None:
        return 0
    if len(query.points) < 4 or len(candidate.points) < 4:
        return 0
    cv2 = _cv2()
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(query.descriptors, candidate.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 4:
        return 0
    source = query.points[[m.queryIdx for m in good]]
    target = candidate.points[[m.trainIdx for m in good]]
    cv2.setRNGSeed(0)  # RANSAC samples at random: the same query must rank the same way
    _, mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS
    )
    return int(mask.sum()) if mask is not None else 0


class _Unreadable(Exception):
    pass


@lru_cache(maxsize=512)
def _features_of_stored(name: str) -> Features:
    # Stored names are content hashes, so a name's features never change: cached per process
    # (descriptors as uint8, SIFT's own range: ~128 KB an image, 64 MB when full).
    try:
        with default_storage.open(name, "rb") as handle:
            image = Image.open(handle)
            image.load()
    except (OSError, ValueError) as exc:
        raise _Unreadable(str(exc)) from exc
    features = image_features(image)
    if features.descriptors is None:
        return features
    return Features(features.points, np.clip(features.descriptors, 0, 255).astype(np.uint8))


def _stored_features(name: str) -> Features | None:
    try:
        features = _features_of_stored(name)
    except _Unreadable as exc:
        logger.warning("verification: cannot read stored image %s (%s)", name, exc)
        return None
    if features.descriptors is None:
        return features
    return Features(features.points, features.descriptors.astype(np.float32))


def sample_inliers(*, query: Features, material_ids: Sequence[int]) -> dict[int, int]:
    """Inliers between the query's features (`image_features`) and each material's primary
    image."""
    if not material_ids:
        return {}
    files = material_primary_image_files(material_ids=list(material_ids))
    counts: dict[int, int] = {}
    for material_id in material_ids:
        name = files.get(material_id)
        features = _stored_features(name) if name else None
        counts[material_id] = inlier_count(query, features) if features else 0
    return counts


def same_sample_of(
    inliers: dict[int, int], cosines: Mapping[int, float] | None = None
) -> int | None:
    """The material the query is a photo of, when one candidate, or a set of geometric twins
    (`SAME_SAMPLE_TWINS`), clearly stands out; among twins the highest image cosine wins."""
    ordered = sorted(inliers.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ordered or ordered[0][1] < SAME_SAMPLE_INLIERS:
        return None
    best = ordered[0][1]
    twins = [mid for mid, count in ordered if count >= SAME_SAMPLE_TWINS * best]
    runner_up = next((count for _, count in ordered if count < SAME_SAMPLE_TWINS * best), 0)
    if best < SAME_SAMPLE_MARGIN * runner_up:
        return None
    cosines = cosines or {}
    return max(twins, key=lambda mid: (cosines.get(mid, 0.0), -mid))


def verified_rerank(
    fused: Sequence[Fused], inliers: dict[int, int], weight: float, *, claims: bool = True
) -> list[Fused]:
    """The fused ranking with the inliers on the vector evidence of the candidates checked
    (calibrated relevance reads them there) and, for `weight` > 0 (rrf and relative fusion),
    a bonus on their fused score. `claims` off: no candidate is called the same sample (the
    query is probably not a material photo at all: search/services/answer.py).

    Added after fusion, not to the vector scores: a bonus inside one strategy's list would
    stretch its score range and so shrink every other candidate's normalised score."""
    if not inliers:
        return list(fused)
    cosines = {item.material_id: item.scores["vector"].score for item in fused
               if "vector" in item.scores}  # fmt: skip
    same_sample = same_sample_of(inliers, cosines) if claims else None
    reranked = []
    for item in fused:
        count = inliers.get(item.material_id)
        if count is None:
            reranked.append(item)
            continue
        scores = dict(item.scores)
        if "vector" in scores:
            vector = scores["vector"]
            details = {
                **vector.details,
                "sample_inliers": count,
                "same_sample": item.material_id == same_sample,
            }
            scores["vector"] = replace(vector, details=details)
        reranked.append(Fused(item.material_id, item.score + weight * math.log1p(count), scores))
    return sorted(reranked, key=lambda f: (-f.score, f.material_id))


def identical_marked(fused: Sequence[Fused]) -> list[Fused]:
    """The ranking with "same sample" on each candidate whose image vector is (all but) the
    query's own: the same pixels uploaded again."""
    marked = []
    for item in fused:
        vector = item.scores.get("vector")
        if vector is None or vector.score < SAME_PIXELS_COSINE or vector.details.get("same_sample"):
            marked.append(item)
            continue
        scores = {
            **item.scores,
            "vector": replace(vector, details={**vector.details, "same_sample": True}),
        }
        marked.append(replace(item, scores=scores))
    return marked
