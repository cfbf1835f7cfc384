"""One Jinja environment for pages and emails: the same loader, components and formats;
emails add their own strictness on top."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from app.orders.models import LineModifier
from app.templating import email_environment, environment


def test_pages_and_emails_share_loader_and_formats() -> None:
    pages, emails = environment(), email_environment()
    assert emails.loader is pages.loader
    assert emails.filters is pages.filters
    assert pages.from_string("{{ 1150 | money('eur') }}").render() == "€11.50"


def test_emails_refuse_a_missing_value_where_pages_leave_it_blank() -> None:
    pages, emails = environment(), email_environment()
    pages.get_template("order_lines.txt")  # a page-side compile must not leak into emails
    assert pages.from_string("[{{ missing }}]").render() == "[]"
    with pytest.raises(UndefinedError):
        emails.from_string("[{{ missing }}]").render()
    with pytest.raises(UndefinedError):
        emails.get_template("order_lines.txt").render()


def test_emails_escape_html_but_not_plain_text() -> None:
    emails = email_environment()
    assert emails.from_string("{{ v }}").render(v="<b>&") == "&lt;b&gt;&amp;"
    lines = emails.get_template("order_lines.txt")
    order = {"lines": [{"quantity": 1, "name": "Fish & <Chips>", "notes": "", "allergy": "",
                        "line_total": 900, "modifiers": [
                            LineModifier(group="Sauce", name="<Tartar> & lemon")]}],
             "currency": "eur"}
    text = lines.render(lines=order["lines"], currency="eur")
    assert "1 x Fish & <Chips>  €9.00" in text
    assert "Sauce: <Tartar> & lemon" in text  # the options, unescaped in plain text


GETTEXT_CASES = [
    '{{ _("Follow your order") }}',
    '{{ _("Your note: %(note)s", note=v) }}',
    '{{ _("A tip can be at most the price of the food (100 %%).") }}',
    '{{ _("VAT %(rate)s%%", rate=v) }}',
    '{{ ngettext("%(num)d item", "%(num)d items", n) }}',
    '{{ ngettext("%(num)d item", "%(num)d items", n, extra=v) }}',
    '{{ gettext("Phone") }}',
    '{% trans name=v %}Thanks, {{ name }}!{% endtrans %}',
    '{% trans count=n %}{{ count }} item{% pluralize %}{{ count }} items{% endtrans %}',
]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("source", GETTEXT_CASES)
@pytest.mark.parametrize("autoescape", [True, False])
def test_gettext_renders_as_jinjas_own_newstyle_gettext(source: str, language: str,
                                                         autoescape: bool) -> None:
    """Our one-call `_`/`gettext`/`ngettext` give what Jinja's i18n extension gives: the
    message translated, the variables escaped where the template escapes, `%%` as `%`."""
    from jinja2 import Environment

    from app.infra import i18n

    reference = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    reference.policies["ext.i18n.trimmed"] = True
    reference.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)
    ours = environment().overlay(autoescape=autoescape)
    values = {"v": "<b>Fish & Chips</b>", "n": 3}
    with i18n.use(language):
        expected = reference.from_string(source).render(values)
        assert ours.from_string(source).render(values) == expected
    if autoescape and "=v" in source and "extra" not in source:
        assert "&lt;b&gt;" in expected  # the case does test escaping
