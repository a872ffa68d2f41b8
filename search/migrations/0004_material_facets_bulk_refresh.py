"""Bulk writes refresh the search read model with hash joins, whatever the statistics say.

A statement that writes many rows (a benchmark's COPY, a large import or delete) fires the read
model's triggers once with all of them, planned with the statistics of before that statement.
After a large catalog was deleted, autovacuum had seen the tables empty; the planner then scanned
them for `id = ANY(ids)`, comparing each row with the whole array, or joined them by nested loops
over a scan: O(rows × ids), which kept a 100,000-material COPY busy for many minutes. Above `BULK`
ids the refresh joins the ids as a relation with nested loops off for its own statements (hash
joins, O(rows + ids)), and so does the analysis trigger's lookup of its images' materials. A save
or an admin edit (few ids) keeps the index lookups. What a refresh computes is unchanged
(migration 0002).
"""

import importlib

from django.db import migrations

BULK = 1000
_0002 = importlib.import_module("search.migrations.0002_material_facets_triggers")
COMPARED = _0002.COMPARED

# 0002's refresh, unchanged, under the name of the few-ids path.
FEW = _0002.REFRESH.replace(
    "FUNCTION search_facets_refresh(", "FUNCTION search_facets_refresh_few("
)
assert "search_facets_refresh_few(ids bigint[])" in FEW

REFRESH = f"""
CREATE OR REPLACE FUNCTION search_facets_refresh_bulk(ids bigint[]) RETURNS void
LANGUAGE sql SET enable_nestloop = off AS $$
    DELETE FROM search_material_facets f
     USING (SELECT DISTINCT unnest(ids) AS id) t
     WHERE f.material_id = t.id
       AND NOT EXISTS (SELECT 1 FROM materials_materialimage mi
                        WHERE mi.material_id = f.material_id);
    INSERT INTO search_material_facets
           (material_id, name, category, catalog, thumbnail, image, compared)
    SELECT DISTINCT ON (m.id) m.id, m.name, m.category, coalesce(c.name, ''),
           mi.thumbnail, mi.image, {COMPARED}
      FROM (SELECT DISTINCT unnest(ids) AS id) t
      JOIN materials_material m ON m.id = t.id
      JOIN materials_materialimage mi ON mi.material_id = m.id
      LEFT JOIN material_visual_analysis va
             ON va.image_id = mi.id AND va.status <> 'rejected'
      LEFT JOIN materials_catalog c ON c.id = m.catalog_id
     ORDER BY m.id, mi.is_primary DESC, mi.id
    ON CONFLICT (material_id) DO UPDATE SET
           name = EXCLUDED.name, category = EXCLUDED.category, catalog = EXCLUDED.catalog,
           thumbnail = EXCLUDED.thumbnail, image = EXCLUDED.image, compared = EXCLUDED.compared;
$$;

CREATE OR REPLACE FUNCTION search_facets_refresh(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) > {BULK} THEN
        PERFORM search_facets_refresh_bulk(ids);
    ELSE
        PERFORM search_facets_refresh_few(ids);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION search_facets_forget_bulk(ids bigint[]) RETURNS void
LANGUAGE sql SET enable_nestloop = off AS $$
    DELETE FROM search_material_facets f
     USING (SELECT DISTINCT unnest(ids) AS id) t WHERE f.material_id = t.id;
$$;

CREATE OR REPLACE FUNCTION search_facets_materials_of_images_bulk(image_ids bigint[])
RETURNS bigint[] LANGUAGE sql SET enable_nestloop = off AS $$
    SELECT coalesce(array_agg(DISTINCT mi.material_id), '{{}}')
      FROM (SELECT DISTINCT unnest(image_ids) AS id) t
      JOIN materials_materialimage mi ON mi.id = t.id;
$$;

CREATE OR REPLACE FUNCTION search_facets_materials_of_images(image_ids bigint[])
RETURNS bigint[] LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(image_ids) > {BULK} THEN
        RETURN search_facets_materials_of_images_bulk(image_ids);
    END IF;
    RETURN ARRAY(SELECT DISTINCT material_id FROM materials_materialimage
                  WHERE id = ANY(image_ids));
END $$;
"""

ON_MATERIAL = f"""
CREATE OR REPLACE FUNCTION search_facets_on_material() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT id FROM old_rows);
        IF cardinality(ids) > {BULK} THEN
            PERFORM search_facets_forget_bulk(ids);
        ELSE
            DELETE FROM search_material_facets WHERE material_id = ANY(ids);
        END IF;
    ELSE
        PERFORM search_facets_refresh(ARRAY(SELECT id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;
"""

ON_ANALYSIS = """
CREATE OR REPLACE FUNCTION search_facets_on_analysis() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    image_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        image_ids := ARRAY(SELECT image_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        image_ids := ARRAY(SELECT image_id FROM old_rows);
    ELSE
        image_ids := ARRAY(SELECT image_id FROM new_rows UNION SELECT image_id FROM old_rows);
    END IF;
    PERFORM search_facets_refresh(search_facets_materials_of_images(image_ids));
    RETURN NULL;
END $$;
"""

FORWARD = FEW + REFRESH + ON_MATERIAL + ON_ANALYSIS
BACKWARD = (
    _0002.REFRESH
    + _0002.ON_MATERIAL
    + _0002.ON_ANALYSIS
    + "DROP FUNCTION IF EXISTS search_facets_refresh_few(bigint[]); "
    "DROP FUNCTION IF EXISTS search_facets_refresh_bulk(bigint[]); "
    "DROP FUNCTION IF EXISTS search_facets_forget_bulk(bigint[]); "
    "DROP FUNCTION IF EXISTS search_facets_materials_of_images(bigint[]); "
    "DROP FUNCTION IF EXISTS search_facets_materials_of_images_bulk(bigint[]);"
)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_unlogged_database_cache")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
