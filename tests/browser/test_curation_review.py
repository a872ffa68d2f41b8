"""The curator's review page in a real browser: re-runs that keep a correction unless the
curator confirms, one-click restore from the audit trail, why an item is queued, the sticky
action bar and its keys, undo for reject, two curators on one item, the admin home's counts,
the queue table, and axe-core on the form. Headless Chromium against a live server; real
images analysed by the real pipeline (offline models)."""

from __future__ import annotations

import uuid

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from analysis.curation.corrections import analysis_correct
from analysis.curation.curators import curator_grant
from analysis.curation.selectors import review_queue
from analysis.curation.services import analysis_flag
from analysis.models import VisualAnalysis
from analysis.tasks import analysis_task
from tests.browser.test_pages_designers import axe_violations

WAIT = 30


def _wait(driver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def _review(browser, live_url, analysis) -> None:
    browser.get(f"{live_url}/admin/analysis/reviewqueueitem/{analysis.pk}/change/")
    _wait(browser).until(EC.presence_of_element_located((By.ID, "review-form")))


def _message(browser, text: str) -> bool:
    """Wait for the admin's message saying `text` (the page may still be the one before, whose
    list of flags is a message list too, and may go while it is read: its nodes are then stale,
    or "do not belong to the document", which Chromium reports as a plain WebDriverException)."""
    wait = WebDriverWait(
        browser, WAIT, ignored_exceptions=[StaleElementReferenceException, WebDriverException]
    )
    return wait.until(
        lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, ".messagelist li"))
    )


def _curator(make_user, name):
    user = make_user(username=f"{name}-{uuid.uuid4().hex[:6]}")
    curator_grant(user=user)
    return user


def _stems(analysed_catalog, category):
    return [s for s, c in sorted(analysed_catalog.categories.items()) if c == category]


def test_a_rerun_keeps_the_correction_unless_confirmed_and_the_audit_restores_it(
    browser, live_url, analysed_catalog, login, make_user
):
    # given a curator's correction of a brick sample: it is cork now
    material = analysed_catalog.materials[_stems(analysed_catalog, "brick")[0]]
    analysis = VisualAnalysis.objects.get(image__material=material)
    login(_curator(make_user, "curator"))
    _review(browser, live_url, analysis)
    Select(browser.find_element(By.ID, "id_material_type")).select_by_value("cork")
    browser.find_element(By.ID, "save-correction").click()
    assert _message(browser, f"Saved and approved #{analysis.pk} (material type changed)")

    # when the curator re-runs it from the review page without ticking "replace"
    _review(browser, live_url, analysis)
    rerun = browser.find_element(By.ID, "rerun")
    assert rerun.text == "Re-run with the offline analyser"  # who will answer
    rerun.click()
    assert _message(browser, "the curated description is kept")
    analysis_task(analysis.pk, fresh=True)  # what the worker does with the queued task

    # then the correction stands
    analysis.refresh_from_db()
    assert (analysis.material_type, analysis.source) == ("cork", "curated")

    # when the curator confirms replacing it, and the worker runs the re-analysis
    browser.find_element(By.ID, "id_overwrite_curated").click()
    browser.find_element(By.ID, "rerun").click()
    assert _message(browser, "will be replaced")
    analysis_task(analysis.pk, force_curated=True, fresh=True)
    analysis.refresh_from_db()
    assert analysis.material_type != "cork"

    # then the audit trail restores the curated description in one click
    _review(browser, live_url, analysis)
    browser.find_element(By.CSS_SELECTOR, "#review-audit button.restore").click()
    assert _message(browser, "Restored the earlier description")
    analysis.refresh_from_db()
    assert (analysis.material_type, analysis.source, analysis.status) == (
        "cork",
        "curated",
        "approved",
    )


