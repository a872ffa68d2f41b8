"""The rows of a synthetic catalog, written with COPY (see `search.benchmark.synthetic`).

Each material carries two attributes a supplier's catalog would have, to measure filtered
search at fixed selectivities: `tier` (one of 20 values: a filter on one keeps 5% of the
catalog) and `lot` (one of 1000: 0.1%), assigned round-robin by position.
"""

from __future__ import annotations

import json

import numpy as np

from analysis.colors import NAMED_COLORS, rgb_to_hex, srgb_to_lab
from analysis.description import CATEGORY_OF_TYPE, FINISHES, MATERIAL_TYPES, PATTERNS
from analysis.models import Embedding, VisualAnalysis
from materials.models import Material, MaterialImage

MATERIAL = Material._meta.db_table
IMAGE = MaterialImage._meta.db_table
ANALYSIS = VisualAnalysis._meta.db_table
EMBEDDING = Embedding._meta.db_table

TYPES = [t for t in MATERIAL_TYPES if t != "other"]
_FINISHES = [f for f in FINISHES if f != "unknown"]
_PATTERNS = [p for p in PATTERNS if p != "unknown"]
_COLORS = list(NAMED_COLORS)
# Attribute → how many values it takes (a filter on one value keeps 1/that of the catalog).
FILTER_ATTRIBUTES = {"tier": 20, "lot": 1000}


def attribute_value(name: str, position: int) -> str:
    """The value of attribute `name` of the material at `position` in the catalog."""
    return f"{name[0]}{position % FILTER_ATTRIBUTES[name]}"


def attribute_mask(name: str, value: str, count: int) -> np.ndarray:
    """Which of the catalog's `count` positions hold `value` of attribute `name`."""
    modulus = FILTER_ATTRIBUTES[name]
    return np.arange(count) % modulus == int(value[1:])


def synthetic_description(rng: np.random.Generator, material_type: str) -> dict:
    color = _COLORS[int(rng.integers(len(_COLORS)))]
    rgb = NAMED_COLORS[color]
    lab = [round(float(v), 2) for v in srgb_to_lab(np.asarray(rgb, dtype=np.float64))]
    finish = _FINISHES[int(rng.integers(len(_FINISHES)))]
    pattern = _PATTERNS[int(rng.integers(len(_PATTERNS)))]
    return {
        "material_type": material_type,
        "category": CATEGORY_OF_TYPE[material_type],
        "colors": [{"name": color, "hex": rgb_to_hex(rgb), "lab": lab, "share": 1.0}],
        "lightness": lab[0],
        "texture": {
            "scale": ("fine", "medium", "coarse")[int(rng.integers(3))],
            "regularity": round(float(rng.uniform()), 3),
            "direction": ("none", "horizontal", "vertical")[int(rng.integers(3))],
            "contrast": round(float(rng.uniform(0, 0.6)), 3),
        },
        "finish": finish,
        "pattern": pattern,
        "properties": [],
        "confidence": {"overall": 0.9},
        "summary": f"Synthetic {color} {finish} {material_type}, {pattern} pattern.",
    }


def _attributes(position: int) -> str:
    return json.dumps({name: attribute_value(name, position) for name in FILTER_ATTRIBUTES})


def _copy_materials(cursor, *, catalog, now, material_ids, kinds) -> None:
    with cursor.copy(
        f"COPY {MATERIAL} (id, catalog_id, name, sku, category, supplier, attributes, "
        "created_at, updated_at) FROM STDIN"
    ) as copy:
        for i, material_id in enumerate(material_ids.tolist()):
            copy.write_row(
                (material_id, catalog.catalog_id, f"Synthetic {kinds[i]} {i}", f"bench-{i}",
                 kinds[i], "", _attributes(i), now, now)
            )  # fmt: skip


