"""Curation in a real browser: a curator opens the review queue, corrects an analysis (and so
approves it), and the search page finds the corrected material first for the corrected
attribute. Headless Chromium against a live server; real images analysed by the real pipeline
(offline models), the correction embedded by the real text embedder."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from analysis.curation.curators import curator_grant
from analysis.curation.services import analysis_flag
from analysis.models import AnalysisAuditEntry, Embedding, VisualAnalysis

WAIT = 30
# No image of the catalog is cork: only the correction can make a material cork.
NEW_TYPE, NEW_FINISH = "cork", "glossy"


def _wait(driver, timeout: int = WAIT) -> WebDriverWait:
    return WebDriverWait(driver, timeout)


def test_curator_corrects_an_analysis_and_search_finds_it_first(
    browser, live_url, analysed_catalog, login, make_user, screenshot
):
    # given a wood sample whose analysis a user flagged, and a curator
    stem = next(s for s, c in sorted(analysed_catalog.categories.items()) if c == "wood")
    material = analysed_catalog.materials[stem]
    analysis = VisualAnalysis.objects.get(image__material=material)
    analysis_flag(analysis=analysis, actor=None, reason="this is a cork board, not wood")
    catalog_types = set(
        VisualAnalysis.objects.filter(image__catalog=analysed_catalog.catalog).values_list(
            "material_type", flat=True
        )
    )
    assert NEW_TYPE not in catalog_types
    assert analysis.description["finish"] != NEW_FINISH
    before = Embedding.objects.get(image_id=analysis.image_id, kind="description")
    curator = make_user(username=f"curator-{analysis.pk}")
    curator_grant(user=curator)
    login(curator)

    # when the curator opens the review queue, the flagged sample is listed
    browser.get(f"{live_url}/admin/analysis/reviewqueueitem/")
    review_path = f"/admin/analysis/reviewqueueitem/{analysis.pk}/change/"
    link = _wait(browser).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, f'#result_list a[href="{review_path}"]'))
    )
    assert material.name in browser.find_element(By.ID, "result_list").text

    # and opens its review page: the image beside the form, the flag shown
    link.click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "review-form")))
    assert browser.find_element(By.ID, "review-image").get_attribute("naturalWidth") != "0"
    assert "this is a cork board" in browser.page_source

    # and corrects the material type and the finish, then saves and approves
    Select(browser.find_element(By.ID, "id_material_type")).select_by_value(NEW_TYPE)
    Select(browser.find_element(By.ID, "id_finish")).select_by_value(NEW_FINISH)
    browser.find_element(By.ID, "id_note").send_keys("cork board")
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, "curation-review", full_page=False)
    browser.find_element(By.ID, "save-correction").click()
    message = _wait(browser).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, ".messagelist .success"))
    )
    assert f"Saved and approved #{analysis.pk}" in message.text

    # then the analysis is curated and approved, with a new description embedding and audit
    analysis.refresh_from_db()
    assert (analysis.status, analysis.source, analysis.confidence) == ("approved", "curated", 1.0)
    assert (analysis.material_type, analysis.description["finish"]) == (NEW_TYPE, NEW_FINISH)
    assert analysis.reviewed_by_id == curator.pk
    after = Embedding.objects.get(image_id=analysis.image_id, kind="description")
    assert after.source_sha256 != before.source_sha256
    entry = AnalysisAuditEntry.objects.filter(analysis=analysis, action="correct").get()
    assert entry.actor_name == curator.username
    assert entry.changes["material_type"][1] == NEW_TYPE

    # when anyone searches the catalog for the corrected attribute on the search page
    browser.get(f"{live_url}/?catalog={analysed_catalog.catalog.pk}")
    box = browser.find_element(By.ID, "id_text")
    box.send_keys(f"{NEW_FINISH} {NEW_TYPE}")
    box.submit()
    _wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .card")))

    # then the corrected material comes first
    found = [
        int(card.get_attribute("data-material-id"))
        for card in browser.find_elements(By.CSS_SELECTOR, "#results .card")
    ]
    assert found[0] == material.pk, found
