"""Import a folder or a CSV of images into a catalog, one material per image."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from materials.errors import CatalogError, ImageIntakeError
from materials.intake import IntakeLimits, image_decode
from materials.models import Catalog
from materials.services import MaterialImageResult, material_create_with_image

# Files with these endings are treated as images (and refused with a reason if they are not);
# anything else in a folder (READMEs, CSVs, licences) is not part of the catalog.
IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".avif",
}
# Images Swatch does not take (vector or page formats): skipped, each with a line in the report.
REFUSED_SUFFIXES = {
    ".svg": "SVG is a vector format; export a PNG or JPEG of the material",
    ".svgz": "SVG is a vector format; export a PNG or JPEG of the material",
    ".eps": "EPS is a vector format; export a PNG or JPEG of the material",
    ".pdf": "a PDF is not an image; export a PNG or JPEG of the material",
}
# Columns with a place of their own on Material; every other CSV column is kept in attributes.
MATERIAL_COLUMNS = {"path", "name", "category", "sku", "supplier"}


class ImportSourceError(Exception):
    """The import as a whole cannot start (missing path, unreadable CSV)."""


@dataclass(frozen=True)
class ImportItem:
    path: Path
    row: dict[str, str]


@dataclass
class ImportFailure:
    path: Path
    code: str
    message: str


@dataclass
class ImportSummary:
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[ImportFailure] = field(default_factory=list)
    skipped_files: list[ImportFailure] = field(default_factory=list)  # never tried, with why
    created_image_ids: list[int] = field(default_factory=list)

    def line(self) -> str:
        return f"imported {self.imported}, skipped {self.skipped}, failed {self.failed}"


def read_labels(csv_path: Path) -> dict[Path, dict[str, str]]:
    """Rows of a labels CSV keyed by the resolved image path (relative to the CSV)."""
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "path" not in reader.fieldnames:
                raise ImportSourceError(f"{csv_path}: the CSV needs a 'path' column.")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportSourceError(f"{csv_path}: cannot read the CSV ({exc}).") from exc
    base = csv_path.parent
    return {
        (base / row["path"]).resolve(): {k: (v or "").strip() for k, v in row.items() if k}
        for row in rows
        if row.get("path")
    }


def _folder_items(root: Path, labels: dict[Path, dict[str, str]]) -> Iterator[ImportItem]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES | REFUSED_SUFFIXES.keys():
            continue
        resolved = path.resolve()
        row = dict(labels.get(resolved, {}))
        if not row.get("category") and path.parent != root:
            row["category"] = path.parent.name
        yield ImportItem(path=path, row=row)


def collect_items(path: Path, labels_csv: Path | None) -> list[ImportItem]:
    if not path.exists():
        raise ImportSourceError(f"{path}: no such file or folder.")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise ImportSourceError(f"{path}: give a folder of images or a CSV that lists them.")
        return [ImportItem(path=p, row=row) for p, row in read_labels(path).items()]
    labels = read_labels(labels_csv) if labels_csv else {}
    return list(_folder_items(path, labels))


def material_name_from_path(path: Path) -> str:
    # "ufoai__tex_mattn_brick03a" → "Tex mattn brick03a": drop the source prefix, keep the rest.
    stem = path.stem.split("__", 1)[-1]
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or path.name


def _read(item: ImportItem) -> bytes:
    try:
        return item.path.read_bytes()
    except OSError as exc:
        raise ImageIntakeError("unreadable", f"cannot read the file ({exc.strerror}).") from exc


def import_item(*, catalog: Catalog, item: ImportItem, limits: IntakeLimits) -> MaterialImageResult:
    """Import one file (created, or found by its hash). Raises on a bad file."""
    row = item.row
    result = material_create_with_image(
        catalog=catalog,
        data=_read(item),
        name=row.get("name") or material_name_from_path(item.path),
        category=row.get("category", ""),
        sku=row.get("sku") or None,
        supplier=row.get("supplier", ""),
        attributes={k: v for k, v in row.items() if k not in MATERIAL_COLUMNS and v},
        filename=item.path.name,
        limits=limits,
    )
    return result


def catalog_import(
    *,
    catalog: Catalog | Callable[[], Catalog],
    items: list[ImportItem],
    on_progress: Callable[[ImportItem, str], None] | None = None,
) -> ImportSummary:
    """Import every item; a bad file is recorded with its reason and the batch goes on.

    `catalog` may be a callable: the catalog is then made when the first file is good, so an
    import where every file fails leaves no empty catalog behind."""
    limits = IntakeLimits.from_settings()
    summary = ImportSummary()
    target = _Target(catalog)
    for item in items:
        refused = REFUSED_SUFFIXES.get(item.path.suffix.lower())
        if refused:
            summary.skipped += 1
            summary.skipped_files.append(ImportFailure(item.path, "unsupported_format", refused))
            outcome = "skipped"
        else:
            outcome = _import_one(target, item, limits, summary)
        if on_progress:
            on_progress(item, outcome)
    return summary


class _Target:
    """The catalog to import into, made on first use when given as a callable."""

    def __init__(self, catalog: Catalog | Callable[[], Catalog]) -> None:
        self._make = None if isinstance(catalog, Catalog) else catalog
        self._catalog = catalog if isinstance(catalog, Catalog) else None

    @property
    def made(self) -> bool:
        return self._catalog is not None

    def get(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._make()
        return self._catalog


def _import_one(target: _Target, item: ImportItem, limits: IntakeLimits, summary) -> str:
    try:
        if not target.made:  # the catalog is made for a good file only
            image_decode(data=_read(item), limits=limits)
        result = import_item(catalog=target.get(), item=item, limits=limits)
    except CatalogError as exc:
        summary.failed += 1
        summary.failures.append(ImportFailure(item.path, exc.code, exc.message))
        return "failed"
    if result.created:
        summary.imported += 1
        summary.created_image_ids.append(result.image.pk)
        return "imported"
    summary.skipped += 1
    return "skipped"
