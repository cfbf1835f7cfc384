"""Menu photos are re-encoded: metadata gone, size bounded; SVG, garbage, oversized files and
decompression bombs are refused with a message for the form."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.restaurants import photos


def _jpeg(width: int, height: int, exif: bool = True) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    data = Image.Exif()
    data[0x010F] = "SecretCam"  # Make
    data[0x9286] = "gps and names here"
    image.save(out, format="JPEG", exif=data.tobytes() if exif else b"")
    return out.getvalue()


def test_a_photo_is_re_encoded_without_metadata_and_bounded() -> None:
    raw = _jpeg(3000, 2000)
    assert b"SecretCam" in raw
    photo = photos.process(raw)
    assert photo.content_type == "image/webp"
    assert (photo.width, photo.height) == (1200, 800)
    assert b"SecretCam" not in photo.content and b"Exif" not in photo.content
    with Image.open(io.BytesIO(photo.content)) as back:
        assert back.format == "WEBP" and not back.getexif()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "JPEG, PNG or WebP"),
    (b"GIF89a" + b"\x00" * 100, "JPEG, PNG or WebP"),
    (b"\xff\xd8\xff" + b"\x00" * 100, "JPEG, PNG or WebP"),  # a cut JPEG
])
def test_what_is_not_a_photo_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(photos.PhotoInvalid, match=message):
        photos.process(data)


def test_a_file_over_the_size_limit_is_refused_before_decoding() -> None:
    with pytest.raises(photos.PhotoInvalid, match="larger than 20 MB"):
        photos.process(b"\x00" * (photos.MAX_BYTES + 1))


def test_a_decompression_bomb_is_refused() -> None:
    # A tiny PNG that claims 10,000 x 10,000 pixels (100 MP, over MAX_PIXELS).
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    assert len(out.getvalue()) < 100_000
    with pytest.raises(photos.PhotoInvalid, match="too many pixels"):
        photos.process(out.getvalue())
