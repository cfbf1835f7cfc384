"""Menu photos: an upload is decoded with Pillow and re-encoded as WebP, bounded in size, so
what we serve carries no metadata (EXIF, GPS, ICC), no script (SVG is not an image format we
open) and no surprise: files over MAX_BYTES, images over MAX_PIXELS (Pillow's decompression
bomb guard, made strict) and formats other than JPEG, PNG and WebP are refused with a message
for the form's `photo` field."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 20 * 1024 * 1024  # a phone's photo (often 5-12 MB) fits; what we keep is small
MAX_PIXELS = 40_000_000  # a 50-megapixel phone photo is refused; 8000 x 5000 passes
MAX_SIDE = 1200  # the served image's longest side
FORMATS = ("JPEG", "PNG", "WEBP")
CONTENT_TYPE = "image/webp"
# Pillow refuses images over twice this (DecompressionBombError) and warns over it; `process`
# turns the warning into a refusal too. Set for the process: no image we open may be larger.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class PhotoInvalid(ValueError):
    """Why the upload cannot be a menu photo."""


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    width: int
    height: int


def process(data: bytes) -> Photo:
    if len(data) > MAX_BYTES:
        raise PhotoInvalid(f"The photo is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise PhotoInvalid("The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise PhotoInvalid("The photo has too many pixels.")
                opened.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # JPEG: decode smaller
                image = ImageOps.exif_transpose(opened)
                image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoInvalid("The photo has too many pixels.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        if isinstance(error, PhotoInvalid):
            raise
        raise PhotoInvalid("Upload a JPEG, PNG or WebP photo.") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=80, method=4)  # no exif/icc passed: none kept
    return Photo(out.getvalue(), CONTENT_TYPE, image.width, image.height)
