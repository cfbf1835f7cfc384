"""Numbers and text typed into HTML forms and URLs, read strictly: ASCII digits only, bounded
length. Python's `int()` also takes "²", "٣" and 5,000-digit strings (and raises on some of
them with messages no customer should read); these helpers answer None instead."""

from __future__ import annotations

import re
from typing import Annotated

from litestar.params import PathParameter

MAX_DB_INT = 2**31 - 1  # Postgres `integer` (serial ids, minutes, quantities)
_DIGITS = re.compile(r"[0-9]{1,9}")


def ascii_int(raw: str, *, low: int = 0, high: int = MAX_DB_INT) -> int | None:
    """The integer `raw` spells in plain ASCII digits, if it lies in [low, high]."""
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def has_nul(text: str) -> bool:
    return "\x00" in text


# A path parameter naming a row (`/menu/{item_id:int}`): Litestar refuses anything outside a
# Postgres `integer` with a 400, where 99999999999999999999 reached asyncpg and failed (500).
RowId = Annotated[int, PathParameter(ge=1, le=MAX_DB_INT)]
