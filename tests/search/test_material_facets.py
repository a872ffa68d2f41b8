"""The search read model stays what the source tables say, whichever write changes them:
each step below is checked against the rows computed from the catalog and analyses."""

from __future__ import annotations

import importlib
import json

import pytest
from django.db import connection

from analysis.curation.corrections import analysis_correct
from analysis.curation.services import analysis_approve, analysis_reject
from analysis.models import VisualAnalysis
from materials.models import Catalog, Material, MaterialImage
from search.benchmark.synthetic import synthetic_catalog_drop, synthetic_catalog_load
from search.models import MaterialFacets
from tests.search.catalog_support import COLORS
from tests.search.providers import WordsEmbedder

pytestmark = pytest.mark.django_db
BULK = importlib.import_module("search.migrations.0004_material_facets_bulk_refresh").BULK

# The rows as the search read them from the source tables before the read model existed.
TRUTH = """
SELECT DISTINCT ON (m.id) m.id, m.name, m.category, c.name, mi.thumbnail, mi.image,
       jsonb_build_object('material_type', va.description->'material_type',
           'colors', va.description->'colors', 'finish', va.description->'finish',
           'pattern', va.description->'pattern', 'texture', va.description->'texture')
  FROM materials_material m
  JOIN materials_materialimage mi ON mi.material_id = m.id
  LEFT JOIN material_visual_analysis va ON va.image_id = mi.id AND va.status <> 'rejected'
  JOIN materials_catalog c ON c.id = m.catalog_id
 ORDER BY m.id, mi.is_primary DESC, mi.id
"""


def _truth() -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(TRUTH)
        return {row[0]: (*row[1:6], json.loads(row[6])) for row in cursor.fetchall()}


def _facets() -> dict[int, tuple]:
    return {
        f.material_id: (f.name, f.category, f.catalog, f.thumbnail, f.image, f.compared)
        for f in MaterialFacets.objects.all()
    }


def _second_image(material: Material, *, primary: bool) -> MaterialImage:
    return MaterialImage.objects.create(
        material=material, catalog=material.catalog, image=f"extra/{material.pk}.png",
        thumbnail=f"extra/{material.pk}-thumb.jpg", sha256=f"{material.pk:064x}",
        is_primary=primary,
    )  # fmt: skip


def test_the_read_model_follows_every_write(catalog_builder, admin_user):
    # given materials created by the services, with their analyses
    oak = catalog_builder.add("Oak", COLORS["brown"], category="wood", material_type="wood")
    slate = catalog_builder.add("Slate", COLORS["grey"], category="stone", material_type="stone")
    bare = catalog_builder.add("Unanalysed", COLORS["green"], analysed=False)
    assert _facets() == _truth()
    assert set(_facets()) == {oak.pk, slate.pk, bare.pk}
    assert _facets()[oak.pk][5]["material_type"] == "wood"

    # when a curator corrects one, rejects another, then approves it again
    analysis = VisualAnalysis.objects.get(image__material=oak)
    analysis_correct(
        analysis=analysis, actor=admin_user, text_embedder=WordsEmbedder(),
        description={**analysis.description, "material_type": "cork", "finish": "matte"},
    )  # fmt: skip
    assert _facets()[oak.pk][5]["material_type"] == "cork"
    analysis_reject(analysis=VisualAnalysis.objects.get(image__material=slate), actor=admin_user)
    assert _facets()[slate.pk][5] == dict.fromkeys(
        ("material_type", "colors", "finish", "pattern", "texture")
    )
    analysis_approve(analysis=VisualAnalysis.objects.get(image__material=slate), actor=admin_user)
    assert _facets()[slate.pk][5]["material_type"] == "stone"
    assert _facets() == _truth()

    # when a material is renamed (a model save, and a bulk update) and its catalog renamed
    oak.name = "Smoked oak"
    oak.save()
    Material.objects.filter(pk=slate.pk).update(name="Welsh slate", category="slate")
    Catalog.objects.filter(pk=oak.catalog_id).update(name="renamed catalog")
    assert _facets()[oak.pk][:3] == ("Smoked oak", "wood", "renamed catalog")
    assert _facets()[slate.pk][:2] == ("Welsh slate", "slate")
    assert _facets() == _truth()

    # when a second image becomes the primary one, then is removed again
    first = oak.images.get()
    first.is_primary = False
    first.save()
    extra = _second_image(oak, primary=True)
    assert _facets()[oak.pk][4] == f"extra/{oak.pk}.png"
    assert _facets() == _truth()
    extra.delete()
    assert _facets() == _truth()

    # when a material loses its only image, and when one is deleted
    bare.images.all().delete()
    assert bare.pk not in _facets()
    slate.delete()
    assert slate.pk not in _facets()
    assert _facets() == _truth()


@pytest.mark.django_db(transaction=True)
def test_bulk_writes_keep_the_read_model_even_on_statistics_of_an_empty_catalog():
    # given statistics that say the tables are empty (autovacuum's view after a large catalog
    # was deleted), under which index lookups per id looked cheapest
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE materials_material, materials_materialimage, material_visual_analysis, "
            "search_material_facets"
        )
    # when a catalog of more materials than the bulk threshold is COPY-loaded (one statement
    # per table, as bench_search does)
    catalog = synthetic_catalog_load(items=BULK + 300, seed=5)
    try:
        # then the read model holds what the source tables say, for every material
        truth, facets = _truth(), _facets()
        assert len(facets) >= BULK + 300
        assert facets == truth
    finally:
        # and a bulk delete removes the rows again
        synthetic_catalog_drop(catalog=catalog)
    assert _facets() == _truth()
    assert not MaterialFacets.objects.filter(catalog=catalog.name).exists()


def test_the_bulk_and_the_few_refresh_compute_the_same_rows(catalog_builder):
    # given materials with and without analyses, one with a second, primary image
    oak = catalog_builder.add("Oak", COLORS["brown"], category="wood", material_type="wood")
    catalog_builder.add("Slate", COLORS["grey"], category="stone", material_type="stone")
    catalog_builder.add("Unanalysed", COLORS["green"], analysed=False)
    oak.images.update(is_primary=False)
    _second_image(oak, primary=True)
    truth = _truth()

    for refresh in ("search_facets_refresh_few", "search_facets_refresh_bulk"):
        # when the read model is rebuilt by one way of refreshing
        MaterialFacets.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {refresh}(ARRAY(SELECT id FROM materials_material))")
        # then it holds exactly the source's rows
        assert _facets() == truth, refresh
