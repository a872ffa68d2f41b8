"""Every refusal of image intake has its own code; accepted images come out upright RGB."""

import dataclasses
import hashlib
import io
import os

import numpy as np
import pytest
from PIL import Image

from materials.intake import (
    EMBEDDING_SIDE,
    ImageIntakeError,
    IntakeLimits,
    embedding_input,
    image_decode,
    image_normalise,
)
from tests.conftest import make_image_bytes

LIMITS = IntakeLimits(
    max_pixels=40_000_000,
    max_bytes=5_000_000,
    min_side=16,
    max_stored_side=2048,
    formats=("JPEG", "PNG", "WEBP"),
)


def _refusal(data: bytes, limits: IntakeLimits = LIMITS) -> ImageIntakeError:
    with pytest.raises(ImageIntakeError) as caught:
        image_normalise(data=data, limits=limits)
    return caught.value


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_allowed_formats_are_accepted_and_reencoded_as_jpeg(fmt):
    data = make_image_bytes((80, 60), fmt=fmt)
    result = image_normalise(data=data, limits=LIMITS)
    assert (result.width, result.height) == (80, 60)
    assert result.pixels.mode == "RGB"
    assert Image.open(io.BytesIO(result.content)).format == "JPEG"
    assert result.original_format == fmt
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_empty_file_is_refused():
    assert _refusal(b"").code == "empty_file"


def test_text_file_named_like_an_image_is_refused():
    error = _refusal(b"this is not an image, just text in a file called photo.jpg\n")
    assert error.code == "not_an_image"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_formats_outside_the_allow_list_are_refused(fmt):
    error = _refusal(make_image_bytes((40, 40), fmt=fmt))
    assert error.code == "unsupported_format"
    assert fmt in error.message


def test_truncated_jpeg_is_refused():
    data = make_image_bytes((400, 300), fmt="JPEG", quality=95)
    error = _refusal(data[: len(data) // 2])
    assert error.code == "truncated"


def test_too_many_pixels_is_refused_from_the_header_before_decoding():
    # 100 megapixels of 1-bit PNG: small on disk, ~100 MB if it were decoded to RGB
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")
    error = _refusal(buffer.getvalue())
    assert error.code == "too_many_pixels"
    assert "100.0 megapixels" in error.message


def _phone_photo(size: tuple[int, int]) -> bytes:
    """A JPEG the size of a current phone's photo (smooth, so small on disk)."""
    ramp = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_180), ramp))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("size", "decoded"), [((8000, 6000), (4000, 3000)), ((9000, 6000), (4500, 3000))]
)
def test_a_48_to_54_megapixel_jpeg_is_decoded_at_reduced_size_not_refused(size, decoded):
    # given a 48 or 54 MP phone photo, over the 40 MP cap
    data = _phone_photo(size)
    assert size[0] * size[1] > LIMITS.max_pixels

    # when it arrives, then libjpeg decodes it at half size (draft mode): the full-size
    # pixels are never in memory, and it is accepted and stored at the stored side
    assert image_decode(data=data, limits=LIMITS).size == decoded
    stored = image_normalise(data=data, limits=LIMITS)
    assert max(stored.width, stored.height) == LIMITS.max_stored_side
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_the_pixel_cap_still_bounds_what_a_jpeg_decodes_to():
    # given a cap so low that even an eighth of each side is over it
    tiny_cap = dataclasses.replace(LIMITS, max_pixels=1_000)
    data = make_image_bytes((400, 300), fmt="JPEG")  # 1/8: 50 × 38 = 1 900 pixels

    # then it is refused by the cap, naming its size
    error = _refusal(data, tiny_cap)
    assert error.code == "too_many_pixels"
    assert "400×300" in error.message
    # and a cap a quarter of each side fits is met at that reduction, not less
    quarter = dataclasses.replace(LIMITS, max_pixels=100 * 75)
    assert image_decode(data=data, limits=quarter).size == (100, 75)


def test_a_png_over_the_pixel_cap_is_still_refused():
    # PNG has no reduced decoding: over the cap is refused before decoding
    cap = dataclasses.replace(LIMITS, max_pixels=10_000)
    error = _refusal(make_image_bytes((200, 100), fmt="PNG"), cap)
    assert error.code == "too_many_pixels"


