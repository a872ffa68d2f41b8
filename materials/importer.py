"""Import a folder or a CSV of images into a catalog, one material per image.

A CSV lists local files (`path`, relative to the CSV) or images at URLs (`url`, http/https):
those are downloaded by the fetcher named in `SWATCH["URL_FETCHER"]` (the one outbound HTTP
package, `analysis.http.download`: SSRF checks, timeouts, retries, a size cap), at most
`SWATCH["URL_IMPORT"]["CONCURRENCY"]` at a time, and written one by one in the CSV's order.
Resumable: a URL whose image is already in the catalog (`MaterialImage.source_url`) is
skipped without being downloaded again, and every image is written in its own transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from materials.errors import CatalogError, ImageIntakeError
from materials.intake import IntakeLimits, image_decode
from materials.models import Catalog, MaterialImage
from materials.services import MaterialImageResult, after_import_queue, material_create_with_image

# Files with these endings are treated as images (and refused with a reason if they are not);
# anything else in a folder (READMEs, CSVs, licences) is not part of the catalog.
IMAGE_SUFFIXES = set(".jpg .jpeg .png .webp .gif .bmp .tif .tiff .heic .heif .avif".split())
# Images Swatch does not take (vector or page formats): skipped, each with a line in the report.
REFUSED_SUFFIXES = {
    ".svg": "SVG is a vector format; export a PNG or JPEG of the material",
    ".svgz": "SVG is a vector format; export a PNG or JPEG of the material",
    ".eps": "EPS is a vector format; export a PNG or JPEG of the material",
    ".pdf": "a PDF is not an image; export a PNG or JPEG of the material",
}
# Columns with a place of their own on Material; every other CSV column is kept in attributes.
MATERIAL_COLUMNS = {"path", "url", "name", "category", "sku", "supplier"}


class ImportSourceError(Exception):
    """The import as a whole cannot start (missing path, unreadable CSV)."""


@dataclass(frozen=True)
class ImportItem:
    path: Path | None
    row: dict[str, str]
    url: str = ""

    @property
    def source(self) -> str:
        """What the item is, for people: its URL or its file."""
        return self.url or str(self.path)


@dataclass
class ImportFailure:
    path: str
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
    queued: int = 0  # new images queued for analysis
    analysed: str = ""  # what the analysis run here did (`analysis_here`)

    def line(self) -> str:
        return f"imported {self.imported}, skipped {self.skipped}, failed {self.failed}"


def _csv_rows(csv_path: Path, *, columns: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not set(columns) & set(reader.fieldnames):
                named = " or ".join(repr(c) for c in columns)
                raise ImportSourceError(f"{csv_path}: the CSV needs a {named} column.")
            return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportSourceError(f"{csv_path}: cannot read the CSV ({exc}).") from exc


def csv_items(csv_path: Path) -> list[ImportItem]:
    """The items a CSV lists: a row's `url` when it has one, else its `path`."""
    rows = _csv_rows(csv_path, columns=("path", "url"))
    items = [ImportItem(path=None, row=row, url=row["url"]) for row in rows if row.get("url")]
    paths = read_labels(csv_path, rows=[row for row in rows if not row.get("url")])
    return items + [ImportItem(path=p, row=row) for p, row in paths.items()]


def read_labels(
    csv_path: Path, *, rows: list[dict[str, str]] | None = None
) -> dict[Path, dict[str, str]]:
    """Rows of a labels CSV keyed by the resolved image path (relative to the CSV)."""
    if rows is None:
        rows = _csv_rows(csv_path, columns=("path",))
    base = csv_path.parent
    return {(base / row["path"]).resolve(): row for row in rows if row.get("path")}


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
        return csv_items(path)
    labels = read_labels(labels_csv) if labels_csv else {}
    return list(_folder_items(path, labels))


def material_name_from_path(path: Path) -> str:
    # "ufoai__tex_mattn_brick03a" → "Tex mattn brick03a": drop the source prefix, keep the rest.
    stem = path.stem.split("__", 1)[-1]
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or path.name


def item_bytes(item: ImportItem, fetch: Callable[[str], bytes] | None = None) -> bytes:
    """The item's image: its file read, or its URL downloaded (raises `CatalogError`)."""
    if item.url:
        return (fetch or url_fetcher())(item.url)
    try:
        return item.path.read_bytes()
    except OSError as exc:
        raise ImageIntakeError("unreadable", f"cannot read the file ({exc.strerror}).") from exc


def url_fetcher() -> Callable[[str], bytes]:
    """The configured downloader (materials never imports the HTTP package itself)."""
    return import_string(settings.SWATCH["URL_FETCHER"])


