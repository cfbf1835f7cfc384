"""The one Jinja environment, for pages, htmx fragments, SSE frames and emails alike: where
templates and components are found, and the money and time formats every one of them uses.

Emails render through the same environment with stricter rules (`email_environment`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel.numbers import format_currency, format_decimal
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    meta,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from app import paths
from app.accounts.session import current_staff
from app.infra import i18n
from app.infra.i18n import N_
from app.live.server_since import SERVER_SINCE
from app.orders import reject_reasons
from app.orders.choices import label as modifiers_label
from app.orders.pricing import format_rate
from app.payments.dispute_status import dispute_told
from app.restaurants import hours
from app.restaurants.allergens import labels as allergen_labels
from app.restaurants.allergens import order_contains
from app.settings import get_settings

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal): amounts
# in whole units. Not ISK or HUF: Stripe's API takes them with two decimals (ISK's always 00),
# so 1,500 Ft is 150000 to Stripe and here alike.
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                          "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})


def format_money(amount: int, currency: str) -> str:
    """Minor units to a display string in the active language, through Babel: 1150, "eur" →
    "€11.50" in English, "11,50 €" in German (a no-break space before the symbol)."""
    return _money(amount, currency, i18n.current())


@lru_cache(maxsize=4096)
def _money(amount: int, currency: str, language: str) -> str:
    # Babel takes about 0.1 ms a call; an email shows the same few prices (menu items,
    # totals) again and again, a fifth of its rendering before this cache.
    code = currency.upper()
    value = Decimal(amount) if currency.lower() in ZERO_DECIMAL else Decimal(amount) / 100
    return format_currency(value, code, locale=i18n._locale(language))


def _staff_link_of(request: Any) -> tuple[str, str] | None:
    """(address, label) of the pages the logged-in staff member of `request` can use."""
    staff = current_staff(request) if request is not None else None
    return staff.home_link if staff else None


def format_number(value: int | float | Decimal | str) -> str:
    """A number as the active language writes it ("1,234.5" / "1.234,5"); a string is read
    as a decimal written with a point (a VAT rate's label, "5.5")."""
    return _number(value, i18n.current())


@lru_cache(maxsize=1024)
def _number(value: int | float | Decimal | str, language: str) -> str:
    # VAT rates and quantities: a handful of values, formatted in every email and receipt.
    return format_decimal(Decimal(value) if isinstance(value, str) else value,
                          locale=i18n._locale(language))


def format_time(value: datetime | None) -> str:
    return value.strftime("%H:%M") if value else ""


def zone(name: str) -> ZoneInfo:
    """The restaurant's time zone; UTC for a name the tz database does not know."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _clock(local: datetime) -> str:
    # The 24-hour clock in every language a restaurant in Orderpass speaks ("14:40").
    return _clock_of(local.hour, local.minute, i18n.current())


@lru_cache(maxsize=4096)
def _clock_of(hour: int, minute: int, language: str) -> str:
    # Babel's formatting costs tens of µs; there are 1,440 minutes in a day.
    return babel_dates.format_time(time(hour, minute), "HH:mm", locale=i18n._locale(language))


def local_clock(value: datetime | None, timezone: str) -> str:
    """A moment as the restaurant's wall clock shows it ("14:40"): every time a diner, a
    cook or an email sees is in the restaurant's time zone, never UTC."""
    return _clock(value.astimezone(zone(timezone))) if value else ""


def pause_until(value: datetime | None, timezone: str) -> str:
    """When a pause ends, for staff: "14:40", or "the end of the day" for a pause for the
    rest of it (it ends at the restaurant's midnight: "until 00:00" read as a mistake)."""
    if value is None:
        return ""
    local = value.astimezone(zone(timezone))
    return "the end of the day" if (local.hour, local.minute) == (0, 0) else _clock(local)


def weekday_date(day: date) -> str:
    """A day as a diner reads it everywhere (the checkout's day select, the status page, the
    emails, the kitchen's list of orders for later), in the current language: "Sat 6 Dec"."""
    # Translators: a Babel (CLDR) pattern for a day, "Sat 6 Dec" (the day without a leading
    # zero).
    return babel_dates.format_date(day, i18n.gettext("EEE d MMM"), locale=i18n.locale())


def long_date(day: date) -> str:
    """A day with its year, for lists that reach into another year (an owner's closures):
    "Mon 4 Jan 2027", in the current language."""
    # Translators: a Babel (CLDR) pattern for a day with its year, "Mon 4 Jan 2027".
    return babel_dates.format_date(day, i18n.gettext("EEE d MMM y"), locale=i18n.locale())


def day_label(day: date, today: date, *, in_sentence: bool = False) -> str:
    """"Today", "Tomorrow" or "Sat 6 Dec", in the current language; `in_sentence`: as
    written after other words ("booked for tomorrow 12:00", German "für morgen")."""
    if day == today:
        return (i18n.pgettext("in a sentence", "today") if in_sentence
                else i18n.gettext(N_("Today")))
    if day == today + timedelta(days=1):
        return (i18n.pgettext("in a sentence", "tomorrow") if in_sentence
                else i18n.gettext(N_("Tomorrow")))
    return weekday_date(day)


def day_clock(value: datetime | None, timezone: str, now: datetime | None = None) -> str:
    """A moment on the restaurant's clock, with its day unless it is today: "12:00",
    "Tomorrow 12:00", "Sat 5 Dec 12:00" (a list of orders for later read at a glance; in a
    sentence, `day_at`)."""
    if value is None:
        return ""
    local, today, clock = _on_clock(value, timezone, now)
    if local.date() == today:
        return clock
    return f"{day_label(local.date(), today)} {clock}"


def _on_clock(value: datetime, timezone: str, now: datetime | None
              ) -> tuple[datetime, date, str]:
    """`value` on the restaurant's clock, the restaurant's today and the time as written."""
    tz = zone(timezone)
    local = value.astimezone(tz)
    return local, (now or datetime.now(UTC)).astimezone(tz).date(), _clock(local)


def day_at(value: datetime | None, timezone: str, now: datetime | None = None) -> str:
    """A moment on the restaurant's clock as written after other words, its day named unless
    it is today: "at 12:00", "tomorrow at 12:00", "on Sat 5 Dec at 12:00" (the kitchen's list
    of orders for later said "pickup at tomorrow 12:00"); German "um 12:00 Uhr", "morgen um
    12:00 Uhr", "am Sa. 5. Dez. um 12:00 Uhr"."""
    if value is None:
        return ""
    local, today, clock = _on_clock(value, timezone, now)
    if local.date() == today:
        return i18n.pgettext("moment in a sentence", "at %(time)s") % {"time": clock}
    if local.date() == today + timedelta(days=1):
        return i18n.pgettext("moment in a sentence", "%(day)s at %(time)s") % {
            "day": day_label(local.date(), today, in_sentence=True), "time": clock}
    return i18n.pgettext("moment in a sentence", "on %(date)s at %(time)s") % {
        "date": weekday_date(local.date()), "time": clock}


def local_datetime(value: datetime | None, timezone: str) -> str:
    """Date and time in the restaurant's zone, e.g. "2026-12-01 14:40"."""
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M") if value else ""


def _date(local: datetime) -> str:
    return _date_of(local.date(), i18n.current())


@lru_cache(maxsize=1024)
def _date_of(day: date, language: str) -> str:
    # Called in `language` (the current one), so gettext answers in it too.
    # Translators: a Babel (CLDR) date pattern for a deadline or payment date in an email,
    # "2 Dec 2026" (the day without a leading zero, as in "Wed 2 Dec").
    return babel_dates.format_date(day, i18n.gettext("d MMM y"), locale=i18n._locale(language))


def format_deadline(moment: datetime | None, timezone: str) -> str:
    """A moment in the restaurant's time zone, with the date and the zone's name, for an
    email read later and elsewhere: "18:05 on 2 Dec 2026 (CET)"."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    return i18n.gettext("%(time)s on %(date)s (%(zone)s)") % {
        "time": _clock(local), "date": _date(local), "zone": local.tzname()}


def local_time_named(moment: datetime | None, timezone: str) -> str:
    """A time of today in the restaurant's zone, named, for an email: "14:40 (CET)"."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    return f"{_clock(local)} ({local.tzname()})"


# "Pickup at 19:30 on Wed 2 Dec (CET)", one sentence per fulfilment so a translation can
# order its words freely.
SCHEDULED_SENTENCES = {
    "pickup": i18n.N_("Pickup at %(time)s on %(date)s (%(zone)s)"),
    "delivery": i18n.N_("Delivery at %(time)s on %(date)s (%(zone)s)"),
    "dine_in": i18n.N_("At your table at %(time)s on %(date)s (%(zone)s)"),
}


def scheduled_text(moment: datetime | None, fulfillment: str, timezone: str) -> str:
    """A scheduled order's slot as the diner reads it, in the current language: "Pickup at
    19:30 on Wed 2 Dec (CET)" ("" for an order as soon as possible)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    sentence = SCHEDULED_SENTENCES.get(fulfillment, SCHEDULED_SENTENCES["pickup"])
    return i18n.gettext(sentence) % {"time": _clock(local), "date": weekday_date(local.date()),
                                     "zone": local.tzname()}


def _formatted(context: Context, text: str, variables: dict[str, object]) -> str:
    """Jinja's newstyle rules: Markup where the template autoescapes (so the variables are
    escaped, the message is not), and always a format string (`100 %%` shows `100 %`)."""
    if context.eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - our own catalog's message, as Jinja does
    return text % variables if variables or "%" in text else text


# Newstyle gettext as Jinja's i18n extension installs it, in one call instead of three:
# `_` resolved `gettext` and called it through the context, which called ours through the
# context again. An email (HTML, text, CSS inlined) now takes 18 % fewer instructions
# (callgrind); every board and status frame calls `_` too.
@pass_context
def _gettext(context: Context, message: str, /, **variables: object) -> str:
    return _formatted(context, i18n.gettext(message), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, /,
              **variables: object) -> str:
    variables.setdefault("num", num)
    return _formatted(context, i18n.ngettext(singular, plural, num), variables)


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str, /, **variables: object) -> str:
    return _formatted(context, i18n.pgettext(msgctxt, message), variables)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates (templates/) and components (components/), every value HTML-escaped."""
    env = Environment(
        loader=FileSystemLoader([paths.TEMPLATES, paths.COMPONENTS]),
        autoescape=True,
        # Re-reading templates whose file changed is for people editing them (dev); elsewhere
        # it is a stat() per template per render, kitchen fan-outs included.
        auto_reload=get_settings().environment == "dev",
        # {% trans %} and _() (Babel extracts them: babel.cfg); whitespace inside a trans
        # block is collapsed, so a msgid does not depend on how a template is wrapped.
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    # Newstyle: _("… %(name)s", name=x) escapes x in HTML; the language is the request's
    # (app.infra.i18n.settle) or the order's for an email (i18n.use).
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)
    # The extension's compile-time newstyle switch stays on; its callables give way to ours.
    env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext)
    env.globals["current_language"] = i18n.current
    env.globals["language_names"] = i18n.NAMES
    env.globals["place_zones"] = hours.place_zones  # the time-zone field's choices
    env.globals["server_since"] = SERVER_SINCE  # this web process's start (kitchen board)
    # the 403 page's way to a staff member's own pages (app.infra sits below accounts)
    env.globals["staff_link_of"] = _staff_link_of
    env.filters["number"] = format_number
    env.filters["money"] = format_money
    env.filters["hhmm"] = format_time
    env.filters["deadline"] = format_deadline
    env.filters["clock"] = local_clock
    env.filters["pause_until"] = pause_until
    env.filters["day_clock"] = day_clock
    env.filters["day_at"] = day_at
    env.filters["local_datetime"] = local_datetime
    env.filters["long_date"] = long_date
    env.globals["scheduled_text"] = scheduled_text
    env.filters["vat_rate"] = format_rate  # 700 → "7" (a VAT rate in hundredths of a percent)
    env.filters["modifiers_label"] = modifiers_label  # "Size: L; Extras: Cheese, Olives"
    env.filters["allergen_labels"] = allergen_labels  # ["gluten"] → ["Gluten"]
    env.filters["order_contains"] = order_contains  # cart lines → "Gluten, Nuts (Pesto)"
    env.filters["reject_said"] = reject_said
    env.filters["dispute_told"] = dispute_told  # "warning_needs_response" → what to do
    return env


