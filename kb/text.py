"""Small text helpers shared by services and views."""

from __future__ import annotations

import re
import unicodedata

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 100) -> str:
    """Return a lower-case, hyphenated ASCII slug ("R&A Team" -> "r-a-team")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")
