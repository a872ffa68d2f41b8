"""A curator re-runs analyses with options, in a real browser: the bulk action's intermediate
page (depth, described by, embedded by), then the review page's folded "re-run options". The
worker's tasks carry the options; the offline analyser answers at the depth asked and the
review page says at which depth and what it could not do. Headless Chromium against a live
server; real images analysed by the real pipeline (offline models)."""

from __future__ import annotations

import uuid

from django_q.models import OrmQ
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from analysis.curation.curators import curator_grant
from analysis.models import VisualAnalysis
from analysis.tasks import analysis_task

WAIT = 30


def _wait(driver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def _message(browser, text: str) -> str:
    wait = WebDriverWait(
        browser, WAIT, ignored_exceptions=[StaleElementReferenceException, WebDriverException]
    )
    return wait.until(
        lambda d: next(
            (e.text for e in d.find_elements(By.CSS_SELECTOR, ".messagelist li") if text in e.text),
            None,
        )
    )


def _run_tasks_of(pks: list[int]) -> int:
    """What the worker does with the queued tasks of these analyses (others are left alone)."""
    ran = 0
    for queued in OrmQ.objects.order_by("id"):
        task = queued.task
        if task.get("func") == "analysis.tasks.analysis_task" and task["args"][0] in pks:
            queued.delete()
            analysis_task(*task["args"], **task["kwargs"])
            ran += 1
    return ran


def test_a_curator_reruns_analyses_at_a_depth_without_the_vision_model(
    browser, live_url, analysed_catalog, login, make_user, screenshot
):
    # given two wood samples and a curator on the analyses list of their catalog
    stems = [s for s, c in sorted(analysed_catalog.categories.items()) if c == "wood"][:2]
    rows = [
        VisualAnalysis.objects.get(image__material=analysed_catalog.materials[s]) for s in stems
    ]
    pks = [row.pk for row in rows]
    curator = make_user(username=f"rerun-{uuid.uuid4().hex[:6]}")
    curator_grant(user=curator)
    login(curator)
    catalog = analysed_catalog.catalog.pk
    browser.get(f"{live_url}/admin/analysis/visualanalysis/?image__catalog__id__exact={catalog}")
    _wait(browser).until(EC.presence_of_element_located((By.ID, "result_list")))

    # when the curator ticks both and picks "Re-run analysis…"
    for pk in pks:
        browser.find_element(By.CSS_SELECTOR, f'input.action-select[value="{pk}"]').click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("rerun_selected")
    browser.find_element(By.CSS_SELECTOR, 'button[name="index"]').click()

    # then a page of options for the two, the defaults chosen, and nothing queued yet
    _wait(browser).until(EC.presence_of_element_located((By.ID, "rerun-options")))
    assert "2 analyses selected" in browser.find_element(By.ID, "rerun-summary").text
    assert browser.find_element(
        By.CSS_SELECTOR, 'input[name="depth"][value="detailed"]'
    ).is_selected()
    assert browser.find_element(
        By.CSS_SELECTOR, 'input[name="vision"][value="model"]'
    ).is_selected()
    assert not any(q.task["args"][0] in pks for q in OrmQ.objects.all())

    # when the curator chooses basic, the offline analyser, and confirms
    browser.find_element(By.CSS_SELECTOR, 'input[name="depth"][value="basic"]').click()
    browser.find_element(By.CSS_SELECTOR, 'input[name="vision"][value="offline"]').click()
    screenshot(browser, "rerun-options", full_page=False)
    browser.find_element(By.ID, "rerun-apply").click()

    # then back on the list, both queued with those options
    said = _message(browser, "Queued 2 analyses")
    assert "depth basic, no vision model, CLIP" in said
    assert "/admin/analysis/visualanalysis/" in browser.current_url
    assert _run_tasks_of(pks) == 2
    for row in rows:
        row.refresh_from_db()
        assert (row.depth, row.source, row.status) == ("basic", "offline", row.status)
        assert row.description["finish"] == "unknown"  # basic: type and colours only
        assert row.queue_options["analysis"] == {"vision": False, "clip": True, "depth": "basic"}

    # when the curator opens one and re-runs it from its review page at comprehensive depth
    browser.get(f"{live_url}/admin/analysis/visualanalysis/{pks[0]}/change/")
    _wait(browser).until(EC.presence_of_element_located((By.ID, "review-form")))
    assert (
        "last queued: depth basic, no vision model"
        in browser.find_element(By.ID, "analysis-depth").text
    )
    browser.find_element(By.CSS_SELECTOR, "#rerun-options summary").click()
    browser.find_element(
        By.CSS_SELECTOR, 'input[name="rerun-depth"][value="comprehensive"]'
    ).click()
    screenshot(browser, "rerun-review-options", full_page=False)
    browser.find_element(By.ID, "rerun").click()  # no "unsaved edits" prompt: options are no edit
    assert "depth comprehensive" in _message(browser, f"Queued #{pks[0]}")
    assert _run_tasks_of(pks[:1]) == 1

    # then the review page says the depth, and what the offline analyser could not do
    browser.get(f"{live_url}/admin/analysis/visualanalysis/{pks[0]}/change/")
    depth = _wait(browser).until(EC.presence_of_element_located((By.ID, "analysis-depth"))).text
    assert depth.startswith("comprehensive")
    assert "cannot be judged from pixels" in browser.find_element(By.ID, "analysis-depth-note").text
    rows[0].refresh_from_db()
    assert len(rows[0].description["properties"]) >= 1