def reject_said(reason: str) -> str:
    """A rejected order's reason as the diner reads it, in their language when the system
    gave it (app/orders/reject_reasons.py); a cook's own words as written."""
    return reject_reasons.said(reason)


@lru_cache(maxsize=1)
def email_environment() -> Environment:
    """The same loader, filters and components, with the rules an email needs: a missing
    value is an error, not a blank (a sent email cannot be corrected); .txt templates are
    not HTML-escaped (customer-supplied text still is, in .html); block tags leave no stray
    blank lines in plain text. A cache of its own (an overlay would otherwise start with
    the pages' compiled templates, which carry the pages' rules)."""
    return environment().overlay(
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        # Unbounded: a plain dict. The email templates are a fixed few dozen files, and
        # Jinja's LRU cache (a lock and an O(n) deque move on every hit; twelve lookups an
        # email with its components) was a seventh of an email's rendering.
        cache_size=-1,
    )


def precompile(*names: str, env: Environment | None = None) -> int:
    """Compiles `names` and every template they include, import or extend, into the
    cache of `env` (the pages' environment by default); returns how many. A template is
    otherwise compiled at its first render: for the live frames that is in the middle of the
    first fan-out after a start
    (py-spy, first 8 s of a platform run: a fifth of the web's samples compiling
    kitchen_changes.html, order_card.html and their includes)."""
    env = env or environment()
    done: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        env.get_template(name)
        source = env.loader.get_source(env, name)[0] if env.loader else ""
        todo.extend(found for found in meta.find_referenced_templates(env.parse(source))
                    if found)
    return len(done)


def template_engine() -> JinjaTemplateEngine:
    """Litestar's engine over the one environment (it adds url_for, csrf_token, …)."""
    return JinjaTemplateEngine.from_environment(environment())
