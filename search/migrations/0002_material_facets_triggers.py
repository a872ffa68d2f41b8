"""The triggers that keep `search_material_facets` in step with the catalog and the analyses.

Statement-level, with transition tables: a bulk write (an import, a COPY of a benchmark
catalog) refreshes its materials in one set-based statement, a single save in one small one.
`search_facets_refresh(ids)` recomputes the rows of some materials from the source tables,
exactly as the search read them before this table existed: the primary image (else the first),
its analysis unless a curator rejected it, the catalog's name.
"""

from django.db import migrations

COMPARED = (
    "jsonb_build_object('material_type', va.description->'material_type', "
    "'colors', va.description->'colors', 'finish', va.description->'finish', "
    "'pattern', va.description->'pattern', 'texture', va.description->'texture')"
)

REFRESH = f"""
CREATE OR REPLACE FUNCTION search_facets_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM search_material_facets f
     WHERE f.material_id = ANY(ids)
       AND NOT EXISTS (SELECT 1 FROM materials_materialimage mi
                        WHERE mi.material_id = f.material_id);
    INSERT INTO search_material_facets
           (material_id, name, category, catalog, thumbnail, image, compared)
    SELECT DISTINCT ON (m.id) m.id, m.name, m.category, coalesce(c.name, ''),
           mi.thumbnail, mi.image, {COMPARED}
      FROM materials_material m
      JOIN materials_materialimage mi ON mi.material_id = m.id
      LEFT JOIN material_visual_analysis va
             ON va.image_id = mi.id AND va.status <> 'rejected'
      LEFT JOIN materials_catalog c ON c.id = m.catalog_id
     WHERE m.id = ANY(ids)
     ORDER BY m.id, mi.is_primary DESC, mi.id
    ON CONFLICT (material_id) DO UPDATE SET
           name = EXCLUDED.name, category = EXCLUDED.category, catalog = EXCLUDED.catalog,
           thumbnail = EXCLUDED.thumbnail, image = EXCLUDED.image, compared = EXCLUDED.compared;
$$;
"""

# Each trigger function finds the materials a statement touched, from its transition tables
# (`new_rows` on insert and update, `old_rows` on update and delete).
ON_MATERIAL = """
CREATE OR REPLACE FUNCTION search_facets_on_material() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM search_material_facets WHERE material_id IN (SELECT id FROM old_rows);
    ELSE
        PERFORM search_facets_refresh(ARRAY(SELECT id FROM new_rows));
    END IF;
    RETURN NULL;
END $$;
"""

ON_IMAGE = """
CREATE OR REPLACE FUNCTION search_facets_on_image() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM search_facets_refresh(ARRAY(SELECT DISTINCT material_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM search_facets_refresh(ARRAY(SELECT DISTINCT material_id FROM old_rows));
    ELSE
        PERFORM search_facets_refresh(ARRAY(
            SELECT material_id FROM new_rows UNION SELECT material_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
"""

ON_ANALYSIS = """
CREATE OR REPLACE FUNCTION search_facets_on_analysis() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM search_facets_refresh(ARRAY(
            SELECT DISTINCT mi.material_id FROM materials_materialimage mi
             WHERE mi.id IN (SELECT image_id FROM new_rows)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM search_facets_refresh(ARRAY(
            SELECT DISTINCT mi.material_id FROM materials_materialimage mi
             WHERE mi.id IN (SELECT image_id FROM old_rows)));
    ELSE
        PERFORM search_facets_refresh(ARRAY(
            SELECT DISTINCT mi.material_id FROM materials_materialimage mi
             WHERE mi.id IN (SELECT image_id FROM new_rows
                             UNION SELECT image_id FROM old_rows)));
    END IF;
    RETURN NULL;
END $$;
"""

ON_CATALOG = """
CREATE OR REPLACE FUNCTION search_facets_on_catalog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_facets_refresh(ARRAY(
        SELECT m.id FROM materials_material m
         WHERE m.catalog_id IN (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                                 WHERE n.name IS DISTINCT FROM o.name)));
    RETURN NULL;
END $$;
"""

# (table, function, event, transition tables)
TRIGGERS = [
    ("materials_material", "search_facets_on_material", "UPDATE", "NEW TABLE AS new_rows"),
    ("materials_material", "search_facets_on_material", "DELETE", "OLD TABLE AS old_rows"),
    ("materials_materialimage", "search_facets_on_image", "INSERT", "NEW TABLE AS new_rows"),
    (
        "materials_materialimage",
        "search_facets_on_image",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
    ("materials_materialimage", "search_facets_on_image", "DELETE", "OLD TABLE AS old_rows"),
    ("material_visual_analysis", "search_facets_on_analysis", "INSERT", "NEW TABLE AS new_rows"),
    (
        "material_visual_analysis",
        "search_facets_on_analysis",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
    ("material_visual_analysis", "search_facets_on_analysis", "DELETE", "OLD TABLE AS old_rows"),
    (
        "materials_catalog",
        "search_facets_on_catalog",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
]


def _name(table: str, event: str) -> str:
    return f"search_facets_{table}_{event.lower()}"


CREATE_TRIGGERS = "\n".join(
    f"CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} "
    f"REFERENCING {transitions} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
    for table, function, event, transitions in TRIGGERS
)
DROP_TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table};"
    for table, _, event, _ in TRIGGERS
)
DROP_FUNCTIONS = (
    "DROP FUNCTION IF EXISTS search_facets_on_material(); "
    "DROP FUNCTION IF EXISTS search_facets_on_image(); "
    "DROP FUNCTION IF EXISTS search_facets_on_analysis(); "
    "DROP FUNCTION IF EXISTS search_facets_on_catalog(); "
    "DROP FUNCTION IF EXISTS search_facets_refresh(bigint[]);"
)
BACKFILL = "SELECT search_facets_refresh(ARRAY(SELECT id FROM materials_material));"


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_material_facets"),
        ("materials", "0001_initial"),
        ("analysis", "0006_efficientnet_lite0_1704"),
    ]

    operations = [
        migrations.RunSQL(
            REFRESH + ON_MATERIAL + ON_IMAGE + ON_ANALYSIS + ON_CATALOG, DROP_FUNCTIONS
        ),
        migrations.RunSQL(CREATE_TRIGGERS, DROP_TRIGGERS),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