def test_file_over_the_byte_cap_is_refused():
    noise = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    limits = IntakeLimits(**{**LIMITS.__dict__, "max_bytes": 10_000})
    assert _refusal(buffer.getvalue(), limits).code == "file_too_large"


def test_tiny_image_is_refused():
    assert _refusal(make_image_bytes((8, 200))).code == "too_small"


def test_exif_orientation_is_applied():
    # given a landscape JPEG whose EXIF says "rotate 90°" (orientation 6)
    image = Image.new("RGB", (120, 40), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    # when it is taken in, then it comes out upright: portrait
    result = image_normalise(data=buffer.getvalue(), limits=LIMITS)
    assert (result.width, result.height) == (40, 120)


def test_transparency_becomes_white():
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    pixels = image_decode(data=buffer.getvalue(), limits=LIMITS)
    assert pixels.mode == "RGB"
    assert pixels.getpixel((5, 5)) == (255, 255, 255)


def test_large_images_are_stored_scaled_down():
    limits = IntakeLimits(**{**LIMITS.__dict__, "max_stored_side": 100})
    result = image_normalise(data=make_image_bytes((400, 200)), limits=limits)
    assert (result.width, result.height) == (100, 50)
    assert Image.open(io.BytesIO(result.thumbnails[""])).size == (50, 50)  # never upscaled


def test_thumbnails_are_centre_squares_in_the_sizes_screens_need_never_upscaled():
    # a portrait photo: its thumbnails are squares of its middle, 1x, 2x and 3x
    big = image_normalise(data=make_image_bytes((1000, 1600)), limits=LIMITS)
    sizes = {k: Image.open(io.BytesIO(v)).size for k, v in big.thumbnails.items()}
    assert sizes == {"": (320, 320), "@2x": (640, 640), "@3x": (960, 960)}
    # a middling one has no 3x (it would be its own size again), a small one only itself
    middle = image_normalise(data=make_image_bytes((500, 700)), limits=LIMITS)
    assert {k: Image.open(io.BytesIO(v)).size for k, v in middle.thumbnails.items()} == {
        "": (320, 320),
        "@2x": (500, 500),
    }
    small = image_normalise(data=make_image_bytes((128, 256)), limits=LIMITS)
    assert {k: Image.open(io.BytesIO(v)).size for k, v in small.thumbnails.items()} == {
        "": (128, 128)
    }


def _textured(size=(300, 200), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_the_same_pixels_in_other_bytes_give_the_same_embedding_input():
    # given one image's pixels carried by three different files
    pixels = _textured()
    files = [
        _encoded(pixels, "PNG", compress_level=1),
        _encoded(pixels, "PNG", compress_level=9),
        _encoded(pixels, "WEBP", lossless=True),
    ]
    assert len({hashlib.sha256(f).hexdigest() for f in files}) == 3

    # when each is stored as a catalog image and decoded as a query upload
    stored = [image_normalise(data=f, limits=LIMITS) for f in files]
    queried = [embedding_input(image_decode(data=f, limits=LIMITS)) for f in files]

    # then the embedders see exactly the same pixels every time, not the stored JPEG's
    expected = np.asarray(embedding_input(pixels))
    for result, query in zip(stored, queried, strict=True):
        kept = Image.open(io.BytesIO(result.embedding_input))
        assert kept.format == "PNG"
        assert np.array_equal(np.asarray(kept.convert("RGB")), expected)
        assert np.array_equal(np.asarray(query), expected)
    assert not np.array_equal(
        np.asarray(Image.open(io.BytesIO(stored[0].content)).convert("RGB")), np.asarray(pixels)
    )  # the stored JPEG is lossy: it is not what gets embedded


def test_the_embedding_input_is_brought_down_to_a_fixed_short_side_never_up():
    assert embedding_input(_textured((100, 60))).size == (100, 60)
    large = embedding_input(_textured((1200, 800)))
    assert min(large.size) == EMBEDDING_SIDE
    assert large.size == (504, 336)
    strip = embedding_input(_textured((4000, 400)))
    assert max(strip.size) <= EMBEDDING_SIDE * 4
