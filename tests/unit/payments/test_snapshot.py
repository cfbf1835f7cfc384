"""The snapshot a Checkout Session carries: every order intake accepts fits Stripe's metadata
limits (50 keys, 40-character keys, 500-character values) and reads back exactly."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from app.orders.models import Customer, OrderLine, TempOrder
from app.orders.pricing import MAX_RATE, TIP_CAP
from app.orders.schemas import MAX_LINES, CustomerIn, OrderIn, OrderItemIn
from app.payments import snapshot
from app.payments.stripe_gateway import session_metadata

WORST = '"\\\x01' * 200  # quotes, backslashes and control characters: JSON's worst case


def _limit(struct: type, field: str) -> int:
    """The intake's max_length for a field (so the test follows the schema)."""
    import msgspec

    info = msgspec.inspect.type_info(struct)
    [found] = [f for f in info.fields if f.name == field]  # type: ignore[attr-defined]
    kind = found.type
    while isinstance(kind, msgspec.inspect.Metadata):  # a description wraps the type
        kind = kind.type
    return int(kind.max_length)


def largest_order() -> TempOrder:
    note, allergy = _limit(OrderItemIn, "notes"), _limit(OrderItemIn, "allergy")
    return TempOrder(
        id="TEMP-" + "x" * 22, restaurant_id=1, restaurant_slug="s" * 64, restaurant_name="R",
        currency="eur", capture_mode="automatic",
        lines=[OrderLine(menu_item_id=2**31 - 1, name="n" * 120, unit_amount=10_000_000,
                         quantity=99, notes=WORST[:note], allergy=WORST[:allergy],
                         tax_rate=MAX_RATE - 1)  # the longest rate: "99.99 %"
               for _ in range(MAX_LINES)],
        total_amount=1, customer=Customer(name=WORST[:_limit(CustomerIn, "name")],
                                          email="a@b.c", phone=WORST[:_limit(CustomerIn,
                                                                             "phone")]),
        fulfillment="delivery", created_at=datetime(2026, 12, 1, tzinfo=UTC),
        delivery_address=WORST[:_limit(OrderIn, "delivery_address")],
        table_label=WORST[:_limit(OrderIn, "table")], notes=WORST[:_limit(OrderIn, "notes")],
        allergy=WORST[:_limit(OrderIn, "allergy")], tax_mode="included", tip_amount=TIP_CAP,
        language="de",  # a non-English order carries its language too
        scheduled_for=datetime(2026, 12, 24, 18, 45, tzinfo=UTC), prep_minutes=1440)


def test_the_largest_order_fits_stripes_metadata_limits() -> None:
    metadata = session_metadata(largest_order())
    assert len(metadata) <= snapshot.MAX_KEYS
    assert all(len(key) <= 40 and len(value) <= 500 for key, value in metadata.items())


def test_the_snapshot_reads_back_exactly() -> None:
    order = largest_order()
    found = snapshot.decode(snapshot.encode(order))
    assert found == snapshot.snapshot_of(order)
    assert found["i"][0][2] == order.lines[0].notes  # nothing shortened
    assert found["y"][1][-1] == order.lines[-1].allergy
    assert found["x"] == [TIP_CAP, "included", [MAX_RATE - 1] * len(order.lines)]
    assert found["l"] == "de"
    assert found["w"] == [int(datetime(2026, 12, 24, 18, 45, tzinfo=UTC).timestamp()), 1440]


def test_an_english_order_spends_no_key_on_its_language() -> None:
    order = largest_order()
    order.language = "en"
    assert "l" not in snapshot.snapshot_of(order)


def test_an_order_without_tip_or_vat_carries_neither() -> None:
    order = largest_order()
    order.tip_amount = 0
    order.lines = [OrderLine(menu_item_id=1, name="n", unit_amount=1, quantity=1)]
    assert "x" not in snapshot.snapshot_of(order)


def test_a_cut_or_missing_snapshot_is_reported_not_guessed() -> None:
    parts = snapshot.encode(largest_order())
    del parts[max(parts)]
    with pytest.raises(snapshot.SnapshotUnreadable):
        snapshot.decode(parts)
    with pytest.raises(snapshot.SnapshotUnreadable):
        snapshot.decode({"temp_order_id": "TEMP-x"})


def test_sessions_from_before_the_split_still_read() -> None:
    assert snapshot.decode({"snapshot": '{"n": "Ada", "i": [[1, 2, "hot"]]}'})["n"] == "Ada"


