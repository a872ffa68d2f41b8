"""Issue 14: limits that are fair and visible, against a live server on the default setup
(Postgres counters): only well-formed searches count, malformed ones are limited apart and keep
their 400, refusals do not extend the window (a clock the test moves), RateLimit-* headers on
every answer, a bucket per key scaled by its tier, the material page shares the search limit."""

from __future__ import annotations

import pytest

from config.clock import clock_set
from tests.api import http
from tests.api.conftest import auth

pytestmark = pytest.mark.django_db(transaction=True)
WINDOW_START = 1_900_000_020.0  # a multiple of 60


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": rates}

    return set_rates


@pytest.fixture
def clock(settings, tmp_path):
    path = tmp_path / "clock"
    settings.SWATCH_TEST_CLOCK_FILE = str(path)
    clock_set(path, WINDOW_START)
    return lambda moment: clock_set(path, moment)


def _search(url, payload=None, headers=None):
    return http.post(f"{url}/api/v1/search/", json=payload or {"text": "oak"}, headers=headers)


def test_malformed_requests_keep_their_400_and_never_use_the_search_quota(
    live_server, providers, sample_catalog, rates
):
    rates(burst="3/60s")
    broken = [_search(live_server.url, {"text": "oak", "limit": 0}) for _ in range(6)]
    searches = [_search(live_server.url).status_code for _ in range(4)]
    broken_after = _search(live_server.url, {"text": "oak", "filter": {}})

    assert [r.status_code for r in broken] == [400] * 6
    assert broken[0].json()["error"]["field"] == "limit"
    assert searches == [200, 200, 200, 429]
    # the quota is spent, and a malformed request still says what is wrong with it
    assert broken_after.status_code == 400
    assert broken_after.json()["error"]["code"] == "unknown_field"
    assert broken_after.json()["error"]["field"] == "filter"


def test_a_client_hammering_malformed_requests_is_limited_with_its_error_named(
    live_server, providers, sample_catalog, settings
):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "MALFORMED_RATES": {"malformed": "3/60s"}}
    answers = [_search(live_server.url, {"text": "oak", "weights": []}) for _ in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    error = answers[-1].json()["error"]
    assert error["code"] == "malformed_rate_limited"
    assert error["field"] == "weights"
    assert "Must be a JSON object" in error["message"]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert _search(live_server.url).status_code == 200  # the search quota is untouched


def test_refused_requests_do_not_extend_the_window(
    live_server, providers, sample_catalog, rates, clock
):
    rates(minute="2/60s")
    allowed = [_search(live_server.url).status_code for _ in range(2)]
    refused = []
    for second in range(2, 60, 3):  # a client retrying all through the window
        clock(WINDOW_START + second)
        refused.append(_search(live_server.url).status_code)
    # 30 s into the next window, half the full previous one still counts: 2 * 0.5 + 1 <= 2
    clock(WINDOW_START + 90)
    later = _search(live_server.url)

    assert allowed == [200, 200]
    assert set(refused) == {429}
    assert later.status_code == 200


def test_rate_limit_headers_are_on_every_answer(live_server, providers, sample_catalog, rates):
    rates(burst="5/10s", minute="10/60s", hour="100/3600s")
    url = live_server.url
    first = _search(url)
    answers = {
        "search": _search(url),
        "malformed": _search(url, {"text": "oak", "limit": "many"}),
        "unauthenticated": _search(url, headers=auth("nosuchpr.key")),
        "materials": http.get(f"{url}/api/v1/materials/"),
        "unknown route": http.get(f"{url}/api/v1/nothing-here/"),
        "page": http.get(f"{url}/?text=oak"),
    }

    assert first.headers["RateLimit-Remaining"] == "4"
    assert first.headers["RateLimit-Policy"] == "5;w=10, 10;w=60, 100;w=3600"
    for name, answer in answers.items():
        assert answer.headers.get("RateLimit-Limit") == "5", name
        assert int(answer.headers["RateLimit-Reset"]) >= 1, name
    # two API searches, then the page's own: three of the burst of 5 are used
    assert answers["search"].headers["RateLimit-Remaining"] == "3"
    assert answers["materials"].headers["RateLimit-Remaining"] == "3"
    assert answers["page"].headers["RateLimit-Remaining"] == "2"


def test_each_key_has_its_own_bucket_scaled_by_its_tier(
    live_server, providers, sample_catalog, rates, make_key
):
    rates(burst="2/60s")
    standard = make_key(name="standard").secret
    plus = make_key(name="plus", tier="plus").secret  # 5 times the limits

    codes = [_search(live_server.url, headers=auth(standard)).status_code for _ in range(3)]
    plus_answers = [_search(live_server.url, headers=auth(plus)) for _ in range(3)]
    anonymous = _search(live_server.url)

    assert codes == [200, 200, 429]
    assert [a.status_code for a in plus_answers] == [200, 200, 200]
    assert plus_answers[-1].headers["RateLimit-Limit"] == "10"
    assert anonymous.status_code == 200  # the address's own bucket


def test_the_material_page_shares_the_search_limit(live_server, providers, sample_catalog, rates):
    rates(burst="2/60s")
    oak = sample_catalog["oak"].pk
    pages = [http.get(f"{live_server.url}/materials/{oak}/") for _ in range(3)]
    api = _search(live_server.url)

    assert [p.status_code for p in pages] == [200, 200, 429]
    assert "Similar materials count as a search" in pages[-1].text
    assert "Oak" in pages[-1].text  # the material itself is still shown
    assert api.status_code == 429
