"""Text folding for search: case- and diacritic-insensitive, as PostgreSQL's ``unaccent(lower(...))``."""

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """'Đăng ký KHAI SINH' -> 'dang ky khai sinh'.

    Vietnamese đ/Đ is a separate letter, not a base letter plus a combining mark, so NFD alone
    does not strip it; PostgreSQL's unaccent rules map it to d, and so do we.
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))
