"""`fit_relevance` on a small labelled folder of real textures: the file it writes is what
the search loads, and its phone photos are never the ones `evaluate_search` is scored on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from search.evaluation.augment import phone_photo
from search.relevance.calibration import VERSION, calibration_for, calibration_status
from search.relevance.collect import fit_photo_rng
from tests.conftest import SHARED_DATA
from tests.search.labelled_textures import labelled_textures

PER_CATEGORY = 2


def test_the_fits_phone_photos_are_not_the_evaluations():
    pixels = Image.open(next((SHARED_DATA / "images").rglob("*.png"))).convert("RGB")
    for seed in (0, 1):
        evaluated = phone_photo(pixels, rng=np.random.default_rng(seed))
        fitted = phone_photo(pixels, rng=fit_photo_rng(seed))
        assert fitted != evaluated
        assert fitted == phone_photo(pixels, rng=fit_photo_rng(seed))  # still reproducible


@pytest.fixture
def small_catalog(tmp_path) -> Path:
    return labelled_textures(tmp_path / "textures", per_category=PER_CATEGORY)


@pytest.mark.django_db(transaction=True)
def test_the_fitted_file_is_the_calibration_the_search_loads(small_catalog, tmp_path, settings):
    out = tmp_path / "calibration.json"
    call_command(
        "fit_relevance", str(small_catalog), "--labels", str(small_catalog / "labels.csv"),
        "--out", str(out), "--folds", "3", "--seed", "3",
    )  # fmt: skip
    data = json.loads(out.read_text())
    assert data["version"] == VERSION
    card = data["card"]
    assert min(card["rows"].values()) > 0  # fast, refined and text rows
    assert card["material_rows"]["synthetic_nonmaterial"] > 0
    assert "seed 3" in card["phone_photos"]
    assert all(0 <= ece <= 1 for ece in card["leave_group_out_ece"].values())
    (image_model,) = data["image_models"]
    (text_model,) = data["text_models"]

    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "CALIBRATION": str(out)}
    assert calibration_status(image_model=image_model, text_model=text_model)["calibrated"]
    calibration = calibration_for(image_model=image_model, text_model=text_model, threshold=0.5)
    assert calibration.card == card
    fitted = data["image_models"][image_model]["vector"]
    assert calibration.vector.weights == fitted["weights"]
    # A closer image is more likely the same material: the fitted cosine weight is positive.
    assert fitted["weights"]["cosine"] > 0


def test_a_missing_labels_file_is_a_clear_error(small_catalog, tmp_path):
    with pytest.raises(CommandError, match="no such labels file"):
        call_command("fit_relevance", str(small_catalog), "--labels", str(tmp_path / "none.csv"))
