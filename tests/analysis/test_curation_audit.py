"""The audit trail: who changed what and when, on the analysis and filterable."""

from __future__ import annotations

import pytest

from analysis.curation.corrections import analysis_correct
from analysis.curation.diff import correction_summary
from analysis.curation.services import analysis_approve, analysis_flag, analysis_reject
from analysis.models import AnalysisAuditEntry
from materials.services import catalog_delete
from tests.analysis.curation_support import (
    analysed_catalog,
    make_curator,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline_settings")]

AUDIT = "/admin/analysis/analysisauditentry/"


@pytest.fixture
def trail(shared_data, admin_user):
    """Two analyses a curator and an admin worked on."""
    first, second = analysed_catalog(shared_data, [("stone", 0.5, 2), ("wood", 0.6, 1)])
    curator = make_curator("cora")
    analysis_flag(analysis=first, actor=None, reason="not stone")
    analysis_correct(
        analysis=first,
        actor=curator,
        description={**first.description, "material_type": "concrete", "pattern": "speckled"},
        note="it is concrete",
    )
    analysis_reject(analysis=second, actor=admin_user, note="blurred")
    analysis_approve(analysis=second, actor=curator)
    return first, second, curator


def test_each_step_is_recorded_with_who_what_and_when(trail):
    first, second, curator = trail
    entries = list(AnalysisAuditEntry.objects.order_by("pk"))
    assert [(e.analysis_id, e.action, e.actor_name) for e in entries] == [
        (first.pk, "flag", ""),
        (first.pk, "correct", "cora"),
        (second.pk, "reject", "admin"),
        (second.pk, "approve", "cora"),
    ]
    correction = entries[1]
    assert correction.changes["material_type"] == ["stone", "concrete"]
    assert correction.changes["category"] == ["stone", "masonry"]
    assert correction.changes["pattern"] == ["mottled", "speckled"]
    assert correction.changes["status"] == ["needs_review", "approved"]
    assert correction.changes["confidence"] == [0.5, 1.0]
    assert correction.image_sha256 == first.image.sha256
    assert correction.created_at <= entries[2].created_at
    assert entries[2].changes == {"status": ["needs_review", "rejected"]}


def test_a_correction_is_summed_up_by_what_the_curator_changed(trail):
    # the curator changed the type (its category follows) and the pattern: the save's own
    # bookkeeping (status, source, confidence) is not theirs to count
    correction = AnalysisAuditEntry.objects.get(action="correct")
    assert correction_summary(correction) == "material type, pattern changed"
    assert correction_summary(None) == "nothing in the description changed"


def test_the_trail_is_on_the_analysis_page(trail, admin_client):
    first, _, _ = trail
    html = admin_client.get(f"/admin/analysis/visualanalysis/{first.pk}/change/").content.decode()
    assert "it is concrete" in html
    assert "<code>material_type</code>: stone → concrete" in html
    assert f'href="{AUDIT}?analysis__id__exact={first.pk}"' in html


def test_the_trail_filters_by_action_person_analysis_and_search(trail, admin_client):
    first, second, _ = trail

    def listed(**params):
        response = admin_client.get(AUDIT, params)
        assert response.status_code == 200
        return [(e.analysis_id, e.action) for e in response.context["cl"].result_list]

    assert listed(action__exact="correct") == [(first.pk, "correct")]
    assert sorted(listed(actor_name="cora")) == sorted(
        [(first.pk, "correct"), (second.pk, "approve")]
    )
    assert sorted(listed(analysis__id__exact=str(second.pk))) == sorted(
        [(second.pk, "reject"), (second.pk, "approve")]
    )
    name = second.image.material.name
    assert sorted(listed(q=name)) == sorted([(second.pk, "reject"), (second.pk, "approve")])


def test_the_trail_cannot_be_edited_and_outlives_the_catalog(trail, admin_client):
    first, _, _ = trail
    entry = AnalysisAuditEntry.objects.filter(action="correct").get()
    assert admin_client.get(f"{AUDIT}add/").status_code == 403
    page = admin_client.get(f"{AUDIT}{entry.pk}/change/")
    assert page.status_code == 200
    assert 'name="note"' not in page.content.decode()  # shown, not editable
    assert admin_client.post(f"{AUDIT}{entry.pk}/delete/", {"post": "yes"}).status_code == 403

    # when the catalog is deleted, the trail stays, with the material's name and image hash
    catalog_delete(catalog=first.image.catalog)
    entry.refresh_from_db()
    assert entry.analysis_id is None
    assert entry.material_name == first.image.material.name
    assert AnalysisAuditEntry.objects.count() == 4