def import_item(
    *, catalog: Catalog, item: ImportItem, limits: IntakeLimits, data: bytes | None = None
) -> MaterialImageResult:
    """Import one item (created, or found by its hash). Raises on a bad file."""
    row = item.row
    data = item_bytes(item) if data is None else data
    named = Path(item.url.split("?", 1)[0].rstrip("/")) if item.url else item.path
    return material_create_with_image(
        catalog=catalog,
        data=data,
        name=row.get("name") or material_name_from_path(named),
        category=row.get("category", ""),
        sku=row.get("sku") or None,
        supplier=row.get("supplier", ""),
        attributes={k: v for k, v in row.items() if k not in MATERIAL_COLUMNS and v},
        filename=named.name,
        limits=limits,
        source_url=item.url,
    )


def _already_imported(target: _Target, items: list[ImportItem]) -> set[str]:
    urls = [item.url for item in items if item.url]
    catalog = target.existing()
    if not urls or catalog is None:
        return set()
    found = MaterialImage.objects.filter(catalog=catalog, source_url__in=urls)
    return set(found.values_list("source_url", flat=True))


def _fetched(items: list[ImportItem], concurrency: int) -> Iterator[tuple[ImportItem, object]]:
    """Each item with its bytes (or the `CatalogError` that stopped them), in order; URLs
    downloaded `concurrency` at a time, at most two windows ahead of the writes."""
    fetch = url_fetcher() if any(item.url for item in items) else None

    def get(item: ImportItem) -> object:
        try:
            return item_bytes(item, fetch)
        except CatalogError as exc:
            return exc

    window = max(1, concurrency) * 2
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="import") as pool:
        for start in range(0, len(items), window):
            chunk = items[start : start + window]
            yield from zip(chunk, pool.map(get, chunk), strict=True)


def _suffix(item: ImportItem) -> str:
    return Path(item.url.split("?", 1)[0]).suffix.lower() if item.url else item.path.suffix.lower()


def _skipped_first(items: list[ImportItem], done: set[str], summary: ImportSummary, on_progress):
    """The items to import: those already imported (by URL) and refused formats counted."""
    todo = []
    for item in items:
        refused = REFUSED_SUFFIXES.get(_suffix(item))
        if refused:
            summary.skipped_files.append(ImportFailure(item.source, "unsupported_format", refused))
        if refused or (item.url and item.url in done):
            summary.skipped += 1
            if on_progress:
                on_progress(item, "skipped")
            continue
        todo.append(item)
    return todo


def catalog_import(
    *,
    catalog: Catalog | Callable[[], Catalog],
    items: list[ImportItem],
    on_progress: Callable[[ImportItem, str], None] | None = None,
    concurrency: int | None = None,
    analysis: dict | None = None,
    analysis_here: bool = False,
) -> ImportSummary:
    """Import every item; a bad one is recorded with its reason and the batch goes on. URLs
    already imported into the catalog are skipped without a download. With `analysis` (its
    options), the new images are then queued for analysis, or, `analysis_here`, analysed in
    this process (a large import as a bulk load of the vectors, `analysis.import_runs`).

    `catalog` may be a callable: the catalog is then made when the first file is good, so an
    import where every file fails leaves no empty catalog behind."""
    limits = IntakeLimits.from_settings()
    summary = ImportSummary()
    target = _Target(catalog)
    todo = _skipped_first(items, _already_imported(target, items), summary, on_progress)
    workers = concurrency or settings.SWATCH["URL_IMPORT"]["CONCURRENCY"]
    for item, data in _fetched(todo, workers):
        outcome = _import_one(target, item, data, limits, summary)
        if on_progress:
            on_progress(item, outcome)
    if analysis is not None:
        done = after_import_queue(
            image_ids=summary.created_image_ids, analysis=analysis, here=analysis_here
        )
        if isinstance(done, str):
            summary.analysed = done
        else:
            summary.queued = done
    return summary


class _Target:
    """The catalog to import into, made on first use when given as a callable."""

    def __init__(self, catalog: Catalog | Callable[[], Catalog]) -> None:
        self._make = None if isinstance(catalog, Catalog) else catalog
        self._catalog = catalog if isinstance(catalog, Catalog) else None

    @property
    def made(self) -> bool:
        return self._catalog is not None

    def existing(self) -> Catalog | None:
        return self._catalog

    def get(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._make()
        return self._catalog


def _import_one(
    target: _Target, item: ImportItem, data: object, limits: IntakeLimits, summary
) -> str:
    try:
        if isinstance(data, CatalogError):
            raise data
        if not target.made:  # the catalog is made for a good file only
            image_decode(data=data, limits=limits)
        result = import_item(catalog=target.get(), item=item, limits=limits, data=data)
    except CatalogError as exc:
        summary.failed += 1
        summary.failures.append(ImportFailure(item.source, exc.code, exc.message))
        return "failed"
    if result.created:
        summary.imported += 1
        summary.created_image_ids.append(result.image.pk)
        return "imported"
    summary.skipped += 1
    return "skipped"
