"""The search tests' small real catalog (materials, images, analyses, embeddings) and real
small providers (see providers.py) installed for the API. A pytest plugin (tests/conftest.py
`pytest_plugins`): the API and reliability tests build the same catalog."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import pytest
from django.db import connection
from PIL import Image

from analysis.models import Embedding, VisualAnalysis
from analysis.vector_indexes import VectorIndex
from materials.services import catalog_get_or_create, material_create_with_image
from search.providers import SearchProviders, providers_override
from tests.conftest import make_image_bytes
from tests.search.providers import (
    IMAGE_MODEL,
    TEXT_MODEL,
    HistogramEmbedder,
    MeanColorDescriber,
    WordsEmbedder,
    describe_color,
)

TYPES_BY_COLOR = {"brown": "wood", "dark brown": "wood", "white": "marble", "grey": "stone"}
COLORS = {
    "brown": (120, 78, 45),
    "dark_brown": (70, 45, 28),
    "grey": (128, 128, 128),
    "white": (245, 245, 242),
    "terracotta": (190, 90, 60),
    "green": (60, 140, 60),
    "navy": (30, 40, 90),
    "purple": (110, 60, 140),
    "yellow": (230, 200, 60),
}


@pytest.fixture
def vector_indexes(db):
    """The partial HNSW indexes of the test models, as migrations make them for real ones."""
    with connection.cursor() as cursor:
        for index in (
            VectorIndex(IMAGE_MODEL, "image", 64),
            VectorIndex(TEXT_MODEL, "description", 64),
        ):
            cursor.execute(index.create_sql())


@pytest.fixture
def gate():
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def providers(gate):
    """Providers for the API: the describer waits for `gate` (so a test sees phase fast)."""
    chosen = SearchProviders(
        image_embedder=HistogramEmbedder(),
        text_embedder=WordsEmbedder(),
        describer=MeanColorDescriber(TYPES_BY_COLOR, gate=gate),
    )
    with providers_override(chosen):
        yield chosen


def png(rgb, size=(64, 48)) -> bytes:
    return make_image_bytes(size=size, color=rgb)


def two_color_png(left, right, left_share=0.5, size=(64, 64)) -> bytes:
    image = Image.new("RGB", size, right)
    image.paste(Image.new("RGB", (int(size[0] * left_share), size[1]), left), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class CatalogBuilder:
    image_embedder: HistogramEmbedder
    text_embedder: WordsEmbedder

    def add(
        self,
        name: str,
        rgb,
        *,
        catalog: str = "test",
        category: str = "",
        material_type: str = "other",
        finish: str = "matte",
        pattern: str = "solid",
        confidence: float = 0.9,
        attributes: dict | None = None,
        data: bytes | None = None,
        analysed: bool = True,
    ):
        result = material_create_with_image(
            catalog=catalog_get_or_create(name=catalog),
            data=data or png(rgb, size=(64 + len(name), 48)),
            name=name,
            category=category,
            attributes=attributes or {},
        )
        image = result.image
        with Image.open(image.image.path) as stored:
            vector = self.image_embedder.embed_images([stored.convert("RGB")]).vectors[0]
        Embedding.objects.create(
            image=image, kind="image", model=IMAGE_MODEL, dimensions=64, vector=vector.tolist()
        )
        if analysed:
            description = describe_color(
                rgb,
                material_type=material_type,
                finish=finish,
                pattern=pattern,
                confidence=confidence,
            )
            VisualAnalysis.objects.create(
                image=image,
                status="completed",
                source="offline",
                description=description.model_dump(mode="json"),
                material_type=material_type,
                confidence=confidence,
                model_id="test",
            )
            text_vector = self.text_embedder.embed_texts([description.as_text()]).vectors[0]
            Embedding.objects.create(
                image=image,
                kind="description",
                model=TEXT_MODEL,
                dimensions=64,
                vector=text_vector.tolist(),
            )
        return image.material


@pytest.fixture
def catalog_builder(db, vector_indexes):
    return CatalogBuilder(HistogramEmbedder(), WordsEmbedder())


@pytest.fixture
def sample_catalog(catalog_builder):
    """Seven materials across types; returns them by key."""
    b = catalog_builder
    return {
        "oak": b.add("Oak", COLORS["brown"], category="wood", material_type="wood",
                     pattern="grain", attributes={"supplier_code": "OAK-1"}),
        "walnut": b.add("Walnut", COLORS["dark_brown"], category="wood", material_type="wood",
                        pattern="grain", confidence=0.5),
        "slate": b.add("Slate", COLORS["grey"], category="stone", material_type="stone",
                       finish="honed", catalog="other"),
        "carrara": b.add("Carrara", COLORS["white"], category="marble", material_type="marble",
                         finish="polished", pattern="veined"),
        "brick": b.add("Old brick", COLORS["terracotta"], category="brick",
                       material_type="brick", finish="textured"),
        "grass": b.add("Lawn", COLORS["green"], category="grass", material_type="grass",
                       finish="natural"),
        "navy": b.add("Navy wool", COLORS["navy"], category="fabric", material_type="fabric",
                      pattern="woven"),
    }  # fmt: skip
