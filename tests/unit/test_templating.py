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
