"""Decoding Stripe's form-encoded bodies and query strings with nested keys.

`line_items[0][price_data][unit_amount]=1200&metadata[k]=v&expand[]=x` becomes
`{"line_items": [{"price_data": {"unit_amount": "1200"}}], "metadata": {"k": "v"},
"expand": ["x"]}`. Values stay strings; `coerce_*` helpers turn them into typed values and
raise `StripeError` with Stripe's messages.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from app.sandbox.stripe.errors import StripeError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are all digits (or the `[]` marker) into lists, recursively."""
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
        return node
    return node


def decode_form(body: bytes | str) -> dict[str, Any]:
    text = body.decode() if isinstance(body, bytes) else body
    return decode_pairs(parse_qsl(text, keep_blank_values=True))


def decode_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            raise StripeError(f"Invalid parameter name: {raw_key}", param=raw_key)
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `expand[]=a&expand[]=b`
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise StripeError(f"Invalid parameter name: {raw_key}", param=raw_key)
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def coerce_int(value: Any, param: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise StripeError(f"Invalid integer: {value}", param=param)


def coerce_bool(value: Any, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError(f"Invalid boolean: {value}", param=param)


def coerce_str_map(value: Any, param: str) -> dict[str, str]:
    if value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StripeError(f"Invalid hash: {param}", param=param)
    if len(value) > 50:
        raise StripeError("Invalid metadata: metadata can have up to 50 keys", param=param)
    for k, v in value.items():
        if len(k) > 40:
            raise StripeError(f"Invalid {param}: keys can be at most 40 characters", param=param)
        if len(v) > 500:
            raise StripeError(
                f"Invalid {param}: values can be at most 500 characters", param=f"{param}[{k}]"
            )
    return {k: v for k, v in value.items() if v != ""}


def check_known(params: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    """Stripe rejects any parameter it does not know."""
    for key in params:
        if key not in allowed:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeError(f"Received unknown parameter: {name}", param=name)


def range_filter(value: Any, param: str) -> dict[str, int]:
    """`created=123` or `created[gte]=123` → {"eq"|"gt"|"gte"|"lt"|"lte": int}."""
    if isinstance(value, dict):
        check_known(value, {"gt", "gte", "lt", "lte"}, param)
        return {op: coerce_int(v, f"{param}[{op}]") for op, v in value.items()}
    return {"eq": coerce_int(value, param)}


def in_range(ts: int, flt: dict[str, int]) -> bool:
    return all(
        {
            "eq": ts == bound,
            "gt": ts > bound,
            "gte": ts >= bound,
            "lt": ts < bound,
            "lte": ts <= bound,
        }[op]
        for op, bound in flt.items()
    )
