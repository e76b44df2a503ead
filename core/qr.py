"""QR codes for pages: inline SVG, no image request, sharp at any zoom."""

import io
from functools import lru_cache

import segno
from django.utils.safestring import SafeString, mark_safe


@lru_cache(maxsize=4096)
def qr_svg(data: str, *, scale: int = 4, title: str = "") -> SafeString:
    qr = segno.make(data, error="m")
    return mark_safe(qr.svg_inline(scale=scale, title=title or data, dark="#111"))  # noqa: S308 - segno output


@lru_cache(maxsize=4096)
def qr_svg_document(data: str, *, scale: int = 4) -> bytes:
    """A standalone SVG file (with its XML namespace), for an <img> or a download."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="svg", scale=scale, dark="#111", title=data)
    return buffer.getvalue()
