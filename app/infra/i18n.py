"""Which language a diner reads, and the translated strings (Babel catalogs, `app/locale`).

Per request, `language_middleware` notes what the browser asks for: a switch (`?lang=de`,
remembered in the `lang` cookie) or its `Accept-Language` (negotiated by Babel). Pages that
speak to diners then `settle` the language with the restaurant's default (or the order's
language) as the last resort before English; every other page (kitchen, admin, manage) and
the API stay English. A worker renders an order's emails inside `use(order.language)`.

Messages are gettext msgids extracted by `pybabel` (babel.cfg, `make translations`); the
German catalog is `app/locale/de/LC_MESSAGES/messages.po`. A compiled `.mo` is used when it
is at least as new as its `.po`; otherwise the `.po` is compiled in memory, so a fresh clone
works without a build step."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

from babel import Locale
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"
# English is the source language (msgids); every other one has a catalog under LOCALE_DIR.
SUPPORTED = ("en", "de")
NAMES = {"en": "English", "de": "Deutsch"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is defined; `gettext` translates it on use."""
    return message


@dataclass(frozen=True)
class Preference:
    """What one request asks for: an explicit switch (query or cookie), then the browser's
    Accept-Language, each already narrowed to a supported language or None."""

    switch: str | None = None
    accepted: str | None = None


_preference: ContextVar[Preference] = ContextVar(
    "language_preference", default=Preference())  # noqa: B039 - frozen, never mutated
_language: ContextVar[str] = ContextVar("language", default=DEFAULT)


def supported(value: str | None) -> str | None:
    """`value` if it names a supported language ("de", "DE", "de-AT" → "de"), else None."""
    if not value:
        return None
    base = value.strip().replace("_", "-").split("-")[0].lower()
    return base if base in SUPPORTED else None


def from_accept_language(header: str) -> str | None:
    """The supported language the browser prefers most (q-values honoured), or None."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    preferred = [tag.replace("-", "_") for _, _, tag in sorted(ranked)]
    found = negotiate_locale(preferred, list(SUPPORTED))
    return supported(found)


def choose(preference: Preference, fallback: str | None = None) -> str:
    """Switch, else Accept-Language, else `fallback` (the restaurant's or order's default),
    else English."""
    return preference.switch or preference.accepted or supported(fallback) or DEFAULT


def settle(fallback: str | None = None) -> str:
    """Fix the language of the current request, which speaks to a diner, and return it."""
    language = choose(_preference.get(), fallback)
    _language.set(language)
    return language


def current() -> str:
    return _language.get()


@contextmanager
def use(language: str | None) -> Iterator[str]:
    """Render in `language` (an unsupported or empty one means English) inside the block."""
    token = _language.set(supported(language) or DEFAULT)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def locale() -> Locale:
    return _locale(current())


@lru_cache(maxsize=len(SUPPORTED))
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def warm_up() -> None:
    """Load Babel's data for every supported language now, once per process: it is read
    (unpickled and merged with its parents) at its first use, which was the first paid
    order's ticket in the middle of its fan-out (40 ms for English, 3 ms for each further
    language; py-spy in `orderpass bench webhook`)."""
    for language in SUPPORTED:
        _locale(language).currency_formats  # noqa: B018 - the read is the point


@lru_cache(maxsize=len(SUPPORTED))
def translations(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as `pybabel compile` does
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(message: str) -> str:
    return translations(current()).ugettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current()).ungettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    return translations(current()).upgettext(context, message)


def _preference_of(scope: Scope) -> tuple[Preference, str | None]:
    """The request's preference, and the language to remember in the cookie (a switch)."""
    headers = dict(scope["headers"])
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    switched = supported((query.get("lang") or [""])[0]) if "lang" in query else None
    remembered = None
    cookie_header = headers.get(b"cookie", b"").decode("latin-1")
    if cookie_header:
        try:
            jar = SimpleCookie(cookie_header)
        except Exception:  # a malformed cookie header is no choice
            jar = SimpleCookie()
        if COOKIE in jar:
            remembered = supported(jar[COOKIE].value)
    accepted = from_accept_language(headers.get(b"accept-language", b"").decode("latin-1"))
    return Preference(switch=switched or remembered, accepted=accepted), switched


def language_middleware(app: ASGIApp, *, secure: bool = False) -> ASGIApp:
    """Notes each request's language preference; a `?lang=` switch is remembered in a
    cookie (`secure`: HTTPS only, as the session's in production). Pages that depend on it
    say so (`Vary`), so no cache hands one language to another reader."""
    flags = "Path=/; SameSite=Lax; HttpOnly" + ("; Secure" if secure else "")

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        preference, switched = _preference_of(scope)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                if switched:
                    headers.add("set-cookie",
                                f"{COOKIE}={switched}; Max-Age={COOKIE_MAX_AGE}; {flags}")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.add("vary", "Accept-Language, Cookie")
            await send(message)

        preference_token = _preference.set(preference)
        language_token = _language.set(DEFAULT)
        try:
            await app(scope, receive, send_with_language)
        finally:
            _language.reset(language_token)
            _preference.reset(preference_token)

    return middleware