def _copy_images(cursor, *, catalog, now, material_ids, image_ids) -> None:
    with cursor.copy(
        f"COPY {IMAGE} (id, material_id, catalog_id, image, thumbnail, sha256, width, height, "
        "original_format, original_filename, is_primary, created_at) FROM STDIN"
    ) as copy:
        for i, (image_id, material_id) in enumerate(
            zip(image_ids.tolist(), material_ids.tolist(), strict=True)
        ):
            digest = f"{catalog.run}{i:056x}"
            copy.write_row(
                (image_id, material_id, catalog.catalog_id, f"bench/{digest}.jpg", "", digest,
                 256, 256, "JPEG", f"synthetic-{i}.jpg", True, now)
            )  # fmt: skip


_ANALYSIS_COLUMNS = (
    "id", "image_id", "status", "source", "description", "model_output", "material_type",
    "confidence", "model_id", "prompt_version", "error_reason", "attempts", "created_at",
    "updated_at",
)  # fmt: skip


def _model_defaults(model, given: tuple[str, ...]) -> tuple[list[str], list]:
    """The NOT NULL columns of `model` the COPY does not name, with the ORM's defaults (a
    column added later with a Python-side default must not break the load)."""
    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in given or f.null or f.primary_key:
            continue
        value = f.get_default()
        if value is None:
            continue
        columns.append(f.column)
        values.append(json.dumps(value) if f.get_internal_type() == "JSONField" else value)
    return columns, values


def _copy_analyses(cursor, *, now, image_ids, analysis_ids, sub_of_item, sub_descriptions) -> None:
    extra_columns, extra = _model_defaults(VisualAnalysis, _ANALYSIS_COLUMNS)
    columns = ", ".join([*_ANALYSIS_COLUMNS, *extra_columns])
    with cursor.copy(f"COPY {ANALYSIS} ({columns}) FROM STDIN") as copy:
        texts = [json.dumps(d) for d in sub_descriptions]
        for i, (analysis_id, image_id) in enumerate(
            zip(analysis_ids.tolist(), image_ids.tolist(), strict=True)
        ):
            sub = sub_of_item[i]
            copy.write_row(
                (analysis_id, image_id, "completed", "offline", texts[sub], "{}",
                 sub_descriptions[sub]["material_type"], 0.9, "bench-synthetic", "", "", 1,
                 now, now, *extra)
            )  # fmt: skip


def copy_embeddings(cursor, *, now, image_ids, indexed_vectors) -> None:
    """COPY (binary) the vectors of each (index, vectors) pair, one row per image."""
    with cursor.copy(
        f"COPY {EMBEDDING} (image_id, kind, model, dimensions, vector, source_sha256, created_at) "
        "FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(
            ["bigint", "varchar", "varchar", "integer", "vector", "varchar", "timestamptz"]
        )
        for index, vectors in indexed_vectors:
            for image_id, vector in zip(image_ids.tolist(), vectors, strict=True):
                copy.write_row(
                    (image_id, index.kind, index.model, index.dimensions, vector, "", now)
                )


def synthetic_rows_copy(
    cursor, *, catalog, now, ids, sub_of_item, sub_descriptions, vectors
) -> None:
    """COPY the catalog's materials, images, analyses and both embeddings of each image."""
    material_ids, image_ids, analysis_ids = ids
    kinds = [sub_descriptions[sub]["material_type"] for sub in sub_of_item]
    _copy_materials(cursor, catalog=catalog, now=now, material_ids=material_ids, kinds=kinds)
    _copy_images(cursor, catalog=catalog, now=now, material_ids=material_ids, image_ids=image_ids)
    _copy_analyses(
        cursor, now=now, image_ids=image_ids, analysis_ids=analysis_ids,
        sub_of_item=sub_of_item, sub_descriptions=sub_descriptions,
    )  # fmt: skip
    image_vectors, text_vectors = vectors
    copy_embeddings(
        cursor, now=now, image_ids=image_ids,
        indexed_vectors=((catalog.image_index, image_vectors), (catalog.text_index, text_vectors)),
    )  # fmt: skip
