"""Feedback from the pages in a real browser: a result card's "Good match" / "Not what I
meant" (one vote per visitor and result, the second replacing the first), a card's click with
its position, the vote without JavaScript, and the material page's form that flags a wrong
description into the review queue."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from analysis.curation.selectors import review_queue
from analysis.models import AnalysisFlag
from search.feedback.models import FeedbackEvent, SearchRecord
from tests.browser.test_pages_search import cards, load_page, wait

QUERY = "wood"


@pytest.fixture
def recorded():
    """The searches this test records, deleted after it (the browser database is shared)."""
    before = set(SearchRecord.objects.values_list("pk", flat=True))
    yield
    SearchRecord.objects.exclude(pk__in=before).delete()


def text_search(driver, live_url) -> str:
    scoped = f"{live_url}/?text={QUERY}"
    load_page(driver, lambda: driver.get(scoped))
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))
    query_id = driver.find_element(By.ID, "results").get_attribute("data-query-id")
    wait(driver).until(lambda _: SearchRecord.objects.filter(query_id=query_id).exists())
    return query_id


def card(driver, material_id: int):
    return driver.find_element(By.CSS_SELECTOR, f"#results .card[data-material-id='{material_id}']")


def votes(query_id: str, material_id: int) -> list[str]:
    return list(
        FeedbackEvent.objects.filter(
            search__query_id=query_id, material_id=material_id, kind__in=["good", "bad"]
        ).values_list("kind", flat=True)
    )


def test_votes_on_a_card_then_a_click_with_its_position(
    browser, live_url, analysed_catalog, recorded
):
    query_id = text_search(browser, live_url)
    first, second = cards(browser)[:2]

    # "Good match" on the first card: kept without leaving the page
    card(browser, first).find_element(By.CSS_SELECTOR, "button.vote.good").click()
    wait(browser).until(
        lambda d: (
            card(d, first).find_element(By.CSS_SELECTOR, ".vote.good").get_attribute("aria-pressed")
            == "true"
        )
    )
    assert "Thanks" in card(browser, first).find_element(By.CSS_SELECTOR, ".vote-status").text
    assert votes(query_id, first) == ["good"]
    # then "Not what I meant" on the same card: the vote is replaced, not added
    card(browser, first).find_element(By.CSS_SELECTOR, "button.vote.bad").click()
    wait(browser).until(lambda _: votes(query_id, first) == ["bad"])
    assert (
        card(browser, first)
        .find_element(By.CSS_SELECTOR, ".vote.good")
        .get_attribute("aria-pressed")
        == "false"
    )
    event = FeedbackEvent.objects.get(search__query_id=query_id, material_id=first)
    assert event.position == 1
    assert event.query_hash == SearchRecord.objects.get(query_id=query_id).query_hash

    # a click on the second card's name opens its page and is recorded with position 2
    link = card(browser, second).find_element(By.CSS_SELECTOR, ".card-title a")
    load_page(browser, link.click)
    assert browser.find_element(By.TAG_NAME, "h1").text
    clicks = FeedbackEvent.objects.filter(search__query_id=query_id, kind="click")
    assert [(c.material_id, c.position) for c in clicks] == [(second, 2)]


def test_a_vote_without_javascript_comes_back_to_the_results(
    nojs_browser, live_url, analysed_catalog, recorded
):
    query_id = text_search(nojs_browser, live_url)
    first = cards(nojs_browser)[0]

    button = card(nojs_browser, first).find_element(By.CSS_SELECTOR, "button.vote.good")
    load_page(nojs_browser, button.click)

    assert votes(query_id, first) == ["good"]
    assert f"text={quote(QUERY)}" in nojs_browser.current_url
    assert nojs_browser.current_url.endswith(f"#card-{first}")


def test_flagging_a_wrong_description_from_the_material_page(browser, live_url, analysed_catalog):
    material = next(iter(analysed_catalog.materials.values()))
    analysis = material.images.first().analysis
    browser.get(f"{live_url}/materials/{material.pk}/")

    # the form is folded until asked for; an empty reason is refused by the form itself
    browser.find_element(By.CSS_SELECTOR, "#flag summary").click()
    reason = browser.find_element(By.ID, "flag-reason")
    assert reason.get_attribute("required") is not None
    reason.send_keys("this is leather, not fabric")
    form = browser.find_element(By.ID, "flag-form")
    load_page(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]").click)

    assert "curator will check" in browser.find_element(By.ID, "flag-thanks").text
    flag = AnalysisFlag.objects.get(analysis=analysis, resolved_at__isnull=True)
    assert flag.reason == "this is leather, not fabric"
    assert review_queue().filter(pk=analysis.pk, has_open_flag=True).exists()
    flag.delete()