def test_the_review_page_fits_the_work(browser, live_url, analysed_catalog, login, make_user):
    # given a flagged analysis and a curator on a 1366 x 768 screen
    material = analysed_catalog.materials[_stems(analysed_catalog, "grass")[0]]
    analysis = VisualAnalysis.objects.get(image__material=material)
    analysis_flag(analysis=analysis, actor=None, reason="this looks like moss")
    status_before = analysis.status
    first = _curator(make_user, "first")
    login(first)
    browser.set_window_size(1366, 768)
    _review(browser, live_url, analysis)

    # then why it is queued shows before any edit: the flag, field confidences, runner-ups
    why = browser.find_element(By.ID, "why-queued").text
    assert "this looks like moss" in why
    assert "material type" in browser.find_element(By.ID, "field-confidence").text
    runner_up = browser.find_elements(By.CSS_SELECTOR, "#runner-ups .runner-up")
    assert runner_up
    # the actions sit in a bar visible without scrolling, and stay when the page scrolls
    where = "const r = document.getElementById('review-bar').getBoundingClientRect();"
    where += "return [r.top, r.bottom, window.innerHeight];"
    top, bottom, height = browser.execute_script(where)
    assert top >= 0
    assert bottom <= height
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    top, bottom, height = browser.execute_script(where)
    assert top >= 0
    assert bottom <= height
    assert "r reject" in browser.find_element(By.ID, "shortcuts").text
    # unused colour rows are folded away; every input has a label (axe-core)
    assert not browser.find_element(By.ID, "more-colours").get_attribute("open")
    assert axe_violations(browser, "#review-form") == []

    # when a runner-up type is chosen in one click, then the reject key is pressed
    kind = runner_up[0].get_attribute("data-type")
    runner_up[0].click()
    assert (
        Select(browser.find_element(By.ID, "id_material_type")).first_selected_option.get_attribute(
            "value"
        )
        == kind
    )
    browser.execute_script("document.activeElement.blur()")  # keys act outside the fields
    ActionChains(browser).send_keys("r").perform()
    # the edit would be thrown away: the page asks first
    _wait(browser).until(EC.alert_is_present())
    browser.switch_to.alert.accept()
    assert _message(browser, f"Rejected #{analysis.pk}")
    analysis.refresh_from_db()
    assert analysis.status == "rejected"

    # and "Undo" puts it back as it was
    browser.find_element(By.ID, "undo-reject").click()
    assert _message(browser, "undone")
    analysis.refresh_from_db()
    assert analysis.status == status_before

    # when a second curator opens the item, they see who is on it
    second = _curator(make_user, "second")
    login(second)
    _review(browser, live_url, analysis)
    assert first.username in browser.find_element(By.ID, "presence").text

    # and the first one saves a correction meanwhile: the second's save is refused, not lost
    current = dict(analysis.description)
    analysis_correct(analysis=analysis, actor=first, description={**current, "finish": "glossy"})
    Select(browser.find_element(By.ID, "id_finish")).select_by_value("matte")
    save = browser.find_element(By.ID, "save-correction")
    save.click()
    _wait(browser).until(EC.staleness_of(save))
    error = _wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".errornote")))
    assert f"{first.username} changed analysis #{analysis.pk}" in error.text
    assert "nothing of yours was saved" in error.text
    analysis.refresh_from_db()
    assert analysis.description["finish"] == "glossy"

    # the admin home counts the queue, and the queue table fits the screen
    other = analysed_catalog.materials[_stems(analysed_catalog, "wood")[-1]]
    analysis_flag(
        analysis=VisualAnalysis.objects.get(image__material=other), actor=None, reason="check"
    )
    browser.get(f"{live_url}/admin/")
    counts = browser.find_element(By.ID, "queue-counts").text
    assert f"{review_queue().count()} waiting" in counts
    browser.get(f"{live_url}/admin/analysis/reviewqueueitem/")
    _wait(browser).until(EC.presence_of_element_located((By.ID, "result_list")))
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1366
    statuses = browser.find_element(By.ID, "changelist-filter").text.lower()
    assert "pending" not in statuses
    assert "running" not in statuses
    browser.set_window_size(1366, 900)
