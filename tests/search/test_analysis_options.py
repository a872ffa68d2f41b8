"""A search's `analysis` options against the local fake of the providers' wire format:
`clip: false` embeds the query with the offline embedder (no request reaches the CLIP
endpoint; the query's vector is the offline one, and the catalog's offline vectors answer),
and ingestion with `clip: false` stores offline vectors without a CLIP call. The offline
analyser answers at the depth asked and the answer says what it could not do."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from analysis.depth import AnalysisOptions
from analysis.ingest import analysis_run_batch
from analysis.models import Embedding, ModelCall
from analysis.pipeline import PipelineProviders
from analysis.providers.chains import FallbackDescriber
from analysis.providers.fallback import ProviderLink
from analysis.providers.offline_analyser import OfflineAnalyser
from analysis.vector_indexes import VectorIndex
from materials.intake import embedding_input
from materials.services import catalog_get_or_create, material_create_with_image
from search.providers import SearchProviders, providers_override
from search.state import query_state_load
from tests.analysis.pipeline_support import (
    HashingTextEmbedder,
    PixelStatsDescriber,
    pending_analyses,
)
from tests.fakes.clip_chain import remote_clip_chain as _clip_chain
from tests.fakes.local_providers import PixelEmbedder
from tests.fakes.openai_server import FakeOpenAIServer
from tests.search.catalog_support import COLORS, png
from tests.search.test_api import post, wait_refined

# The refinement thread and the pipeline's threads write on their own connections.
pytestmark = pytest.mark.django_db(transaction=True)
EMBEDDINGS = "/v1/embeddings"
CLIP = "clip-vit-b-32"


@pytest.fixture
def clip_server():
    with FakeOpenAIServer(embedding_dimensions=512) as server:
        yield server


@pytest.fixture
def catalog(clip_server):
    """Five plain-coloured materials with both vectors: CLIP's (from the fake) and offline."""
    with connection.cursor() as cursor:
        for index in (
            VectorIndex(CLIP, "image", 512),
            VectorIndex(PixelEmbedder.model, "image", 48),
        ):
            cursor.execute(index.create_sql())
    chain, offline = _clip_chain(clip_server.base_url), PixelEmbedder()
    made = {}
    for name in ("brown", "grey", "white", "green", "navy"):
        image = material_create_with_image(
            catalog=catalog_get_or_create(name="clip-options"), data=png(COLORS[name]), name=name
        ).image
        with Image.open(image.image.path) as stored:
            pixels = embedding_input(stored.convert("RGB"))
        for embedder, dims in ((chain, 512), (offline, 48)):
            vector = embedder.embed_images([pixels]).vectors[0]
            Embedding.objects.create(
                image=image, kind="image", model=embedder.model, dimensions=dims,
                vector=vector.tolist(),
            )  # fmt: skip
        made[name] = image.material
    assert len(clip_server.requests_to(EMBEDDINGS)) == 5
    return made


@pytest.fixture
def clip_first(clip_server, catalog):
    chosen = SearchProviders(
        image_embedder=_clip_chain(clip_server.base_url), text_embedder=None, describer=None
    )
    with providers_override(chosen):
        yield clip_server


def test_clip_false_embeds_the_query_offline_and_sends_nothing_to_clip(clip_first, catalog):
    client = APIClient()
    sent = len(clip_first.requests_to(EMBEDDINGS))
    calls = ModelCall.objects.filter(provider="clip-remote").count()
    # when a photo is searched with clip off
    answer = post(client, image=png(COLORS["green"]), analysis={"clip": False}).json()
    # then no request reached the CLIP endpoint, and no CLIP call is in the ledger
    assert len(clip_first.requests_to(EMBEDDINGS)) == sent
    assert ModelCall.objects.filter(provider="clip-remote").count() == calls
    # and the query's vector is the offline embedder's, searched among the offline vectors
    state = query_state_load(query_id=answer["query_id"])
    assert (state.image_model, state.image_dimensions) == (PixelEmbedder.model, 48)
    with Image.open(io.BytesIO(png(COLORS["green"]))) as photo:
        expected = PixelEmbedder().embed_images([embedding_input(photo.convert("RGB"))]).vectors[0]
    np.testing.assert_allclose(state.image_vector, expected, atol=1e-5)
    assert answer["results"][0]["material_id"] == catalog["green"].pk


def test_with_clip_on_the_same_search_asks_clip(clip_first, catalog):
    # the control: the default options send the query image to the CLIP endpoint
    client = APIClient()
    sent = len(clip_first.requests_to(EMBEDDINGS))
    answer = post(client, image=png(COLORS["green"])).json()
    assert len(clip_first.requests_to(EMBEDDINGS)) == sent + 1
    assert query_state_load(query_id=answer["query_id"]).image_model == CLIP


def test_ingestion_with_clip_false_stores_offline_vectors_without_a_clip_call(clip_server):
    describer = FallbackDescriber(
        [ProviderLink(name="offline-analyser", build=PixelStatsDescriber,
                      model_of=lambda p: p.model_id, offline=True)]
    )  # fmt: skip
    providers = PipelineProviders(
        describer, _clip_chain(clip_server.base_url), HashingTextEmbedder()
    )
    navy, green = (
        material_create_with_image(
            catalog=catalog_get_or_create(name="clip-ingest"), data=png(COLORS[name]), name=name
        ).image
        for name in ("navy", "green")
    )
    # when one image is analysed with clip off
    summary = analysis_run_batch(
        analysis_ids=pending_analyses([navy]),
        providers=providers,
        options=AnalysisOptions(clip=False),
    )
    # then its image vector is the offline embedder's, and CLIP was not asked
    assert (summary.completed + summary.needs_review, summary.failed) == (1, 0)
    assert not clip_server.requests_to(EMBEDDINGS)
    assert _image_models(navy) == {PixelEmbedder.model}
    # and the control: the other, with the default options, is embedded by CLIP
    analysis_run_batch(analysis_ids=pending_analyses([green]), providers=providers)
    assert len(clip_server.requests_to(EMBEDDINGS)) == 1
    assert _image_models(green) == {CLIP}


def _image_models(image) -> set[str]:
    return set(Embedding.objects.filter(image=image, kind="image").values_list("model", flat=True))


def test_the_offline_analyser_answers_at_the_depth_asked_and_the_answer_says_what_it_cannot(
    clip_server, catalog
):
    chosen = SearchProviders(
        image_embedder=_clip_chain(clip_server.base_url),
        text_embedder=None,
        describer=OfflineAnalyser(),
    )
    client = APIClient()
    with providers_override(chosen):
        full = post(client, image=png(COLORS["brown"]), analysis={"depth": "comprehensive"})
        full = wait_refined(client, full.json()["query_id"])
        basic = post(client, image=png(COLORS["grey"]), analysis={"depth": "basic"})
        basic = wait_refined(client, basic.json()["query_id"])
    assert full["refinement"] == "done"
    assert "finish, likely use and care cannot be judged from pixels" in full["analysis_note"]
    assert len(full["query_description"]["properties"]) >= 1
    assert basic["analysis_note"] == ""
    # and the search page shows the note with the refined results, the basic one none
    page = client.get(f"/?q={full['query_id']}&img=1").content.decode()
    assert 'id="analysis-note"' in page
    assert "cannot be judged from pixels" in page
    assert 'id="analysis-note"' not in client.get(f"/?q={basic['query_id']}&img=1").content.decode()
    assert (basic["query_description"]["finish"], basic["query_description"]["pattern"]) == (
        "unknown",
        "unknown",
    )
