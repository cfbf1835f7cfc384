"""Conformance with the providers' published references in ../shared/reference (if present).

Stripe objects must carry every key of Stripe's example object with the same JSON type (null
matches anything); the vendored Resend schema must equal what we extract from Resend's OpenAPI.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import stripe
import yaml

from app.sandbox.resend.schema import VENDORED_PATH, extract_components
from tests.helpers.sandbox import RunningSandbox
from tests.sandbox.conftest import REFERENCE, session_params

FIXTURES = REFERENCE / "stripe-fixtures3.json"
OPENAPI = REFERENCE / "resend-openapi.yaml"


def _load_fixtures() -> dict[str, Any]:
    if not FIXTURES.is_file():
        pytest.skip(f"Stripe reference not present at {FIXTURES} (fresh clone without ../shared)")
    resources: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
    return resources


def _kind(value: Any) -> str:
    if isinstance(value, Decimal):  # the SDK decodes Stripe's decimal strings
        return "str"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_problems(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Keys missing from ours, or present with another JSON type (null on either side is ok)."""
    if ours is None or theirs is None:
        return []
    if _kind(ours) != _kind(theirs):
        return [f"{path or '<root>'}: {_kind(ours)} != {_kind(theirs)}"]
    problems: list[str] = []
    if isinstance(theirs, dict):
        for key, value in theirs.items():
            if key not in ours:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += shape_problems(ours[key], value, f"{path}.{key}")
    return problems


@pytest.fixture
def produced(sandbox: RunningSandbox, client: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    session = client.v1.checkout.sessions.retrieve(session.id)
    pi = client.v1.payment_intents.retrieve(session.payment_intent)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    item = client.v1.checkout.sessions.line_items.list(session.id).data[0]
    event = client.v1.events.list(params={"limit": 1}).data[0]
    charge = sandbox.http.get(
        f"/v1/charges/{pi.latest_charge}", headers={"Authorization": "Bearer sk_test_x"}
    ).json()
    return {
        "checkout.session": session.to_dict(),
        "payment_intent": pi.to_dict(),
        "refund": refund.to_dict(),
        "item": item.to_dict(),
        "event": event.to_dict(),
        "charge": charge,
    }


@pytest.mark.parametrize(
    "kind", ["checkout.session", "payment_intent", "refund", "item", "event", "charge"]
)
def test_stripe_objects_match_published_examples(
    kind: str, produced: dict[str, dict[str, Any]]
) -> None:
    fixture = _load_fixtures()[kind]
    ours = produced[kind]
    if kind == "event":  # the example wraps a plan; compare the envelope only
        fixture = {k: v for k, v in fixture.items() if k != "data"}
    assert shape_problems(ours, fixture) == []
    assert ours["object"] == fixture["object"]


def test_vendored_resend_schema_matches_reference() -> None:
    if not OPENAPI.is_file():
        pytest.skip(f"Resend reference not present at {OPENAPI} (fresh clone without ../shared)")
    document = yaml.safe_load(OPENAPI.read_text())
    assert json.loads(VENDORED_PATH.read_text()) == extract_components(document)
    assert "/emails" in document["paths"] and "/emails/batch" in document["paths"]
