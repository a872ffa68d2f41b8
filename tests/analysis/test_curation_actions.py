"""Each curation action through the admin: the review page, correct, approve, reject,
re-run, the bulk actions, and the stickiness of corrections across re-analyses."""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django_q.models import OrmQ

from analysis.curation.corrections import analysis_correct
from analysis.curation.services import CurationError, analysis_flag
from analysis.description import description_parse
from analysis.models import (
    AnalysisAuditEntry,
    AnalysisSource,
    AnalysisStatus,
    AuditAction,
    Embedding,
    VisualAnalysis,
)
from analysis.providers.protocols import ProviderError
from tests.analysis.curation_support import (
    analyse,
    analysed_catalog,
    review_post,
    run_queued_tasks,
)
from tests.analysis.pipeline_support import HashingTextEmbedder, store_images

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline_settings")]

QUEUE = "/admin/analysis/reviewqueueitem/"


def _review_url(analysis) -> str:
    return f"{QUEUE}{analysis.pk}/change/"


def _description_embedding(analysis):
    return Embedding.objects.get(image_id=analysis.image_id, kind="description")


@pytest.fixture
def unsure(shared_data):
    """Two analyses the offline describer was unsure of (stone, 0.5), oldest first."""
    return analysed_catalog(shared_data, [("stone", 0.5, 3), ("stone", 0.6, 2)])


def test_review_page_shows_image_form_choices_swatches_diff_and_buttons(unsure, admin_client):
    analysis = unsure[0]
    response = admin_client.get(_review_url(analysis))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="review-image" src="{analysis.image.image.url}"' in html
    # choices from the schema, the current values selected
    assert '<option value="stone" selected>stone (stone)</option>' in html
    assert '<option value="polished">polished</option>' in html
    assert '<option value="veined">veined</option>' in html
    # colour swatches with the hex of the description
    hex_value = analysis.description["colors"][0]["hex"]
    assert f'type="color" name="color_0_hex" value="{hex_value}"' in html
    # numeric ranges are in the inputs too
    assert 'name="lightness"' in html
    assert 'max="100"' in html
    for button in ("save-correction", "approve", "reject", "rerun", "next-in-queue"):
        assert f'id="{button}"' in html
    # nothing curated yet: no difference from the model
    assert "No difference: the description is what the model said." in html
    assert response.context["next_url"].endswith(f"/{unsure[1].pk}/change/")


