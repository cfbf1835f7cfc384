"""Checkout errors in the diner's language: intake's sentences for people are recognised and
said again from the catalog with what they name; an English sentence no German diner would be
shown is replaced by the field's plain message; English stays as intake wrote it."""

from __future__ import annotations

from app.infra import i18n
from app.orders.form_messages import CHECK_DISHES, plain_errors, translated

FROM_INTAKE = {
    "items[0].menu_item_id": "Lemonade is sold out",
    "restaurant": "Demo Bistro has paused new orders until 14:30",
    "total": "the order totals €0.30; card payments must be at least €0.50",
    "email": "The email address is not valid. It must have exactly one @-sign.",
    "name": "Expected `str` of length >= 1",
    "items[1].quantity": "Expected `int` <= 99",
    "tip_custom": "Tip: something only English explains",
}


def test_english_keeps_intakes_words_and_plain_ones() -> None:
    shown = plain_errors(FROM_INTAKE)
    assert shown["items[0].menu_item_id"] == "Lemonade is sold out."
    assert shown["restaurant"] == "Demo Bistro has paused new orders until 14:30."
    assert shown["total"] == ("The order totals €0.30; card payments must be at least "
                              "€0.50.")
    assert shown["email"].startswith("The email address is not valid.")
    assert shown["name"] == "Please enter your name."
    assert shown["tip_custom"] == "Tip: something only English explains."


def test_german_says_every_one_in_german() -> None:
    with i18n.use("de"):
        shown = plain_errors(FROM_INTAKE)
    assert shown == {
        "items[0].menu_item_id": "Lemonade ist ausverkauft.",
        "restaurant": "Demo Bistro nimmt bis 14:30 Uhr keine neuen Bestellungen an.",
        "total": ("Die Bestellung beträgt €0.30; Kartenzahlungen müssen mindestens €0.50 "
                  "betragen."),
        "email": "Bitte geben Sie Ihre E-Mail-Adresse ein, z. B. name@example.com.",
        "name": "Bitte geben Sie Ihren Namen ein.",
        "items[1].quantity": "Sie können von einem Gericht 1 bis 99 Stück bestellen.",
        "tip_custom": "Bitte geben Sie das Trinkgeld als Betrag ein.",
    }


def test_a_mode_the_restaurant_does_not_offer_names_those_it_does() -> None:
    """The modes as people write them mid-sentence (English: lower case; German nouns keep
    their capital), those offered joined with "or"."""
    refused = {"fulfillment": "Demo Bistro does not offer delivery; it offers: pickup, dine_in"}
    one = {"fulfillment": "Demo Bistro does not offer dine_in; it offers: pickup"}
    assert plain_errors(refused) == {"fulfillment": (
        "Demo Bistro does not offer delivery. Choose pickup or dine-in instead.")}
    assert plain_errors(one) == {"fulfillment": (
        "Demo Bistro does not offer dine-in. Choose pickup instead.")}
    with i18n.use("de"):
        assert plain_errors(refused) == {"fulfillment": (
            "Demo Bistro bietet keine Lieferung an. Wählen Sie stattdessen Abholung oder Essen "
            "vor Ort.")}
        assert plain_errors(one) == {"fulfillment": (
            "Demo Bistro bietet kein Essen vor Ort an. Wählen Sie stattdessen Abholung.")}


def test_a_mode_turned_off_since_the_order_says_so_and_asks_nothing() -> None:
    """A new payment link refused on the status page: no choice to make there."""
    gone = "Demo Bistro no longer offers delivery"
    assert translated(gone, CHECK_DISHES) == "Demo Bistro no longer offers delivery."
    assert translated("Demo Bistro no longer offers dine_in", CHECK_DISHES) == (
        "Demo Bistro no longer offers dine-in.")
    with i18n.use("de"):
        assert translated(gone, CHECK_DISHES) == "Demo Bistro bietet keine Lieferung mehr an."
        assert translated("Demo Bistro no longer offers pickup", CHECK_DISHES) == (
            "Demo Bistro bietet keine Abholung mehr an.")


def test_the_card_maximum_is_said_with_what_to_do() -> None:
    """Intake's refusal of a total above Stripe's largest charge (app/orders/intake.py)."""
    refused = {"total": "the order totals €1,000,000.00; card payments can be at most "
                        "€999,999.99: split it into smaller orders"}
    assert plain_errors(refused) == {"total": (
        "The order totals €1,000,000.00; card payments can be at most €999,999.99: split it "
        "into smaller orders.")}
    with i18n.use("de"):
        assert plain_errors(refused) == {"total": (
            "Die Bestellung beträgt €1,000,000.00; Kartenzahlungen können höchstens "
            "€999,999.99 betragen: Bitte teilen Sie sie in kleinere Bestellungen auf.")}


# Addresses a phone's keyboard gets wrong, each refused by email_validator for its own reason.
MISTYPED = ["ada", "@example.com", "ada@", "ada@gmail", "ada@firma.test", "ad a@example.com",
            "ada@example,com", "ada@example..com", "ada.@example.com", "ada@.example.com",
            ".ada@example.com", "ada@example.com."]


def _refusals() -> list[str]:
    from email_validator import EmailNotValidError, validate_email

    refusals = []
    for address in MISTYPED:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            refusals.append(str(error))
    assert len(refusals) == len(MISTYPED)  # each one is refused
    return refusals


def test_each_email_mistake_is_named_in_the_diners_language() -> None:
    """The address's own reason ("the part after the @-sign should have a period"), not one
    sentence for every mistake: in German it was the generic "please enter your address"
    for a reserved domain, a missing dot, a comma."""
    refusals = _refusals()
    english = [plain_errors({"email": message})["email"] for message in refusals]
    assert english == refusals  # said as email_validator wrote them
    with i18n.use("de"):
        german = [plain_errors({"email": message})["email"] for message in refusals]
    assert len(set(german)) >= 10, german  # not one generic sentence
    for said in german:
        assert "@-sign" not in said and "period" not in said and "address" not in said, said
    assert german[3] == ("Der Teil nach dem @-Zeichen ist ungültig: Es fehlt ein Punkt, "
                         "z. B. name@example.com.")
    assert german[6] == "Der Teil nach dem @-Zeichen enthält ungültige Zeichen: ','."


def test_last_orders_and_a_pause_past_closing_are_said_in_german() -> None:
    """Intake's frame is English, the opening inside it already in the diner's language
    (app/restaurants/opening.py): the frame is said again in German around it."""
    with i18n.use("de"):
        shown = plain_errors({
            "scheduled_for": "Demo Bistro takes no more orders now (last orders were at "
                             "22:45): Öffnet morgen um 12:00 Uhr. Choose a time to order for "
                             "later.",
            "restaurant": "Demo Bistro has paused new orders: Öffnet morgen um 12:00 Uhr."})
    assert shown == {
        "scheduled_for": "Demo Bistro nimmt jetzt keine Bestellungen mehr an (Bestellschluss "
                         "war um 22:45 Uhr): Öffnet morgen um 12:00 Uhr. Wählen Sie eine "
                         "Uhrzeit, um für später zu bestellen.",
        "restaurant": "Demo Bistro nimmt gerade keine neuen Bestellungen an: Öffnet morgen um "
                      "12:00 Uhr."}
