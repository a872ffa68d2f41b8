"""A curator's correction is never hidden behind a cached search answer."""

import pytest

from analysis.curation.revision import descriptions_revision_bump
from search.state import QueryState

pytestmark = pytest.mark.django_db


def test_result_key_changes_when_a_description_is_corrected(django_capture_on_commit_callbacks):
    # given a query and the key its answer is cached under
    state = QueryState(query_id="q1", text="glossy cork")
    before = state.result_key()
    assert QueryState(query_id="q2", text="glossy cork").result_key() == before
    # when a curation decision commits
    with django_capture_on_commit_callbacks(execute=True):
        descriptions_revision_bump()
    # then the same query is looked up under a new key
    assert state.result_key() != before