def test_the_app_knows_at_least_the_sandboxs_minimums() -> None:
    from app.payments.charge_limits import MINIMUM_CHARGE
    from app.sandbox.stripe.minimums import MINIMUM_CHARGE as STRIPES

    assert MINIMUM_CHARGE == STRIPES


def test_the_app_and_the_sandbox_agree_on_the_largest_charge() -> None:
    """Intake refuses what Stripe would refuse (app/payments/charge_limits.py); the sandbox
    refuses the same (app/sandbox/stripe/minimums.py): eight digits, twelve for IDR."""
    from app.payments import charge_limits
    from app.sandbox.stripe import minimums

    assert charge_limits.MAXIMUM_CHARGE == minimums.MAXIMUM_CHARGE == {"idr": 999_999_999_999}
    assert charge_limits.DEFAULT_MAXIMUM == minimums.DEFAULT_MAXIMUM == 99_999_999
    for currency in ("eur", "EUR", "jpy", "huf", "idr", "xyz"):
        assert charge_limits.maximum_charge(currency) == minimums.maximum_charge(currency)
    # Intake's limit: also what a paid order's `integer` columns hold, in what people read.
    assert charge_limits.largest_order("eur") == charge_limits.largest_order("jpy") == 99_999_999
    assert charge_limits.largest_order("huf") == 99_999_900  # 999,999 Ft: shown whole
    assert charge_limits.largest_order("idr") == 2_147_483_600  # under 2**31 - 1


# -- options (modifiers) -----------------------------------------------------------------

def _with_options(order: TempOrder, per_line: int, name_length: int = 40) -> TempOrder:
    from app.orders.models import LineModifier

    group = ["G" * name_length, "H" * (name_length - 1)]
    order.lines = [msgspec.structs.replace(line, modifiers=[
        LineModifier(group=group[index % 2], name=f"{index}" + "o" * (name_length - 2),
                     delta=1_000_000, option=2**31 - 1 - index) for index in range(per_line)])
        for line in order.lines]
    return order


def test_options_read_back_from_the_line_name_and_the_snapshot() -> None:
    from app.orders.models import LineModifier

    mods = [LineModifier("Size", "L", 400, 12), LineModifier("Extras", "Cheese, extra", 100, 20),
            LineModifier("Extras", "Olives; (black)", 80, 21), LineModifier("Note", ": )", 0, 30)]
    line = OrderLine(menu_item_id=1, name="Pizza (big)", unit_amount=1480, quantity=1,
                     modifiers=mods)
    name = snapshot.line_name(line)
    assert name == "Pizza (big) (Size: L; Extras: Cheese, extra, Olives; (black); Note: : ))"
    order = largest_order()
    order.lines = [line, OrderLine(menu_item_id=2, name="Soup", unit_amount=500, quantity=1)]
    found = snapshot.decode(snapshot.encode(order))
    assert found["m"][1] == []
    assert snapshot.split_line_name(name, found["m"][0]) == ("Pizza (big)", mods)
    assert snapshot.split_line_name(name.replace("Cheese", "Chees"), found["m"][0]) is None
    assert snapshot.split_line_name(name, ["x"]) is None


def test_an_order_without_options_carries_none() -> None:
    assert "m" not in snapshot.snapshot_of(largest_order())


def test_a_full_order_of_dishes_with_options_fits() -> None:
    """50 lines, each with 10 options of 40-character names and the largest deltas, a tip,
    VAT rates and a short note: within Stripe's limits, names in the line items."""
    order = _with_options(largest_order(), per_line=10)
    order.lines = [msgspec.structs.replace(line, notes="no onions", allergy="")
                   for line in order.lines]
    order.customer = Customer(name="Ada", email="a@b.c")
    order.delivery_address = order.table_label = order.notes = order.allergy = ""
    metadata = session_metadata(order)
    assert len(metadata) <= snapshot.MAX_KEYS
    found = snapshot.decode(snapshot.encode(order))
    name = snapshot.line_name(order.lines[-1])
    assert snapshot.split_line_name(name, found["m"][-1]) == (order.lines[-1].name,
                                                              order.lines[-1].modifiers)


def test_the_worst_order_with_options_is_refused_rather_than_sent() -> None:
    """Every note and allergy at its limit AND ten options a line cannot fit: encode refuses
    it (intake answers 422 before anything is stored, tests/integration/orders)."""
    with pytest.raises(snapshot.SnapshotTooLarge):
        snapshot.encode(_with_options(largest_order(), per_line=10))
