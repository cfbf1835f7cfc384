"""Resend's email schemas, vendored from its OpenAPI document, and validators built on them.

`openapi_emails.json` holds only the component schemas the sandbox needs (and everything they
reference). `extract_components()` rebuilds it from the full document so a test can check the
vendored copy still matches `../shared/reference/resend-openapi.yaml`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

VENDORED_PATH = Path(__file__).with_name("openapi_emails.json")
ROOTS = (
    "SendEmailRequest",
    "SendEmailResponse",
    "CreateBatchEmailsResponse",
    "Email",
    "EmailSentEvent",
    "EmailDeliveredEvent",
    "EmailDeliveryDelayedEvent",
    "EmailBouncedEvent",
    "EmailComplainedEvent",
    "EmailFailedEvent",
    "EmailSuppressedEvent",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def extract_components(document: dict[str, Any], roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    """`{"components": {"schemas": {...}}}` with the roots and their transitive references."""
    schemas = document["components"]["schemas"]
    wanted: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted[name] = schemas[name]
        todo.extend(_refs(schemas[name]) - wanted.keys())
    return {"components": {"schemas": dict(sorted(wanted.items()))}}


@cache
def vendored() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VENDORED_PATH.read_text())
    return data


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for one component; `$ref`s resolve inside the vendored document."""
    doc = vendored()
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return Draft202012Validator(schema)


def batch_request_validator() -> Draft202012Validator:
    doc = vendored()
    schema = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/SendEmailRequest"},
        "components": doc["components"],
    }
    return Draft202012Validator(schema)


def errors(name: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<body>'}: {e.message}"
        for e in validator(name).iter_errors(instance)
    ]
