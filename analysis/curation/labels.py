"""Curated labels as CSV: export them, import them back (after a model change, into a fresh
database, or into another deployment), and feed them to the offline classifier's retraining.

One row per curated analysis, keyed by the image's sha256 (and the catalog's name): the same
bytes are the same image wherever they are stored. `description` holds the whole curated
description as JSON; the other columns repeat its main attributes for people and training
scripts, and are ignored on import.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from analysis.curation.corrections import (
    analysis_correction_write,
    corrections_prepare,
    curated_description,
)
from analysis.curation.selectors import curated_analyses
from analysis.curation.services import CurationError, User
from analysis.models import AuditAction, VisualAnalysis
from analysis.providers.protocols import TextEmbedder
from materials.models import MaterialImage

COLUMNS = (
    "catalog",
    "sku",
    "material",
    "image_sha256",
    "image_path",
    "material_type",
    "category",
    "finish",
    "pattern",
    "colors",
    "status",
    "source",
    "reviewed_by",
    "reviewed_at",
    "description",
)
REQUIRED = ("image_sha256", "description")
EMBED_BATCH = 64


@dataclass
class LabelImportSummary:
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"updated {self.updated}, unchanged {self.unchanged}, skipped {self.skipped}, "
            f"failed {self.failed}"
        )


class LabelFileError(Exception):
    """The file as a whole cannot be read as a label CSV (nothing is imported)."""


def curated_label_row(*, analysis: VisualAnalysis) -> dict[str, str]:
    description = analysis.description or {}
    image = analysis.image
    return {
        "catalog": image.catalog.name,
        "sku": image.material.sku or "",
        "material": image.material.name,
        "image_sha256": image.sha256,
        "image_path": image.image.name,
        "material_type": description.get("material_type", ""),
        "category": description.get("category", ""),
        "finish": description.get("finish", ""),
        "pattern": description.get("pattern", ""),
        "colors": "; ".join(
            f"{c.get('name', '')} {c.get('hex', '')}".strip() for c in description.get("colors", [])
        ),
        "status": analysis.status,
        "source": analysis.source,
        "reviewed_by": analysis.reviewed_by.get_username() if analysis.reviewed_by else "",
        "reviewed_at": analysis.reviewed_at.isoformat() if analysis.reviewed_at else "",
        "description": json.dumps(description, sort_keys=True, ensure_ascii=False),
    }


def curated_labels_export(
    *,
    out: IO[str],
    catalog_name: str | None = None,
    analyses: Iterable[VisualAnalysis] | None = None,
) -> int:
    """Write the curated labels (all, a catalog's, or the given analyses) as CSV to `out`."""
    rows = analyses if analyses is not None else curated_analyses(catalog_name=catalog_name)
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for analysis in rows:
        writer.writerow(curated_label_row(analysis=analysis))
        count += 1
    return count


def _read_rows(handle: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None:
        raise LabelFileError("the file is empty: expected a header with image_sha256,description")
    missing = [name for name in REQUIRED if name not in reader.fieldnames]
    if missing:
        raise LabelFileError(
            f"the header lacks {', '.join(missing)} (has: {', '.join(reader.fieldnames)})"
        )
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise LabelFileError(f"line {reader.line_num}: {exc}") from exc


@dataclass(frozen=True)
class _Label:
    line: int
    analyses: list[VisualAnalysis]
    description: dict[str, Any]


def _targets(row: dict[str, str], *, create: bool) -> list[VisualAnalysis]:
    images = MaterialImage.objects.filter(sha256=row["image_sha256"].strip().lower())
    if (row.get("catalog") or "").strip():
        images = images.filter(catalog__name=row["catalog"].strip())
    analyses = []
    for image in images.select_related("material"):
        if create:
            # An image imported but not analysed yet gets its (curated) analysis now.
            analysis, _ = VisualAnalysis.objects.get_or_create(image=image)
        else:
            analysis = VisualAnalysis(image=image)
        analysis.image = image
        analyses.append(analysis)
    return analyses


def curated_labels_import(
    *,
    handle: IO[str],
    actor: User = None,
    text_embedder: TextEmbedder | None = None,
    dry_run: bool = False,
) -> LabelImportSummary:
    """Apply curated labels from CSV as curated corrections (audited as `import`).

    Rows whose image is not stored here are skipped; rows with a bad description fail with
    their line number; neither stops the others. A header without `image_sha256` and
    `description` raises `LabelFileError` before anything is written.
    """
    summary = LabelImportSummary()
    labels: list[_Label] = []
    for line, row in _read_rows(handle):
        try:
            raw = json.loads(row.get("description") or "")
            description = curated_description(raw=raw)
        except json.JSONDecodeError as exc:
            summary.failed += 1
            summary.problems.append(f"line {line}: description is not JSON ({exc.msg})")
            continue
        except CurationError as exc:
            summary.failed += 1
            summary.problems.append(f"line {line}: {exc.message}")
            continue
        analyses = _targets(row, create=not dry_run)
        if not analyses:
            summary.skipped += 1
            summary.problems.append(
                f"line {line}: no stored image with sha256 {row['image_sha256'][:12]}…"
                + (f" in catalog {row['catalog']!r}" if row.get("catalog") else "")
            )
            continue
        labels.append(_Label(line, analyses, description))
    if dry_run:  # validated and matched; nothing written
        summary.unchanged = sum(len(label.analyses) for label in labels)
        return summary
    for start in range(0, len(labels), EMBED_BATCH):
        chunk = labels[start : start + EMBED_BATCH]
        prepared = corrections_prepare(
            raws=[label.description for label in chunk], text_embedder=text_embedder
        )
        for label, correction in zip(chunk, prepared, strict=True):
            for analysis in label.analyses:
                result = analysis_correction_write(
                    analysis=analysis,
                    actor=actor,
                    prepared=correction,
                    note=f"imported from CSV line {label.line}",
                    action=AuditAction.IMPORT,
                )
                if result.changed:
                    summary.updated += 1
                else:
                    summary.unchanged += 1
    return summary
