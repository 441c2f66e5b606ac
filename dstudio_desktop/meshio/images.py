"""Texture images checked when a model is imported, not when it is exported or drawn.

A texture whose bytes are truncated or are not an image is otherwise accepted with the
model and fails later, far from its cause (an export to OBJ dies decoding it; a GLB export
carries it into a file validators reject). Decoding it once at import finds that while the
file is still in the user's hands, and the importer drops it with a warning naming it.
"""

from __future__ import annotations

import io
import warnings
from typing import Optional

# A texture beyond this many pixels is refused before it is decoded (16384 x 16384, the largest
# texture a GPU takes); PIL's own decompression-bomb guard is a warning below twice its limit.
MAX_TEXTURE_PIXELS = 16384 * 16384
KNOWN_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def verified_image(data: bytes) -> tuple[Optional[str], Optional[str]]:
    """(media type, None) when ``data`` decodes fully as a PNG, JPEG or WebP; else (None, the problem)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in KNOWN_FORMATS:
                    return None, f"a {image.format} image, not PNG or JPEG"
                width, height = image.size
                if width * height > MAX_TEXTURE_PIXELS:
                    return None, f"{width} x {height} pixels, larger than any GPU takes"
                image.load()
                return KNOWN_FORMATS[image.format], None
    except UnidentifiedImageError:
        return None, "not an image"
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, Image.DecompressionBombError) as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"a damaged image ({text[:120]})"


def png_bytes(image) -> tuple[Optional[bytes], Optional[str]]:
    """A PIL image (as trimesh hands them over, opened lazily) re-encoded as PNG, or (None, the problem)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            width, height = image.size
            if width * height > MAX_TEXTURE_PIXELS:
                return None, f"{width} x {height} pixels, larger than any GPU takes"
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            return buf.getvalue(), None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, KeyError, TypeError) as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"a damaged image ({text[:120]})"