def test_a_correction_is_curated_approved_embedded_audited_and_diffed(unsure, admin_client):
    # given an unsure stone analysis and its model-made description embedding
    analysis = unsure[0]
    before = _description_embedding(analysis)

    # when a curator changes the material type and the finish, and saves
    response = admin_client.post(
        _review_url(analysis),
        {
            **review_post(analysis.description, material_type="marble", finish="polished"),
            "note": "veins are obvious",
            "_action": "save",
        },
    )

    # then it is curated, approved, at confidence 1.0, and the curator is on the next item
    assert response.status_code == 302
    assert response["Location"] == _review_url(unsure[1])
    analysis.refresh_from_db()
    assert (analysis.source, analysis.status) == (AnalysisSource.CURATED, AnalysisStatus.APPROVED)
    assert analysis.confidence == 1.0
    assert analysis.material_type == "marble"
    assert analysis.description["finish"] == "polished"
    assert analysis.description["category"] == "stone"
    assert analysis.reviewed_by.username == "admin"
    # and the model's output is kept as it was
    assert analysis.model_output["material_type"] == "stone"
    assert analysis.model_output["finish"] == "matte"
    # and the description embedding is the new text's, computed in the request
    text = description_parse(analysis.description).as_text()
    after = _description_embedding(analysis)
    np.testing.assert_allclose(
        after.vector, HashingTextEmbedder().embed_texts([text]).vectors[0], atol=1e-6
    )
    assert not np.allclose(after.vector, before.vector)
    # and the audit entry says who changed what
    entry = AnalysisAuditEntry.objects.get(analysis=analysis, action=AuditAction.CORRECT)
    assert entry.actor_name == "admin"
    assert entry.note == "veins are obvious"
    assert entry.changes["material_type"] == ["stone", "marble"]
    assert entry.changes["finish"] == ["matte", "polished"]
    assert entry.changes["source"] == ["offline", "curated"]
    # and the review page shows the diff against the model output
    html = admin_client.get(_review_url(analysis)).content.decode()
    assert '<td>material_type</td><td class="old">stone</td><td class="new">marble</td>' in html
    assert '<td>finish</td><td class="old">matte</td><td class="new">polished</td>' in html


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"lightness": "150"}, "Ensure this value is less than or equal to 100"),
        ({"texture_contrast": "-0.2"}, "Ensure this value is greater than or equal to 0"),
        ({"color_0_hex": "not-a-colour"}, "a colour is #rrggbb"),
        ({"color_0_share": "0.8", "color_1_use": True, "color_1_share": "0.6"}, "add up to 1.40"),
        ({"material_type": "unobtainium"}, "Select a valid choice"),
        ({"summary": ""}, "This field is required"),
        ({"color_0_use": False}, "Keep at least one colour"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes(
    unsure, admin_client, changes, error
):
    analysis = unsure[0]
    stored = dict(analysis.description)
    response = admin_client.post(
        _review_url(analysis), {**review_post(stored, **changes), "_action": "save"}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    analysis.refresh_from_db()
    assert analysis.description == stored
    assert analysis.status == AnalysisStatus.NEEDS_REVIEW
    assert not AnalysisAuditEntry.objects.filter(analysis=analysis).exists()


def test_a_correction_the_embedder_cannot_embed_is_not_saved(unsure):
    class DownEmbedder(HashingTextEmbedder):
        # Stands for a text-embedder outage, which the local model cannot be made to have.
        def embed_texts(self, texts):
            raise ProviderError("embedding server down", code="unavailable")

    analysis = unsure[0]
    stored = dict(analysis.description)
    with pytest.raises(CurationError) as caught:
        analysis_correct(
            analysis=analysis,
            actor=None,
            description={**stored, "finish": "glossy"},
            text_embedder=DownEmbedder(),
        )
    assert caught.value.code == "embedding_failed"
    analysis.refresh_from_db()
    assert analysis.description == stored
    assert analysis.source == AnalysisSource.OFFLINE


def test_approve_and_reject_buttons(unsure, admin_client):
    first, second = unsure
    response = admin_client.post(_review_url(first), {"_action": "approve", "note": "fine"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.source, first.confidence) == ("approved", "offline", 1.0)
    assert first.description["material_type"] == "stone"

    admin_client.post(_review_url(second), {"_action": "reject", "note": "blurred photo"})
    second.refresh_from_db()
    assert second.status == AnalysisStatus.REJECTED
    assert second.reviewed_by.username == "admin"
    actions = list(AnalysisAuditEntry.objects.order_by("pk").values_list("action", "note"))
    assert actions == [("approve", "fine"), ("reject", "blurred photo")]


def test_approving_a_failed_analysis_is_refused_with_a_message(shared_data, admin_client):
    (image,) = store_images(shared_data, 1)
    failed = analyse(image, confidence=None)
    response = admin_client.post(_review_url(failed), {"_action": "approve"}, follow=True)
    assert response.status_code == 200
    assert "has no description to approve" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == AnalysisStatus.FAILED


def test_a_failed_analysis_can_be_described_by_the_curator(
    shared_data, admin_client, django_capture_on_commit_callbacks
):
    # given an analysis that failed: no description, no embeddings
    (image,) = store_images(shared_data, 1)
    failed = analyse(image, confidence=None)
    page = admin_client.get(_review_url(failed))
    assert page.status_code == 200
    template = {
        "material_type": "brick",
        "finish": "textured",
        "pattern": "geometric",
        "colors": [{"hex": "#a0522d", "share": 0.9, "name": "terracotta"}],
        "lightness": 45,
        "texture": {"regularity": 0.8, "contrast": 0.4},
        "summary": "Red brick in running bond.",
    }

    # when the curator fills in the form and saves
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            _review_url(failed), {**review_post(template), "_action": "save"}
        )

    # then it is a curated analysis with a description embedding, and the missing image
    # embedding is queued (the task keeps the curated description)
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.material_type) == ("approved", "brick")
    assert _description_embedding(failed).dimensions == 32
    run_queued_tasks()
    failed.refresh_from_db()
    assert failed.material_type == "brick"
    assert failed.source == "curated"
    assert Embedding.objects.filter(image=image, kind="image").exists()


def test_rerun_button_queues_a_task_and_does_not_analyse_in_the_request(
    unsure, admin_client, django_capture_on_commit_callbacks
):
    analysis = unsure[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(_review_url(analysis), {"_action": "rerun"})
    assert response.status_code == 302
    (queued,) = OrmQ.objects.all()
    assert queued.task["func"] == "analysis.tasks.analysis_task"
    assert queued.task["args"] == (analysis.pk,)
    assert queued.task["kwargs"]["fresh"] is True  # the models are asked again
    # not curated: nothing to overwrite (a curated one is kept unless the curator confirms,
    # tests/browser/test_curation_review.py)
    assert "force_curated" not in queued.task["kwargs"]
    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.PENDING  # waits for the worker
    assert AnalysisAuditEntry.objects.get(analysis=analysis).action == AuditAction.RERUN


def _bulk(client, action: str, analyses, changelist: str = QUEUE, **fields):
    """The changelist's action form; `apply=…`: the re-run's options page, confirmed."""
    return client.post(
        changelist,
        {"action": action, ACTION_CHECKBOX_NAME: [str(a.pk) for a in analyses], **fields},
        follow=True,
    )


def test_bulk_approve_and_reject_with_refusals_reported(unsure, shared_data, admin_client):
    (image,) = store_images(shared_data, 1, skip=30)
    failed = analyse(image, confidence=None)

    response = _bulk(admin_client, "approve_selected", [*unsure, failed])
    html = response.content.decode()
    assert "Approved 2 analyses." in html
    assert f"1 refused: #{failed.pk}" in html
    assert set(VisualAnalysis.objects.values_list("status", flat=True)) == {"approved", "failed"}

    # (approved ones left the queue: the list of all analyses acts on them)
    response = _bulk(admin_client, "reject_selected", unsure, "/admin/analysis/visualanalysis/")
    assert "Rejected 2 analyses." in response.content.decode()
    assert {a.status for a in VisualAnalysis.objects.filter(pk__in=[u.pk for u in unsure])} == {
        "rejected"
    }


def test_corrections_stick_across_a_reanalysis_unless_the_curator_overwrites(
    unsure, admin_client, settings, django_capture_on_commit_callbacks
):
    # given a corrected analysis (marble, polished) and an unsure one
    corrected, other = unsure
    admin_client.post(
        _review_url(corrected),
        {
            **review_post(corrected.description, material_type="marble", finish="polished"),
            "_action": "save",
        },
    )
    corrected.refresh_from_db()
    curated = dict(corrected.description)
    # and a new model that would call everything "wood"
    settings.SWATCH = {
        **settings.SWATCH,
        "PIPELINE_PROVIDERS": "tests.analysis.curation_support.second_opinion_providers",
    }

    # when both are re-run (bulk action, queued) and the worker runs the tasks
    with django_capture_on_commit_callbacks(execute=True):
        response = _bulk(
            admin_client, "rerun_selected", [corrected, other], "/admin/analysis/visualanalysis/",
            apply="Queue",
        )  # fmt: skip
    assert "Queued 2 analyses (depth detailed, vision model, CLIP)." in response.content.decode()
    assert OrmQ.objects.count() == 2
    run_queued_tasks()

    # then the curated one kept its description, source and confidence; the other changed
    corrected.refresh_from_db()
    other.refresh_from_db()
    assert corrected.description == curated
    assert (corrected.source, corrected.confidence, corrected.material_type) == (
        "curated",
        1.0,
        "marble",
    )
    assert (other.material_type, other.model_id, other.status) == ("wood", "px-2", "completed")
    # and its description embedding still is the curated text's
    text = description_parse(curated).as_text()
    np.testing.assert_allclose(
        _description_embedding(corrected).vector,
        HashingTextEmbedder().embed_texts([text]).vectors[0],
        atol=1e-6,
    )

    # when the curator asks to overwrite curated descriptions
    with django_capture_on_commit_callbacks(execute=True):
        _bulk(
            admin_client,
            "rerun_overwriting_curated",
            [corrected],
            "/admin/analysis/visualanalysis/",
            apply="Queue",
        )
    run_queued_tasks()

    # then the model's answer replaces it, and the audit keeps what was lost
    corrected.refresh_from_db()
    assert (corrected.material_type, corrected.source) == ("wood", "offline")
    entry = AnalysisAuditEntry.objects.filter(analysis=corrected, action="rerun").latest("pk")
    assert entry.changes["description"][0] == curated


def test_a_user_flag_needs_a_reason_and_is_resolved_by_a_decision(unsure, admin_client):
    analysis = unsure[0]
    with pytest.raises(CurationError):
        analysis_flag(analysis=analysis, actor=None, reason="  ")
    flag = analysis_flag(analysis=analysis, actor=None, reason="looks like granite")
    page = admin_client.get(_review_url(analysis)).content.decode()
    assert "looks like granite" in page
    admin_client.post(_review_url(analysis), {"_action": "approve"})
    flag.refresh_from_db()
    assert flag.resolved_at is not None


def test_view_only_users_cannot_post(unsure, django_user_model, client):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("vera", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_reviewqueueitem"))
    client.force_login(viewer)
    analysis = unsure[0]
    assert client.get(_review_url(analysis)).status_code == 200
    assert client.post(_review_url(analysis), {"_action": "approve"}).status_code == 403
    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.NEEDS_REVIEW


def test_every_decision_moves_the_descriptions_revision_for_answer_caches(
    unsure, django_capture_on_commit_callbacks
):
    from analysis.curation.revision import descriptions_revision
    from analysis.curation.services import analysis_approve, analysis_reject

    first, second = unsure
    start = descriptions_revision()
    with django_capture_on_commit_callbacks(execute=True):
        analysis_correct(
            analysis=first, actor=None, description={**first.description, "finish": "glossy"}
        )
    assert descriptions_revision() == start + 1
    with django_capture_on_commit_callbacks(execute=True):
        analysis_approve(analysis=second, actor=None)
        analysis_reject(analysis=second, actor=None)
    assert descriptions_revision() == start + 3


def test_saving_the_form_unchanged_approves_without_touching_the_description(unsure, admin_client):
    # given an analysis with unrounded numbers (shown rounded in the form)
    analysis = unsure[0]
    stored = dict(analysis.description)
    assert stored["texture"]["contrast"] != round(stored["texture"]["contrast"], 3)

    # when the curator saves the form as shown
    admin_client.post(_review_url(analysis), {**review_post(stored), "_action": "save"})

    # then only the status, source and confidence changed; the description is as it was
    analysis.refresh_from_db()
    assert analysis.description["texture"] == stored["texture"]
    assert analysis.description["colors"] == stored["colors"]
    assert analysis.description["lightness"] == stored["lightness"]
    entry = AnalysisAuditEntry.objects.get(analysis=analysis)
    assert set(entry.changes) == {"status", "source", "confidence"}
