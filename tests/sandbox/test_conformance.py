"""Conformance with the providers' published references in ../shared/reference (if present)
and with the typed resources of the installed `stripe` SDK (the API version it pins).

Stripe objects must carry every key of Stripe's example object with the same JSON type (null
matches anything); against the SDK, every key is one the SDK declares, every field it declares
as never-null is present, and every value of an enumerated field is one of its values (e.g.
`ui_mode`). The vendored Resend schema must equal what we extract from Resend's OpenAPI.
"""

from __future__ import annotations

import json
import types
import typing
from decimal import Decimal
from typing import Any, Literal, Union

import pytest
import stripe
import yaml

from app.sandbox.resend.schema import VENDORED_PATH, extract_components
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.webhook_receiver import REFERENCE, session_params

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
    other = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(other.id)
    other_pi = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(other.id).payment_intent
    )
    dispute = sandbox.open_dispute(other_pi.latest_charge)
    return {
        "checkout.session": session.to_dict(),
        "payment_intent": pi.to_dict(),
        "refund": refund.to_dict(),
        "item": item.to_dict(),
        "event": event.to_dict(),
        "charge": charge,
        "dispute": dispute,
    }


KINDS = ["checkout.session", "payment_intent", "refund", "item", "event", "charge", "dispute"]


@pytest.mark.parametrize("kind", KINDS)
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


SDK_CLASSES: dict[str, type] = {
    "checkout.session": stripe.checkout.Session,
    "payment_intent": stripe.PaymentIntent,
    "refund": stripe.Refund,
    "item": stripe.LineItem,
    "event": stripe.Event,
    "charge": stripe.Charge,
    "dispute": stripe.Dispute,
}


def _declared(cls: type) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        fields.update(getattr(klass, "__annotations__", {}))
    return {name: kind for name, kind in fields.items() if not name.startswith("_")
            and name != "OBJECT_NAME"}


def _parts(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def sdk_problems(ours: dict[str, Any], cls: type) -> list[str]:
    """What the SDK's typed resource (its API version) says of a top-level object."""
    declared = _declared(cls)
    problems = [f"{key}: not a field of {cls.__name__}" for key in ours if key not in declared]
    for name, annotation in declared.items():
        parts = _parts(annotation)
        nullable = type(None) in parts
        if name not in ours:
            if not nullable:
                problems.append(f"{name}: missing (never null in the SDK)")
            continue
        value = ours[name]
        if value is None:
            if not nullable:
                problems.append(f"{name}: null, but the SDK says never null")
            continue
        allowed = {arg for part in parts for inner in _parts(part)
                   if typing.get_origin(inner) is Literal for arg in typing.get_args(inner)}
        if allowed and isinstance(value, str) and value not in allowed:
            problems.append(f"{name}: {value!r} is not one of {sorted(allowed)}")
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_stripe_objects_match_the_sdk_api_version(
    kind: str, produced: dict[str, dict[str, Any]], sandbox: RunningSandbox
) -> None:
    assert sdk_problems(produced[kind], SDK_CLASSES[kind]) == []
    response = sandbox.http.get("/v1/events", headers={"Authorization": "Bearer sk_test_x"})
    assert response.headers["stripe-version"] == stripe.api_version
    if kind == "event":
        assert produced[kind]["api_version"] == stripe.api_version
    if kind == "checkout.session":
        assert produced[kind]["ui_mode"] == "hosted_page"
