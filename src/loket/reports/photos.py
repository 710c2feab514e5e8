"""A photo as loket keeps it: checked by its content, never by its name or declared type, and drawn
anew as a JPEG that carries the pixels and nothing else (no EXIF, GPS, XMP, ICC or comments).

The pixel count is checked from the header, before any pixel is decoded: a small file can declare a
picture of billions of pixels (a decompression bomb) and would take the memory of the server.
"""

from __future__ import annotations

from io import BytesIO

from fastapi import Response
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("JPEG", "PNG", "WEBP")
CACHING = {"Cache-Control": "private, no-store"}  # one person's photo: no cache on the way keeps it
MAX_SIDE = 2560  # px: more than a screen shows; a phone's 48 MP photo is brought down to it
QUALITY = 85


class NotAPhoto(Exception):
    """The bytes are no image of FORMATS, or a damaged one."""


class TooManyPixels(Exception):
    """Its header declares more pixels than allowed (Pillow's own bomb check, at twice its
    MAX_IMAGE_PIXELS, comes later than ours)."""


def reencode(data: bytes, max_pixels: int) -> bytes:
    """The photo upright (its EXIF orientation applied), at most MAX_SIDE wide and high, as a JPEG
    without metadata; NotAPhoto or TooManyPixels when it cannot be one."""
    try:
        with Image.open(BytesIO(data), formats=FORMATS) as probe:
            if probe.width * probe.height > max_pixels:
                raise TooManyPixels(f"{probe.width}x{probe.height}")
            probe.verify()
        with Image.open(BytesIO(data), formats=FORMATS) as image:
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # a JPEG decodes at a fraction of its size: faster
            upright = ImageOps.exif_transpose(image.convert("RGBA") if _transparent(image) else image)
            upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            clean = Image.new("RGB", upright.size, "white")
            clean.paste(upright, mask=upright if upright.mode == "RGBA" else None)
    except Image.DecompressionBombError as error:
        raise TooManyPixels(str(error)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise NotAPhoto(str(error)) from None
    out = BytesIO()
    clean.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def _transparent(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def served(data: bytes) -> Response:
    """A kept photo as an answer to the one who may see it (the reporter, or who handles the report)."""
    return Response(data, media_type="image/jpeg", headers=CACHING)
