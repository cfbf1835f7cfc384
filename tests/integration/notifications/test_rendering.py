"""Email HTML that reads at 320 px, escapes customer text, and carries the required facts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.notifications.compose import RestaurantContact, render_email
from app.notifications.service import EMAIL_KINDS
from app.orders.models import Customer, OrderLine, OrderView

# Input rules and wording: no server version changes them (not in the standalone run).
pytestmark = pytest.mark.server_agnostic

EVIL = "<script>alert(1)</script>"


def order(**overrides: object) -> OrderView:
    fields: dict[str, object] = dict(
        id="TEMP-abcdefghijklmnop", status="awaiting_payment", restaurant_id=1,
        restaurant_slug="demo", restaurant_name="Demo Bistro", currency="eur",
        lines=[OrderLine(menu_item_id=1, name=f"Soup {EVIL}", unit_amount=650, quantity=2,
                         notes=f"no onion {EVIL}")],
        total_amount=1300, customer=Customer(name=f"Ann {EVIL}", email="ann@example.com"),
        fulfillment="pickup", submitted_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
        notes=f"ring twice {EVIL}", payment_url="https://pay.example/cs_1?a=1&b=2",
        expires_at=datetime(2026, 11, 27, 13, tzinfo=UTC), prep_minutes=20,
        reject_reason=f"out of soup {EVIL}",
    )
    fields.update(overrides)
    return OrderView(**fields)  # type: ignore[arg-type]


RESTAURANT = RestaurantContact(id=1, name="Demo Bistro", phone="+49 30 1234567",
                               email="hello@demo.test", address="Torstraße 1, 10119 Berlin",
                               timezone="Europe/Berlin")


@pytest.mark.parametrize("kind", sorted(EMAIL_KINDS))
def test_every_kind_is_mobile_friendly_and_escaped(kind: str) -> None:
    email = render_email(kind, order(), RESTAURANT, "https://orderpass.example")
    html = email.html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width: 560px" in html and "width: 100%" in html
    # Nothing wider than the smallest phone: no fixed pixel widths above 320.
    # (max-width only caps the container, so it may be larger.)
    for value in re.findall(r"(?<!max-)width:\s*(\d+)px", html):
        assert int(value) <= 320
    for value in re.findall(r'width="(\d+)"', html):
        assert int(value) <= 320
    assert html.count('style="') > 10  # the stylesheet was inlined onto elements
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "https://orderpass.example/orders/TEMP-abcdefghijklmnop" in html
    assert "https://orderpass.example/orders/TEMP-abcdefghijklmnop" in email.text
    assert "+49 30 1234567" in html and "Torstraße 1" in email.text  # restaurant contact
    assert "\n" not in email.subject


def test_confirmation_has_summary_total_link_deadline_and_prep_time() -> None:
    email = render_email("order_confirmation", order(), RESTAURANT, "https://x.example")
    assert "€13.00" in email.html and "Total" in email.html
    assert 'href="https://pay.example/cs_1?a=1&amp;b=2"' in email.html
    assert "Pay now: https://pay.example/cs_1?a=1&b=2" in email.text
    assert "14:00 on 27 Nov 2026 (CET)" in email.text  # deadline in the restaurant's zone
    assert "about 20 minutes" in email.text


def test_rejection_says_refunded_or_hold_released() -> None:
    """What the email says follows what happened to the money, not the capture mode."""
    refunded = render_email("order_rejected", order(status="refunded"), RESTAURANT, "https://x")
    assert "refunded in full" in refunded.text and "out of soup" in refunded.text
    assert "hold" not in refunded.text
    manual = RestaurantContact(id=1, name="Demo", capture_mode="manual")
    released = render_email("order_rejected", order(status="voided"), manual, "https://x")
    assert "hold on it has been released" in released.text
    assert "not charged" in released.text and "refunded" not in released.text
    stuck = render_email("order_rejected", order(status="rejected"), RESTAURANT, "https://x")
    assert "refunded" not in stuck.text and "alerted" in stuck.text


def test_link_expired_points_to_the_status_page() -> None:
    email = render_email("link_expired", order(status="payment_expired",
                                                expires_at=datetime.now(UTC) - timedelta(1)),
                         RESTAURANT, "https://x.example")
    assert 'href="https://x.example/orders/TEMP-abcdefghijklmnop"' in email.html
    assert "new payment link" in email.text


def test_rendering_is_deterministic() -> None:
    """A retry must send the same payload under the same Idempotency-Key."""
    first = render_email("payment_received", order(), RESTAURANT, "https://x")
    assert render_email("payment_received", order(), RESTAURANT, "https://x") == first


@pytest.mark.parametrize("kind", ["order_confirmation", "payment_received"])
def test_a_scheduled_order_says_when_on_the_restaurants_clock(kind: str) -> None:
    slot = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)  # 19:30 in Berlin (CET)
    email = render_email(kind, order(scheduled_for=slot, status="paid",
                                     paid_at=slot - timedelta(hours=2)),
                         RESTAURANT, "https://orderpass.example")
    assert "Pickup at 19:30 on Wed 2 Dec (CET)" in email.text
    assert "Pickup at 19:30 on Wed 2 Dec (CET)" in email.html
    assert "Estimated preparation time" not in email.text
    delivery = render_email(kind, order(scheduled_for=slot, fulfillment="delivery",
                                        delivery_address="Torstraße 2"),
                            RESTAURANT, "https://orderpass.example")
    assert "Delivery at 19:30" in delivery.text


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_paid_orders_emails_name_its_number_in_the_subject(language: str) -> None:
    """A diner who ordered twice tells the emails apart by the number the kitchen and the
    status page use (before payment there is none yet)."""
    paid = order(status="paid", ticket_number=42, language=language)
    for kind in ("payment_received", "order_accepted", "order_ready", "order_rejected",
                 "order_refunded"):
        subject = render_email(kind, paid, RESTAURANT, "https://x").subject
        assert "#42" in subject and "Demo Bistro" in subject, (kind, subject)
        assert ("Bestellung" in subject) == (language == "de"), subject
        assert ("order" in subject) == (language == "en"), subject
    unpaid = render_email("order_confirmation", order(language=language), RESTAURANT,
                          "https://x").subject
    assert "#" not in unpaid and "Demo Bistro" in unpaid


@pytest.mark.parametrize("kind", ["order_confirmation", "payment_received"])
def test_the_summary_names_the_orders_allergy_and_where_it_goes(kind: str) -> None:
    """The email is the diner's lasting record of what the kitchen was told: the allergy
    flagged for the whole order and the delivery address, escaped in HTML, as typed in text."""
    email = render_email(kind, order(allergy=f"sesame {EVIL}", fulfillment="delivery",
                                     delivery_address=f"Hauptstr. 1 {EVIL}"),
                         RESTAURANT, "https://x.example")
    assert "Allergy: sesame &lt;script&gt;" in email.html
    assert "Delivery to Hauptstr. 1 &lt;script&gt;" in email.html
    assert f"Allergy: sesame {EVIL}" in email.text
    assert f"Delivery to Hauptstr. 1 {EVIL}" in email.text
    table = render_email(kind, order(fulfillment="dine_in", table_label="7"), RESTAURANT,
                         "https://x.example")
    assert "Table 7" in table.html and "Table 7" in table.text


@pytest.mark.parametrize("kind", ["order_confirmation", "payment_received"])
@pytest.mark.parametrize("extra", [{}, {"notes": "ring twice"}, {"allergy": "sesame"}])
def test_in_plain_text_the_summary_keeps_one_fact_per_line(kind: str,
                                                           extra: dict[str, str]) -> None:
    """Without a note or an allergy the text ran the total into the fulfilment line:
    "Total: €13.00Pickup"."""
    text = render_email(kind, order(**{"notes": "", **extra}), RESTAURANT,
                        "https://x.example").text
    lines = text.splitlines()
    assert "Total: €13.00" in lines and "Pickup" in lines, text
    assert "" not in lines[lines.index("Total: €13.00"):lines.index("Pickup")]
