"""Property-based (hypothesis), bounded runs: whatever a client sends as a search request, and
whatever bytes arrive as an image, the answer is a 2xx, or a 4xx JSON error that names a code,
never a 500; the image intake either accepts an image or refuses it with its own error."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from rest_framework.test import APIClient

from materials.errors import ImageIntakeError
from materials.intake import image_decode, image_normalise
from tests.conftest import make_image_bytes

GENEROUS = {"burst": "100000/1s", "minute": "100000/60s", "hour": "100000/3600s"}
BOUNDED = settings(
    max_examples=120,
    deadline=None,  # never timing: a busy machine must not fail a run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples every run
)

# Values of every JSON kind, odd ones included: NUL bytes, numbers past bigint, deep nesting.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["\x00", "²", "9" * 30, "-1", "0", "wood", "#ff0000", "oak\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = ["text", "material_id", "negative_text", "crop", "filters", "weights", "fusion", "limit",
          "page", "image", "negative_image", "catalog"]  # fmt: skip
FILTER_KEYS = ["category", "catalog", "colors", "properties", "attributes", "material_type",
               "finish", "pattern", "lightness", "color_distance"]  # fmt: skip
filters = st.dictionaries(st.sampled_from(FILTER_KEYS), json_values, max_size=4)
requests = st.fixed_dictionaries(
    {},
    optional={
        **{name: json_values for name in FIELDS},
        "filters": filters | json_values,
        "text": st.text(max_size=60),
        "limit": st.integers(min_value=-5, max_value=2**40),
        "page": st.integers(min_value=-5, max_value=2**40),
    },
)


@pytest.fixture
def api(settings_fixture):
    return APIClient()


@pytest.fixture
def settings_fixture(settings):
    settings.SWATCH_SEARCH = {**settings.SWATCH_SEARCH, "RATES": GENEROUS}
    return settings


def _assert_answer(response) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400 and response.status_code != 429:
        error = response.json()["error"]
        assert error["code"]
        assert error["request_id"]


@pytest.mark.slow
@pytest.mark.django_db
@BOUNDED
@given(body=requests)
def test_no_search_request_is_a_500(api, providers, sample_catalog, body):
    _assert_answer(api.post("/api/v1/search/", json.dumps(body), content_type="application/json"))


@pytest.mark.slow
@pytest.mark.django_db
@BOUNDED
@given(
    query=st.dictionaries(
        st.sampled_from(["q", "text", "limit", "page", "catalog", "category", "sort", "colors"]),
        st.text(max_size=30) | st.integers(-(2**70), 2**70).map(str),
        max_size=4,
    )
)
def test_no_material_list_or_similar_query_is_a_500(api, providers, sample_catalog, query):
    _assert_answer(api.get("/api/v1/materials/", query))
    material = sample_catalog["oak"].pk
    _assert_answer(api.get(f"/api/v1/materials/{material}/similar/", query))


def _image(draw_format: str, size: tuple[int, int], mode: str) -> bytes:
    image = Image.new(
        mode, size, 128 if mode in ("L", "1", "I", "F") else (120, 80, 40)[: len(mode)]
    )
    buffer = io.BytesIO()
    image.save(buffer, draw_format)
    return buffer.getvalue()


image_bytes = st.one_of(
    st.binary(max_size=2048),
    st.builds(
        _image,
        st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"]),
        st.tuples(st.integers(1, 400), st.integers(1, 400)),
        st.sampled_from(["RGB", "L"]),
    ),
    # a real image, cut short or with bytes flipped
    st.tuples(
        st.sampled_from(["PNG", "JPEG"]), st.integers(0, 4000), st.binary(min_size=1, max_size=8)
    ).map(lambda t: _damaged(*t)),
)


def _damaged(fmt: str, at: int, noise: bytes) -> bytes:
    data = make_image_bytes(size=(96, 80), fmt=fmt)
    at = at % len(data)
    return data[:at] + noise + data[at + len(noise) :] if at % 2 else data[:at]


@BOUNDED
@given(data=image_bytes)
def test_the_intake_accepts_an_image_or_refuses_it_with_its_own_error(data):
    for intake in (image_decode, image_normalise):
        try:
            result = intake(data=data)
        except ImageIntakeError as exc:
            code = exc.code
        else:
            code = None
            assert result is not None
        assert code is None or isinstance(code, str)


@pytest.mark.slow
@pytest.mark.django_db
@BOUNDED
@given(data=image_bytes)
def test_no_uploaded_image_is_a_500(api, providers, sample_catalog, data):
    upload = io.BytesIO(data)
    upload.name = "query.bin"
    _assert_answer(api.post("/api/v1/search/", {"image": upload}, format="multipart"))
