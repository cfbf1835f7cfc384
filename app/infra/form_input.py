"""Numbers and text typed into HTML forms and URLs, read strictly: ASCII digits only, bounded
length. Python's `int()` also takes "²", "٣" and 5,000-digit strings (and raises on some of
them with messages no customer should read); these helpers answer None instead."""

from __future__ import annotations

import re
from typing import Annotated

from litestar.params import PathParameter

from app.infra.json_body import NO_OVERRIDE, ONE_LINE, text_problem

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


def text_error(text: str, *, lines: bool = False) -> str:
    """Why typed text that diners or cooks will read cannot be kept, as a sentence for its
    form field, or "": one line (a name, a phone number, an address) or, with `lines`,
    several (a description); never NUL or a text-direction override, which shows
    "\\u202estunaep" as "peanuts". The API's patterns (app/infra/json_body.py), in its words."""
    problem = text_problem(text, NO_OVERRIDE if lines else ONE_LINE)
    return as_sentence(problem) if problem else ""


def as_sentence(message: str) -> str:
    """A message as a page says it: capitalised, ending with a full stop (the services word
    their refusals as clauses: "choose at least one item to refund")."""
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


# A path parameter naming a row (`/menu/{item_id:int}`): Litestar refuses anything outside a
# Postgres `integer` with a 400, where 99999999999999999999 reached asyncpg and failed (500).
RowId = Annotated[int, PathParameter(ge=1, le=MAX_DB_INT)]
